import { describe, expect, it } from 'vitest';
import { negotiateCodecs, parseSdp, type CodecFormat, type SdpMedia } from '../../../shared/sdp/index.ts';
import { fixture, type FixtureName } from './fixtures/index.ts';

function media(name: FixtureName, index = 0): SdpMedia {
  const section = parseSdp(fixture(name)).media[index];
  if (section === undefined) throw new Error(`${name} has no media section ${String(index)}`);
  return section;
}

/** What a G.711-only media node bridging to a PBX can do, best first. */
const g711Node: readonly CodecFormat[] = [
  { name: 'PCMA', clockRate: 8000 },
  { name: 'PCMU', clockRate: 8000 },
  { name: 'G729', clockRate: 8000 },
  { name: 'telephone-event', clockRate: 8000, fmtp: '0-16' },
];

describe("choosing an answer's codecs (RFC 3264 §6.1)", () => {
  it("answers Chrome with the codecs both support, in the answerer's order, under the offer's payload types", () => {
    const answer = negotiateCodecs(media('chrome-audio-offer'), g711Node);
    expect(answer.map((codec) => [codec.payloadType, codec.name])).toEqual([
      [8, 'PCMA'],
      [0, 'PCMU'],
      [126, 'telephone-event'],
    ]);
  });

  it('never answers with a codec the offer lacked', () => {
    const answer = negotiateCodecs(media('asterisk-20-offer'), g711Node);
    expect(answer.map((codec) => codec.name)).not.toContain('G729');
  });

  it("writes the answerer's format parameters, such as its telephone-event range", () => {
    const answer = negotiateCodecs(media('firefox-audio-offer'), g711Node);
    expect(answer.find((codec) => codec.name === 'telephone-event')).toMatchObject({ payloadType: 101, fmtp: '0-16' });
  });

  it("keeps the offer's format parameters when the answerer states none", () => {
    const answer = negotiateCodecs(media('chrome-audio-offer'), [{ name: 'opus', clockRate: 48000, channels: 2 }]);
    expect(answer).toEqual([
      { payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1', rtcpFb: [], parameters: { minptime: '10', useinbandfec: '1' } },
    ]);
  });

  it('answers only with feedback both the offer and the answerer list', () => {
    const answer = negotiateCodecs(media('chrome-audio-video-offer', 1), [
      { name: 'VP8', clockRate: 90000, rtcpFb: [{ type: 'nack' }, { type: 'nack', subtype: 'pli' }, { type: 'goog-lntf' }] },
    ]);
    expect(answer[0]?.rtcpFb).toEqual([{ type: 'nack' }, { type: 'nack', subtype: 'pli' }]);
  });

  it('matches G.722 in a FreeSWITCH offer by its 8000 Hz RTP clock', () => {
    const answer = negotiateCodecs(media('freeswitch-g722-srtp-offer'), [{ name: 'g722', clockRate: 8000 }, ...g711Node]);
    expect(answer.map((codec) => [codec.payloadType, codec.name])).toEqual([
      [9, 'G722'],
      [8, 'PCMA'],
      [0, 'PCMU'],
      [101, 'telephone-event'],
    ]);
  });

  it('answers the H.264 entry with the packetization mode asked for, with its RTX', () => {
    const answer = negotiateCodecs(media('chrome-audio-video-offer', 1), [
      { name: 'H264', clockRate: 90000, fmtp: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f' },
      { name: 'rtx', clockRate: 90000 },
    ]);
    expect(answer.map((codec) => [codec.payloadType, codec.name, codec.fmtp])).toEqual([
      [106, 'H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f'],
      [107, 'rtx', 'apt=106'],
    ]);
  });

  it('returns nothing when nothing is in common, so the caller rejects the stream', () => {
    expect(negotiateCodecs(media('asterisk-20-offer'), [{ name: 'opus', clockRate: 48000, channels: 2 }])).toEqual([]);
  });
});
