import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addCandidate,
  candidatesOf,
  hasEndOfCandidates,
  iceParameters,
  iceRestarts,
  isIceRestart,
  isMdnsCandidate,
  parseCandidate,
  parseSdp,
  removeCandidates,
  SdpError,
  serializeCandidate,
  serializeSdp,
  setEndOfCandidates,
  setIceCredentials,
  updateMedia,
  type IceCandidate,
  type SdpMedia,
  type SdpSession,
} from '../../../shared/sdp/index.ts';
import { fixture } from './fixtures/index.ts';

function first(session: SdpSession): SdpMedia {
  const media = session.media[0];
  if (media === undefined) throw new Error('no media');
  return media;
}

describe('reading and writing ICE candidates (RFC 8839 §5.1)', () => {
  it('reads a host candidate', () => {
    expect(parseCandidate('a=candidate:0 1 UDP 2122252543 192.0.2.200 54312 typ host')).toEqual({
      foundation: '0',
      component: 1,
      transport: 'UDP',
      priority: 2122252543,
      ip: '192.0.2.200',
      port: 54312,
      type: 'host',
      extensions: [],
    });
  });

  it('reads a server-reflexive candidate with its related address and port', () => {
    const candidate = parseCandidate('candidate:1860236937 1 udp 1686052607 203.0.113.45 51021 typ srflx raddr 10.0.0.7 rport 51021 generation 0');
    expect(candidate).toMatchObject({ type: 'srflx', raddr: '10.0.0.7', rport: 51021, extensions: [{ name: 'generation', value: '0' }] });
  });

  it('reads an ICE-TCP candidate with its tcptype (RFC 6544)', () => {
    expect(parseCandidate('candidate:2 1 TCP 2105524479 192.0.2.200 9 typ host tcptype active')).toMatchObject({ transport: 'TCP', port: 9, tcptype: 'active' });
  });

  it('reads a browser mDNS host candidate and recognises it as such', () => {
    const candidate = parseCandidate('candidate:3125624581 1 udp 2122260223 f892b519-87bc-4d20-9d00-ce7a5358e713.local 51021 typ host generation 0 network-id 1');
    expect(candidate.ip).toBe('f892b519-87bc-4d20-9d00-ce7a5358e713.local');
    expect(isMdnsCandidate(candidate)).toBe(true);
    expect(isMdnsCandidate(parseCandidate('candidate:1 1 udp 1 203.0.113.45 1 typ srflx raddr 0.0.0.0 rport 0'))).toBe(false);
  });

  it('reads an IPv6 relay candidate', () => {
    expect(parseCandidate('candidate:4 1 udp 41885695 2001:db8::5 3478 typ relay raddr 2001:db8::1 rport 61000')).toMatchObject({
      ip: '2001:db8::5',
      type: 'relay',
      raddr: '2001:db8::1',
    });
  });

  it.each([
    'candidate:3125624581 1 udp 2122260223 f892b519-87bc-4d20-9d00-ce7a5358e713.local 51021 typ host generation 0 network-id 1 network-cost 10',
    'candidate:1860236937 1 udp 1686052607 203.0.113.45 51021 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag Fq7L network-id 1 network-cost 10',
    'candidate:4187474461 1 tcp 1518280447 192.0.2.7 9 typ host tcptype active generation 0 network-id 1',
    'candidate:2 1 TCP 2105524479 192.0.2.200 9 typ host tcptype active',
  ])('writes %s back as received', (line) => {
    expect(serializeCandidate(parseCandidate(line))).toBe(line);
  });

  it.each([
    ['no typ keyword', 'candidate:0 1 UDP 2122252543 192.0.2.200 54312 host'],
    ['a port beyond 65535', 'candidate:0 1 UDP 2122252543 192.0.2.200 70000 typ host'],
    ['a priority that is not a number', 'candidate:0 1 UDP high 192.0.2.200 54312 typ host'],
    ['an extension without value', 'candidate:0 1 UDP 2122252543 192.0.2.200 54312 typ host generation'],
    ['nothing at all', 'candidate:'],
  ])('refuses a candidate with %s', (_case, line) => {
    expect(() => parseCandidate(line)).toThrow(SdpError);
  });

  it('writes back any candidate it reads', () => {
    const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/).filter((name) => !['raddr', 'rport', 'tcptype'].includes(name));
    const candidate: fc.Arbitrary<IceCandidate> = fc.record({
      foundation: fc.stringMatching(/^[A-Za-z0-9+/]{1,32}$/),
      component: fc.integer({ min: 1, max: 256 }),
      transport: fc.constantFrom('udp', 'UDP', 'tcp'),
      priority: fc.integer({ min: 0, max: 2 ** 31 }),
      ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.uuid().map((id) => `${id}.local`)),
      port: fc.integer({ min: 0, max: 65535 }),
      type: fc.constantFrom('host', 'srflx', 'prflx', 'relay'),
      extensions: fc.array(fc.record({ name: token, value: fc.stringMatching(/^[A-Za-z0-9+/.]{1,12}$/) }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(candidate, (value) => {
        expect(parseCandidate(serializeCandidate(value))).toEqual(value);
      }),
    );
  });
});

describe('ICE parameters of a media section', () => {
  it("reads Chrome's credentials and trickle option at media level", () => {
    const session = parseSdp(fixture('chrome-audio-offer'));
    expect(iceParameters(session, first(session))).toEqual({ ufrag: 'Fq7L', pwd: 'Zu3KQ5uJ0tDZ8bJtEwy2p6c1', lite: false, options: ['trickle'] });
  });

  it("reads Firefox's session-level ice-options under its media-level credentials", () => {
    const session = parseSdp(fixture('firefox-audio-offer'));
    expect(iceParameters(session, first(session))).toEqual({ ufrag: '5a1f3b2e', pwd: 'b3e0fc2d6e1ab2a4bc1bbbb2c4f77c10', lite: false, options: ['trickle'] });
  });

  it('reads ice-lite from the session level', () => {
    const text = fixture('chrome-audio-offer').replace('t=0 0\r\n', 't=0 0\r\na=ice-lite\r\n');
    const session = parseSdp(text);
    expect(iceParameters(session, first(session))?.lite).toBe(true);
  });

  it('says a PBX offer without credentials does not do ICE', () => {
    const session = parseSdp(fixture('asterisk-20-offer'));
    expect(iceParameters(session, first(session))).toBeUndefined();
  });
});

describe('changing candidates', () => {
  it('adds a candidate and writes it with the others', () => {
    const session = parseSdp(fixture('firefox-audio-offer'));
    const relay = parseCandidate('candidate:3 1 UDP 92217087 198.51.100.1 61000 typ relay raddr 192.0.2.200 rport 54312');
    const next = updateMedia(session, 0, (media) => addCandidate(media, relay));
    expect(candidatesOf(first(next))).toHaveLength(4);
    expect(serializeSdp(next)).toContain('\r\na=candidate:3 1 UDP 92217087 198.51.100.1 61000 typ relay raddr 192.0.2.200 rport 54312\r\n');
    expect(candidatesOf(first(session))).toHaveLength(3);
  });

  it('removes the mDNS candidates a media node cannot resolve', () => {
    const session = parseSdp(fixture('chrome-audio-offer'));
    const kept = removeCandidates(first(session), isMdnsCandidate);
    expect(candidatesOf(kept).map((candidate) => candidate.type)).toEqual(['srflx']);
    expect(removeCandidates(first(session)).candidates).toBeUndefined();
  });

  it('marks and unmarks end-of-candidates, writing it after the last candidate', () => {
    const session = parseSdp(fixture('chrome-audio-offer'));
    expect(hasEndOfCandidates(first(session))).toBe(false);
    const ended = updateMedia(session, 0, (media) => setEndOfCandidates(media, true));
    expect(hasEndOfCandidates(first(ended))).toBe(true);
    const lines = serializeSdp(ended).split('\r\n');
    expect(lines.indexOf('a=end-of-candidates')).toBe(lines.findLastIndex((line) => line.startsWith('a=candidate:')) + 1);
    expect(hasEndOfCandidates(setEndOfCandidates(first(ended), false))).toBe(false);
  });
});

describe('detecting an ICE restart between two offers', () => {
  it('sees a restart when Chrome re-offers with a new ufrag and pwd', () => {
    const before = parseSdp(fixture('chrome-audio-offer'));
    const after = parseSdp(fixture('chrome-ice-restart-reoffer'));
    expect(isIceRestart(before, after)).toBe(true);
    expect(iceRestarts(before, after)).toEqual([0]);
  });

  it('sees no restart in a hold re-offer that keeps the credentials', () => {
    expect(isIceRestart(parseSdp(fixture('chrome-audio-offer')), parseSdp(fixture('chrome-hold-sendonly-reoffer')))).toBe(false);
  });

  it('sees a restart when only the password changes', () => {
    const before = parseSdp(fixture('chrome-audio-offer'));
    const after = updateMedia(before, 0, (media) => setIceCredentials(media, { ufrag: 'Fq7L', pwd: 'a'.repeat(24) }));
    expect(isIceRestart(before, after)).toBe(true);
  });

  it('tells which bundled section restarted', () => {
    const before = parseSdp(fixture('chrome-audio-video-offer'));
    const after = updateMedia(before, 1, (media) => setIceCredentials(media, { ufrag: 'new1', pwd: 'b'.repeat(24) }));
    expect(iceRestarts(before, after)).toEqual([1]);
  });

  it('sees no restart between PBX offers without ICE', () => {
    expect(isIceRestart(parseSdp(fixture('asterisk-20-offer')), parseSdp(fixture('asterisk-20-hold-sendonly-reoffer')))).toBe(false);
  });
});
