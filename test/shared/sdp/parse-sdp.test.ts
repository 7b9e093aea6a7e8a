import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSdp, SdpError, serializeSdp, type SdpErrorReason } from '../../../shared/sdp/index.ts';
import { FIXTURE_NAMES, fixture } from './fixtures/index.ts';

function sdpError(run: () => unknown): SdpError {
  try {
    run();
  } catch (error) {
    if (error instanceof SdpError) return error;
    throw error;
  }
  throw new Error('expected an SdpError');
}

function reasonFor(text: string): SdpErrorReason {
  return sdpError(() => parseSdp(text)).reason;
}

const asteriskLines = fixture('asterisk-20-offer').split('\r\n').filter((line) => line !== '');

function withoutLine(prefix: string): string {
  return asteriskLines.filter((line) => !line.startsWith(prefix)).join('\r\n') + '\r\n';
}

describe('parsing and writing SDP', () => {
  it.each(FIXTURE_NAMES)('reads the %s fixture and writes it back to an equal session', (name) => {
    const session = parseSdp(fixture(name));
    expect(parseSdp(serializeSdp(session))).toEqual(session);
  });

  it('writes every line with CRLF, as RFC 8866 §5 requires, whatever the input used', () => {
    const lfOnly = fixture('asterisk-20-offer').replace(/\r\n/g, '\n');
    const text = serializeSdp(parseSdp(lfOnly));
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(parseSdp(lfOnly)).toEqual(parseSdp(fixture('asterisk-20-offer')));
  });

  it('writes an Asterisk offer back line for line', () => {
    expect(serializeSdp(parseSdp(fixture('asterisk-20-offer')))).toBe(fixture('asterisk-20-offer'));
  });

  it("keeps Chrome's 63-bit session id digit for digit", () => {
    const session = parseSdp(fixture('chrome-audio-offer'));
    expect(session.origin).toEqual({
      username: '-',
      sessionId: '4611731400430051336',
      sessionVersion: '2',
      netType: 'IN',
      ipVer: 4,
      address: '127.0.0.1',
    });
    expect(serializeSdp(session)).toContain('\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n');
  });

  it('keeps numeric-looking identifiers such as mid 0 and BUNDLE 0 as strings', () => {
    const session = parseSdp(fixture('chrome-audio-offer'));
    expect(session.media[0]?.mid).toBe('0');
    expect(session.groups).toEqual([{ type: 'BUNDLE', mids: '0' }]);
    expect(session.media[0]?.payloads).toBe('111 63 9 0 8 13 110 126');
  });

  it("writes Chrome's candidate lines back exactly as received", () => {
    const received = fixture('chrome-audio-offer').split('\r\n').filter((line) => line.startsWith('a=candidate:'));
    const written = serializeSdp(parseSdp(fixture('chrome-audio-offer'))).split('\r\n').filter((line) => line.startsWith('a=candidate:'));
    expect(written).toEqual(received);
  });

  it('keeps candidate extensions that sdp-transform alone would drop, such as ufrag', () => {
    const line = 'a=candidate:842163049 1 udp 1677729535 198.51.100.9 61665 typ srflx raddr 10.0.0.5 rport 61665 generation 0 ufrag Fq7L network-id 1 network-cost 10';
    const text = fixture('chrome-audio-offer').replace(/a=candidate:1860236937[^\r]*/, line);
    expect(serializeSdp(parseSdp(text))).toContain(`\r\n${line}\r\n`);
  });

  it('keeps every ice-options token and every SDES session parameter', () => {
    const text = fixture('freeswitch-g722-srtp-offer')
      .replace('inline:euj27oY7fxr0mr9VDJXoRzmi1jqNQXn7U8vCZade', 'inline:euj27oY7fxr0mr9VDJXoRzmi1jqNQXn7U8vCZade KDR=1 UNENCRYPTED_SRTCP')
      .replace('a=sendrecv', 'a=sendrecv\r\na=ice-options:trickle renomination');
    const written = serializeSdp(parseSdp(text));
    expect(written).toContain('\r\na=crypto:4 AES_CM_128_HMAC_SHA1_32 inline:euj27oY7fxr0mr9VDJXoRzmi1jqNQXn7U8vCZade KDR=1 UNENCRYPTED_SRTCP\r\n');
    expect(written).toContain('\r\na=ice-options:trickle renomination\r\n');
  });

  it('keeps attributes it does not understand, verbatim', () => {
    const session = parseSdp(fixture('firefox-audio-offer'));
    expect(session.media[0]?.invalid).toEqual([{ value: 'msid:{0b7f3f8e-4c2d-4e1a-9f3b-8d6c5a4e2b10} {8e2e6d4c-1a3b-4c5d-9e8f-7a6b5c4d3e21}' }]);
    expect(serializeSdp(session)).toContain('\r\na=msid:{0b7f3f8e-4c2d-4e1a-9f3b-8d6c5a4e2b10} {8e2e6d4c-1a3b-4c5d-9e8f-7a6b5c4d3e21}\r\n');
  });

  it('accepts a trailing empty line, as some stacks send', () => {
    expect(parseSdp(`${fixture('asterisk-20-offer')}\r\n`).media).toHaveLength(1);
  });
});

describe('refusing what is not usable SDP', () => {
  it('refuses an empty body', () => {
    expect(reasonFor('')).toBe('empty');
    expect(reasonFor('\r\n\r\n')).toBe('empty');
  });

  it('refuses text that is not SDP, naming the line', () => {
    const error = sdpError(() => parseSdp('hello world'));
    expect(error.reason).toBe('not-sdp');
    expect(error.line).toBe(1);
    expect(reasonFor('<html><body>502 Bad Gateway</body></html>')).toBe('not-sdp');
    expect(reasonFor('{"type":"offer","sdp":"v=0"}')).toBe('not-sdp');
    expect(reasonFor('INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/WSS x\r\n')).toBe('not-sdp');
  });

  it('points at a garbage line in the middle of an otherwise valid body', () => {
    const error = sdpError(() => parseSdp(fixture('asterisk-20-offer').replace('a=ptime:20', 'ptime 20')));
    expect(error.reason).toBe('not-sdp');
    expect(error.line).toBe(11);
  });

  it('refuses a body that does not start with v=0', () => {
    expect(reasonFor(withoutLine('v='))).toBe('unsupported-version');
    expect(reasonFor(fixture('asterisk-20-offer').replace('v=0', 'v=1'))).toBe('unsupported-version');
  });

  it('refuses a missing or malformed o= line', () => {
    expect(reasonFor(withoutLine('o='))).toBe('invalid-origin');
    expect(reasonFor(fixture('asterisk-20-offer').replace(/o=[^\r]*/, 'o=- abc 1 IN IP4 192.0.2.10'))).toBe('invalid-origin');
  });

  it('refuses a missing s= line', () => {
    expect(reasonFor(withoutLine('s='))).toBe('missing-session-name');
  });

  it('refuses a missing or malformed t= line', () => {
    expect(reasonFor(withoutLine('t='))).toBe('invalid-timing');
    expect(reasonFor(fixture('asterisk-20-offer').replace('t=0 0', 't=now'))).toBe('invalid-timing');
  });

  it('refuses a malformed m= line, naming its line', () => {
    const error = sdpError(() => parseSdp(fixture('asterisk-20-offer').replace('m=audio 16384 RTP/AVP 0 8 101', 'm=audio sixteen RTP/AVP 0')));
    expect(error.reason).toBe('invalid-media');
    expect(error.line).toBe(6);
    expect(reasonFor(fixture('asterisk-20-offer').replace('m=audio 16384 RTP/AVP 0 8 101', 'm=audio 16384 RTP/AVP'))).toBe('invalid-media');
  });

  it('refuses a media section without any connection address', () => {
    expect(reasonFor(withoutLine('c='))).toBe('missing-connection');
  });

  it('refuses an rtpmap with a payload type beyond 127', () => {
    expect(reasonFor(fixture('asterisk-20-offer').replace('a=rtpmap:101 telephone-event/8000', 'a=rtpmap:301 telephone-event/8000'))).toBe('invalid-attribute');
  });

  it('refuses a malformed candidate, naming its line', () => {
    const error = sdpError(() => parseSdp(fixture('firefox-audio-offer').replace('typ srflx raddr 0.0.0.0 rport 0', 'typ srflx raddr 0.0.0.0 rport')));
    expect(error.reason).toBe('invalid-attribute');
    expect(error.line).toBe(13);
  });

  it('refuses to write a session whose media has no connection address', () => {
    const session = parseSdp(fixture('asterisk-20-offer'));
    const { connection: _dropped, ...withoutConnection } = session;
    expect(sdpError(() => serializeSdp(withoutConnection)).reason).toBe('missing-connection');
  });

  it('answers any text with a session or an SdpError, and writes what it accepts stably', () => {
    const fragments = [
      ...asteriskLines,
      ...fixture('chrome-audio-video-offer').split('\r\n'),
      ...fixture('freeswitch-g722-srtp-offer').split('\r\n'),
      'a=',
      'm=',
      'c=IN IP4',
      'o=',
      'x',
    ];
    const mangled = fc
      .tuple(fc.constantFrom(...fragments), fc.nat(60), fc.string({ maxLength: 4 }))
      .map(([line, at, insert]) => line.slice(0, at) + insert + line.slice(at + 1));
    const lines = fc.oneof(fc.constantFrom(...fragments), mangled, fc.string({ maxLength: 30 }));
    const header = ['v=0', 'o=- 1 1 IN IP4 192.0.2.1', 's=-', 't=0 0', 'c=IN IP4 192.0.2.1'];
    fc.assert(
      fc.property(fc.boolean(), fc.array(lines, { maxLength: 30 }), fc.constantFrom('\r\n', '\n'), (withHeader, body, eol) => {
        let session;
        try {
          session = parseSdp([...(withHeader ? header : []), ...body].join(eol));
        } catch (error) {
          expect(error).toBeInstanceOf(SdpError);
          return;
        }
        // sdp-transform reads some malformed attributes loosely; after one pass the text is stable.
        const once = serializeSdp(session);
        const twice = serializeSdp(parseSdp(once));
        expect(serializeSdp(parseSdp(twice))).toBe(twice);
        expect(once).not.toContain('undefined');
      }),
    );
  });
});
