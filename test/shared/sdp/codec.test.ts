import { describe, expect, it } from 'vitest';
import {
  audioSampleRate,
  filterCodecs,
  findCodec,
  findCodecs,
  listCodecs,
  parseSdp,
  rejectMedia,
  SdpError,
  serializeSdp,
  setCodecs,
  type SdpMedia,
  type SdpSession,
} from '../../../shared/sdp/index.ts';
import { fixture } from './fixtures/index.ts';

function audioOf(session: SdpSession): SdpMedia {
  const media = session.media[0];
  if (media === undefined) throw new Error('fixture has no media');
  return media;
}

function videoOf(session: SdpSession): SdpMedia {
  const media = session.media[1];
  if (media === undefined) throw new Error('fixture has no video');
  return media;
}

const carrierOffer = [
  'v=0',
  'o=carrier 8812 8812 IN IP4 203.0.113.80',
  's=SIP Call',
  'c=IN IP4 203.0.113.80',
  't=0 0',
  'm=audio 30000 RTP/AVP 18 0 8 9',
  'a=fmtp:18 annexb=no',
  '',
].join('\r\n');

describe('listing the codecs of a media section', () => {
  it("reads Chrome's audio codecs in preference order, with fmtp parameters and feedback", () => {
    const codecs = listCodecs(audioOf(parseSdp(fixture('chrome-audio-offer'))));
    expect(codecs.map((codec) => `${String(codec.payloadType)} ${codec.name}/${String(codec.clockRate)}/${String(codec.channels)}`)).toEqual([
      '111 opus/48000/2',
      '63 red/48000/2',
      '9 G722/8000/1',
      '0 PCMU/8000/1',
      '8 PCMA/8000/1',
      '13 CN/8000/1',
      '110 telephone-event/48000/1',
      '126 telephone-event/8000/1',
    ]);
    expect(codecs[0]).toMatchObject({
      fmtp: 'minptime=10;useinbandfec=1',
      parameters: { minptime: '10', useinbandfec: '1' },
      rtcpFb: [{ type: 'transport-cc' }],
    });
  });

  it('reads a telephone-event range as a bare parameter', () => {
    const [, , telephoneEvent] = listCodecs(audioOf(parseSdp(fixture('asterisk-20-offer'))));
    expect(telephoneEvent).toMatchObject({ payloadType: 101, name: 'telephone-event', clockRate: 8000, parameters: { '0-16': '' } });
  });

  it('understands static payload types that come without rtpmap, G.722 on its 8000 Hz RTP clock', () => {
    const codecs = listCodecs(audioOf(parseSdp(carrierOffer)));
    expect(codecs.map((codec) => [codec.payloadType, codec.name, codec.clockRate, codec.channels])).toEqual([
      [18, 'G729', 8000, 1],
      [0, 'PCMU', 8000, 1],
      [8, 'PCMA', 8000, 1],
      [9, 'G722', 8000, 1],
    ]);
    expect(codecs[0]?.parameters).toEqual({ annexb: 'no' });
  });

  it('reports G.722 at 8000 Hz even when a peer writes G722/16000, and knows it samples at 16 kHz', () => {
    const text = fixture('freeswitch-g722-srtp-offer').replace('a=rtpmap:9 G722/8000', 'a=rtpmap:9 G722/16000');
    const g722 = findCodec(audioOf(parseSdp(text)), 'G722');
    expect(g722?.clockRate).toBe(8000);
    expect(g722 && audioSampleRate(g722)).toBe(16000);
    expect(audioSampleRate({ name: 'PCMU', clockRate: 8000 })).toBe(8000);
  });

  it('finds codecs by name whatever their case, optionally at one clock rate', () => {
    const audio = audioOf(parseSdp(fixture('chrome-audio-offer')));
    expect(findCodec(audio, 'OPUS')?.payloadType).toBe(111);
    expect(findCodecs(audio, 'telephone-event').map((codec) => codec.payloadType)).toEqual([110, 126]);
    expect(findCodec(audio, 'telephone-event', 8000)?.payloadType).toBe(126);
    expect(findCodec(audio, 'G729')).toBeUndefined();
  });

  it('lists no codecs for a data channel section', () => {
    const media: SdpMedia = { type: 'application', port: 9, protocol: 'UDP/DTLS/SCTP', payloads: 'webrtc-datachannel', rtp: [], fmtp: [] };
    expect(listCodecs(media)).toEqual([]);
  });
});

describe('keeping only some codecs', () => {
  it('removes the m= entries, rtpmap, fmtp and rtcp-fb lines of the codecs dropped', () => {
    const audio = audioOf(parseSdp(fixture('chrome-audio-offer')));
    const filtered = filterCodecs(audio, (codec) => ['PCMU', 'PCMA', 'telephone-event'].includes(codec.name) && codec.clockRate === 8000);
    expect(filtered.payloads).toBe('0 8 126');
    expect(filtered.rtp.map((rtp) => rtp.payload)).toEqual([0, 8, 126]);
    expect(filtered.fmtp).toEqual([]);
    expect(filtered.rtcpFb).toBeUndefined();
    expect(listCodecs(filtered).map((codec) => codec.name)).toEqual(['PCMU', 'PCMA', 'telephone-event']);
  });

  it('drops RED along with the Opus it carries', () => {
    const audio = audioOf(parseSdp(fixture('chrome-audio-offer')));
    const filtered = filterCodecs(audio, (codec) => codec.name !== 'opus');
    expect(filtered.payloads).toBe('9 0 8 13 110 126');
  });

  it('drops the RTX entry of a dropped video codec', () => {
    const video = videoOf(parseSdp(fixture('chrome-audio-video-offer')));
    const filtered = filterCodecs(video, (codec) => codec.name !== 'VP8');
    expect(filtered.payloads.split(' ')).not.toContain('97');
    expect(filtered.fmtp.map((fmtp) => fmtp.config)).not.toContain('apt=96');
    expect(filtered.rtcpFb?.some((feedback) => feedback.payload === 96)).toBe(false);
  });

  it('keeps codecs by payload type', () => {
    const audio = audioOf(parseSdp(fixture('asterisk-20-offer')));
    expect(filterCodecs(audio, [8, 101]).payloads).toBe('8 101');
  });

  it('writes a filtered offer that parses back to the same codecs', () => {
    const session = parseSdp(fixture('firefox-audio-offer'));
    const filtered = { ...session, media: [filterCodecs(audioOf(session), [0, 101])] };
    const text = serializeSdp(filtered);
    expect(text).toContain('m=audio 54312 UDP/TLS/RTP/SAVPF 0 101\r\n');
    expect(text).not.toContain('opus');
    expect(text).not.toContain('a=fmtp:109');
    expect(listCodecs(audioOf(parseSdp(text))).map((codec) => codec.payloadType)).toEqual([0, 101]);
  });

  it('refuses to leave a media section without codecs', () => {
    const audio = audioOf(parseSdp(fixture('asterisk-20-offer')));
    expect(() => filterCodecs(audio, () => false)).toThrow(SdpError);
  });

  it('leaves the media section it was given untouched', () => {
    const audio = audioOf(parseSdp(fixture('chrome-audio-offer')));
    const before = structuredClone(audio);
    filterCodecs(audio, [0]);
    expect(audio).toEqual(before);
  });
});

describe('writing a new codec list', () => {
  it('writes m=, rtpmap, fmtp and rtcp-fb for each codec in the order given', () => {
    const audio = audioOf(parseSdp(fixture('asterisk-20-offer')));
    const media = setCodecs(audio, [
      { payloadType: 96, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'useinbandfec=1', rtcpFb: [{ type: 'transport-cc' }] },
      { payloadType: 0, name: 'PCMU', clockRate: 8000 },
    ]);
    expect(media.payloads).toBe('96 0');
    expect(media.rtp).toEqual([
      { payload: 96, codec: 'opus', rate: 48000, encoding: 2 },
      { payload: 0, codec: 'PCMU', rate: 8000 },
    ]);
    expect(media.fmtp).toEqual([{ payload: 96, config: 'useinbandfec=1' }]);
    expect(media.rtcpFb).toEqual([{ payload: 96, type: 'transport-cc' }]);
  });

  it('refuses an empty list and a repeated payload type', () => {
    const audio = audioOf(parseSdp(fixture('asterisk-20-offer')));
    expect(() => setCodecs(audio, [])).toThrow(SdpError);
    expect(() =>
      setCodecs(audio, [
        { payloadType: 0, name: 'PCMU', clockRate: 8000 },
        { payloadType: 0, name: 'PCMA', clockRate: 8000 },
      ]),
    ).toThrow(SdpError);
  });
});

describe('rejecting a media section', () => {
  it('sets port zero and keeps a format on the m= line, as RFC 3264 §6 requires', () => {
    const video = videoOf(parseSdp(fixture('chrome-audio-video-offer')));
    const rejected = rejectMedia(video);
    expect(rejected.port).toBe(0);
    expect(rejected.payloads).toBe(video.payloads);
    expect(rejected.candidates).toBeUndefined();
  });
});
