import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  newOrigin,
  nextOrigin,
  parseSdp,
  reviseSdp,
  rewriteMedia,
  sameSdpContent,
  SdpError,
  serializeSdp,
  setDirection,
  updateMedia,
} from '../../../shared/sdp/index.ts';
import { fixture } from './fixtures/index.ts';

describe('the origin of a new session', () => {
  it('gets a random decimal session id below 2^63 and version 1', () => {
    const origin = newOrigin({ address: '203.0.113.200' });
    expect(origin).toMatchObject({ username: '-', sessionVersion: '1', netType: 'IN', ipVer: 4, address: '203.0.113.200' });
    expect(origin.sessionId).toMatch(/^\d+$/);
    expect(BigInt(origin.sessionId) < 2n ** 63n).toBe(true);
    expect(newOrigin({ address: '203.0.113.200' }).sessionId).not.toBe(origin.sessionId);
  });

  it('uses IP6 for an IPv6 address', () => {
    expect(newOrigin({ address: '2001:db8::200' }).ipVer).toBe(6);
  });

  it('refuses a session id that is not decimal digits', () => {
    expect(() => newOrigin({ address: '203.0.113.200', sessionId: '0x1f' })).toThrow(SdpError);
  });
});

describe('the origin rule of RFC 3264 §8 for re-offers', () => {
  it('increments the version by exactly one when the description changed, and keeps it when not', () => {
    const origin = parseSdp(fixture('asterisk-20-offer')).origin;
    expect(nextOrigin(origin, true)).toEqual({ ...origin, sessionVersion: '1716301201' });
    expect(nextOrigin(origin, false)).toEqual(origin);
  });

  it('increments versions beyond 2^53 without losing a digit', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n }), (version) => {
        const origin = newOrigin({ address: '192.0.2.1', sessionId: '1', sessionVersion: version.toString() });
        expect(nextOrigin(origin, true).sessionVersion).toBe((version + 1n).toString());
      }),
    );
    const origin = newOrigin({ address: '192.0.2.1', sessionId: '1', sessionVersion: '18446744073709551615' });
    const text = serializeSdp({ ...parseSdp(fixture('asterisk-20-offer')), origin: nextOrigin(origin, true) });
    expect(text).toContain('\r\no=- 1 18446744073709551616 IN IP4 192.0.2.1\r\n');
  });

  it('keeps the version of a re-offer that says the same thing', () => {
    const sent = rewriteMedia(parseSdp(fixture('asterisk-20-offer')), { address: '203.0.113.200', port: 40000 });
    const again = rewriteMedia(parseSdp(fixture('asterisk-20-offer')), { address: '203.0.113.200', port: 40000 });
    expect(sameSdpContent(sent, again)).toBe(true);
    expect(reviseSdp(sent, again).origin).toEqual(sent.origin);
  });

  it('increments the version of a hold re-offer by one, keeping the session id', () => {
    const sent = parseSdp(fixture('asterisk-20-offer'));
    const hold = updateMedia(sent, 0, (media) => setDirection(media, 'sendonly'));
    const revised = reviseSdp(sent, hold);
    expect(revised.origin).toEqual({ ...sent.origin, sessionVersion: '1716301201' });
    expect(serializeSdp(revised)).toContain('\r\no=- 1716301200 1716301201 IN IP4 192.0.2.10\r\n');
  });

  it("keeps the previous o= line even when the next description was built with another origin", () => {
    const sent = parseSdp(fixture('asterisk-20-offer'));
    const rebuilt = { ...updateMedia(sent, 0, (media) => ({ ...media, port: 16390 })), origin: newOrigin({ address: '198.51.100.1' }) };
    expect(reviseSdp(sent, rebuilt).origin).toEqual({ ...sent.origin, sessionVersion: '1716301201' });
  });

  it('returns the first description of a leg unchanged', () => {
    const first = parseSdp(fixture('asterisk-20-offer'));
    expect(reviseSdp(undefined, first)).toBe(first);
  });
});
