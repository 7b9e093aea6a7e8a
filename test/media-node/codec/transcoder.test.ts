import { Encoder } from '@evan/opus';
import { describe, expect, it } from 'vitest';
import {
  G711ToOpusTranscoder,
  OpusPcmDecoder,
  OpusToG711Transcoder,
  PCMA,
  PCMU,
  type G711Codec,
} from '../../../media-node/codec/index.ts';
import { measureTone } from '../support/goertzel.ts';
import { amplitudeAt, concatSamples, sineFrames } from '../support/tone.ts';

/** What a browser sends: 48 kHz mono Opus, 20 ms packets. */
function browserOpus(frequency: number, dbfs: number, packets: number): Uint8Array[] {
  const encoder = new Encoder({ channels: 1, sample_rate: 48000, application: 'voip' });
  return sineFrames(frequency, 48000, amplitudeAt(dbfs), 960, packets).map((frame) => encoder.encode(new Uint8Array(frame.buffer)));
}

/** What a PBX sends: G.711 payloads of `frameSamples` octets. */
function pbxG711(codec: G711Codec, frequency: number, dbfs: number, frameSamples: number, packets: number): Uint8Array[] {
  return sineFrames(frequency, 8000, amplitudeAt(dbfs), frameSamples, packets).map((frame) => {
    const payload = new Uint8Array(frame.length);
    codec.encode(frame, payload);
    return payload;
  });
}

function decodeG711(codec: G711Codec, payloads: readonly Uint8Array[]): Int16Array {
  return concatSamples(
    payloads.map((payload) => {
      const pcm = new Int16Array(payload.length);
      codec.decode(payload, pcm);
      return pcm;
    }),
  );
}

describe.each([PCMU, PCMA])('browser Opus to $encodingName', (codec) => {
  it('turns a 1 kHz tone at -10 dBFS into 20 ms payloads of the same tone at the same level', () => {
    const transcoder = new OpusToG711Transcoder(codec.law);
    const payloads = browserOpus(1000, -10, 50).map((packet) => transcoder.transcode(packet).slice());
    expect(payloads.every((payload) => payload.length === 160)).toBe(true);
    const tone = measureTone(decodeG711(codec, payloads.slice(5)), 8000, 1000);
    expect(tone.levelDbfs).toBeGreaterThan(-11);
    expect(tone.levelDbfs).toBeLessThan(-9);
    expect(tone.purity).toBeGreaterThan(0.95);
    expect(transcoder.counters).toEqual({ decoded: 50, concealed: 0, invalid: 0 });
  });

  it('fills a missing packet with concealment that carries the tone on', () => {
    const transcoder = new OpusToG711Transcoder(codec.law);
    const packets = browserOpus(1000, -10, 12);
    for (const packet of packets.slice(0, 10)) transcoder.transcode(packet);
    const concealed = transcoder.conceal().slice();
    expect(concealed.length).toBe(160);
    expect(measureTone(decodeG711(codec, [concealed]), 8000, 1000).purity).toBeGreaterThan(0.8);
    expect(transcoder.transcode(packets[11] as Uint8Array).length).toBe(160);
    expect(transcoder.counters).toEqual({ decoded: 11, concealed: 1, invalid: 0 });
  });

  it('conceals an undecodable payload instead of throwing, and counts it', () => {
    const transcoder = new OpusToG711Transcoder(codec.law);
    transcoder.transcode(browserOpus(1000, -10, 1)[0] as Uint8Array);
    expect(transcoder.transcode(new Uint8Array(0)).length).toBe(160);
    expect(transcoder.transcode(Uint8Array.of(0x0b)).length).toBe(160);
    expect(transcoder.counters).toEqual({ decoded: 1, concealed: 2, invalid: 2 });
  });
});

describe.each([PCMU, PCMA])('PBX $encodingName to browser Opus', (codec) => {
  it('turns a 1 kHz tone at -10 dBFS into 20 ms Opus packets a browser decodes as the same tone', () => {
    const transcoder = new G711ToOpusTranscoder(codec.law);
    const packets: Uint8Array[] = [];
    for (const payload of pbxG711(codec, 1000, -10, 160, 50)) transcoder.transcode(payload, (packet) => packets.push(packet));
    expect(packets.length).toBe(50);
    const browser = new OpusPcmDecoder(48000);
    const tone = measureTone(concatSamples(packets.map((packet) => browser.decode(packet)).slice(5)), 48000, 1000);
    expect(tone.levelDbfs).toBeGreaterThan(-11.5);
    expect(tone.levelDbfs).toBeLessThan(-8.5);
    expect(tone.purity).toBeGreaterThan(0.95);
  });
});

describe('re-framing G.711 packet times other than 20 ms', () => {
  it('turns 30 ms payloads into 20 ms packets, placing each one relative to the payload it completes in', () => {
    const transcoder = new G711ToOpusTranscoder('pcmu');
    const offsets = pbxG711(PCMU, 1000, -10, 240, 4).map((payload) => {
      const placed: number[] = [];
      transcoder.transcode(payload, (_packet, offset) => placed.push(offset));
      return placed;
    });
    expect(offsets).toEqual([[0], [-80, 80], [0], [-80, 80]]);
  });

  it('completes one 20 ms packet for every two 10 ms payloads', () => {
    const transcoder = new G711ToOpusTranscoder('pcma');
    const counts = pbxG711(PCMA, 1000, -10, 80, 6).map((payload) => transcoder.transcode(payload, () => {}));
    expect(counts).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('drops a partial frame on reset so a new source starts on a frame boundary', () => {
    const transcoder = new G711ToOpusTranscoder('pcmu');
    transcoder.transcode(new Uint8Array(80).fill(0xff), () => {});
    transcoder.reset();
    const placed: number[] = [];
    transcoder.transcode(new Uint8Array(160).fill(0xff), (_packet, offset) => placed.push(offset));
    expect(placed).toEqual([0]);
  });
});

describe('buffer reuse on the hot path', () => {
  it('hands out every 20 ms G.711 frame in the same reused buffer', () => {
    const transcoder = new OpusToG711Transcoder('pcmu');
    const [first, second] = browserOpus(1000, -10, 2).map((packet) => transcoder.transcode(packet));
    expect(first?.buffer).toBe(second?.buffer);
    expect(first?.byteOffset).toBe(second?.byteOffset);
  });
});
