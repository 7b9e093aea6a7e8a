import { describe, expect, it } from 'vitest';
import {
  answerDirection,
  answerSetupRole,
  buildWebRtcSdp,
  candidatesOf,
  dtlsFingerprint,
  hasEndOfCandidates,
  iceParameters,
  listCodecs,
  mediaDirection,
  negotiateCodecs,
  newOrigin,
  parseCandidate,
  parseSdp,
  SdpError,
  serializeSdp,
  setupRole,
  type BuildWebRtcSdpOptions,
  type SdpMedia,
  type SdpSession,
} from '../../../shared/sdp/index.ts';
import { fixture } from './fixtures/index.ts';

function first(session: SdpSession): SdpMedia {
  const media = session.media[0];
  if (media === undefined) throw new Error('no media');
  return media;
}

const nodeCandidate = parseCandidate('candidate:1 1 udp 2130706431 203.0.113.200 40010 typ host');
const fingerprint = { hash: 'sha-256', value: 'F6:FD:63:22:F1:D8:B3:56:CF:7D:86:32:22:40:39:F7:69:19:EE:A3:45:22:43:3F:1A:FD:43:CF:6A:09:87:3A' };
const base: BuildWebRtcSdpOptions = {
  origin: newOrigin({ address: '203.0.113.200', sessionId: '5551212', sessionVersion: '1' }),
  ice: { ufrag: 'sEdg', pwd: 'q7R2mX9vK4pL1nB8tW3zY6cD', lite: true },
  fingerprint,
  setup: 'active',
  candidates: [nodeCandidate],
  codecs: [{ payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' }],
};

describe('building the WebRTC description for the browser leg', () => {
  it("answers Chrome's offer with what a browser needs to set it as remote description", () => {
    const offer = parseSdp(fixture('chrome-audio-offer'));
    const offered = first(offer);
    const answer = buildWebRtcSdp({
      ...base,
      setup: answerSetupRole(setupRole(offer, offered)),
      mid: offered.mid ?? '0',
      direction: answerDirection(mediaDirection(offer, offered).direction),
      codecs: negotiateCodecs(offered, [
        { name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' },
        { name: 'telephone-event', clockRate: 48000 },
      ]),
    });
    const text = serializeSdp(answer);
    for (const line of [
      'a=ice-lite',
      'a=group:BUNDLE 0',
      'm=audio 40010 UDP/TLS/RTP/SAVPF 111 110',
      'c=IN IP4 203.0.113.200',
      'a=rtpmap:111 opus/48000/2',
      'a=rtpmap:110 telephone-event/48000',
      'a=fmtp:111 minptime=10;useinbandfec=1',
      'a=setup:active',
      'a=mid:0',
      'a=sendrecv',
      'a=ice-ufrag:sEdg',
      'a=ice-pwd:q7R2mX9vK4pL1nB8tW3zY6cD',
      `a=fingerprint:sha-256 ${fingerprint.value}`,
      'a=rtcp-mux',
      'a=candidate:1 1 udp 2130706431 203.0.113.200 40010 typ host',
      'a=end-of-candidates',
    ]) {
      expect(text).toContain(`\r\n${line}\r\n`);
    }
  });

  it('reads back the parameters it was built from', () => {
    const session = parseSdp(serializeSdp(buildWebRtcSdp(base)));
    const media = first(session);
    expect(iceParameters(session, media)).toEqual({ ufrag: 'sEdg', pwd: 'q7R2mX9vK4pL1nB8tW3zY6cD', lite: true, options: [] });
    expect(dtlsFingerprint(session, media)).toEqual(fingerprint);
    expect(setupRole(session, media)).toBe('active');
    expect(candidatesOf(media)).toEqual([nodeCandidate]);
    expect(hasEndOfCandidates(media)).toBe(true);
    expect(listCodecs(media).map((codec) => codec.payloadType)).toEqual([111]);
    expect(media.rtcpMux).toBe('rtcp-mux');
  });

  it('writes msid, ssrc, header extensions and ice-options when given', () => {
    const text = serializeSdp(
      buildWebRtcSdp({
        ...base,
        ice: { ...base.ice, lite: false, options: ['trickle'] },
        msid: { stream: 'sipedge', track: 'call-7f3a' },
        ssrc: { id: 305419896, cname: 'sipedge-node-1' },
        extensions: [{ id: 1, uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level' }],
      }),
    );
    expect(text).toContain('\r\na=msid:sipedge call-7f3a\r\n');
    expect(text).toContain('\r\na=ssrc:305419896 cname:sipedge-node-1\r\n');
    expect(text).toContain('\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n');
    expect(text).toContain('\r\na=ice-options:trickle\r\n');
    expect(text).not.toContain('a=ice-lite');
  });

  it('uses the trickle placeholders 0.0.0.0 and port 9 when it has no candidates yet', () => {
    const session = buildWebRtcSdp({ ...base, candidates: [], endOfCandidates: false });
    const media = first(session);
    expect([media.connection?.ip, media.port]).toEqual(['0.0.0.0', 9]);
    expect(hasEndOfCandidates(media)).toBe(false);
  });

  it('refuses ICE credentials a browser would refuse, and a malformed fingerprint', () => {
    expect(() => buildWebRtcSdp({ ...base, ice: { ufrag: 'ab', pwd: 'q7R2mX9vK4pL1nB8tW3zY6cD' } })).toThrow(SdpError);
    expect(() => buildWebRtcSdp({ ...base, ice: { ufrag: 'sEdg', pwd: 'short' } })).toThrow(SdpError);
    expect(() => buildWebRtcSdp({ ...base, fingerprint: { hash: 'sha-256', value: 'not hex' } })).toThrow(SdpError);
  });
});
