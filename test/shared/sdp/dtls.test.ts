import { describe, expect, it } from 'vitest';
import {
  answerSetupRole,
  dtlsFingerprint,
  parseSdp,
  SdpError,
  serializeSdp,
  setDtlsFingerprint,
  setSetupRole,
  setupRole,
  updateMedia,
  type SdpMedia,
  type SdpSession,
} from '../../../shared/sdp/index.ts';
import { fixture } from './fixtures/index.ts';

function first(session: SdpSession): SdpMedia {
  const media = session.media[0];
  if (media === undefined) throw new Error('no media');
  return media;
}

describe('reading the DTLS fingerprint', () => {
  it("reads Chrome's media-level fingerprint as hash and value", () => {
    const session = parseSdp(fixture('chrome-audio-offer'));
    expect(dtlsFingerprint(session, first(session))).toEqual({
      hash: 'sha-256',
      value: '38:80:C8:E3:EB:CF:C6:93:74:6E:A5:A4:49:4E:F9:FA:F3:AE:34:78:41:DF:8B:62:74:2A:2A:76:91:02:84:A5',
    });
  });

  it("falls back to Firefox's session-level fingerprint", () => {
    const session = parseSdp(fixture('firefox-audio-offer'));
    expect(dtlsFingerprint(session, first(session))?.value).toBe(
      'DA:C8:B2:8F:2A:F1:81:C9:68:1F:D7:55:43:65:C0:D9:A1:82:45:C8:18:EE:34:FA:C4:6D:94:82:BA:9E:FD:B0',
    );
  });

  it('reads an upper-case hash name as its lower-case token', () => {
    const session = parseSdp(fixture('chrome-audio-offer').replace('a=fingerprint:sha-256', 'a=fingerprint:SHA-256'));
    expect(dtlsFingerprint(session, first(session))?.hash).toBe('sha-256');
  });

  it('finds none in a plain RTP offer', () => {
    const session = parseSdp(fixture('asterisk-20-offer'));
    expect(dtlsFingerprint(session, first(session))).toBeUndefined();
  });

  it('writes a new fingerprint into a section', () => {
    const session = parseSdp(fixture('chrome-audio-offer'));
    const next = updateMedia(session, 0, (media) => setDtlsFingerprint(media, { hash: 'sha-256', value: 'AB:CD:EF' }));
    expect(serializeSdp(next)).toContain('\r\na=fingerprint:sha-256 AB:CD:EF\r\n');
  });
});

describe('the DTLS setup role', () => {
  it('reads actpass from browser offers', () => {
    for (const name of ['chrome-audio-offer', 'firefox-audio-offer'] as const) {
      const session = parseSdp(fixture(name));
      expect(setupRole(session, first(session))).toBe('actpass');
    }
  });

  it('answers actpass with active, as sipedge prefers (RFC 5763 §5), or passive when asked', () => {
    expect(answerSetupRole('actpass')).toBe('active');
    expect(answerSetupRole('actpass', 'passive')).toBe('passive');
  });

  it.each([
    ['active', 'passive'],
    ['passive', 'active'],
    ['holdconn', 'holdconn'],
    [undefined, 'passive'],
  ] as const)('answers an offered %s with %s', (offered, answered) => {
    expect(answerSetupRole(offered)).toBe(answered);
  });

  it('refuses a setup value RFC 4145 does not define', () => {
    const session = parseSdp(fixture('chrome-audio-offer').replace('a=setup:actpass', 'a=setup:both'));
    expect(() => setupRole(session, first(session))).toThrow(SdpError);
  });

  it('writes a role into a section', () => {
    const session = parseSdp(fixture('chrome-audio-offer'));
    expect(setSetupRole(first(session), 'active').setup).toBe('active');
  });
});
