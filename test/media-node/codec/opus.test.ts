import { Encoder } from '@evan/opus';
import { describe, expect, it } from 'vitest';
import { OpusDecodeError, OpusPcmDecoder, OpusPcmEncoder, opusPacketSamples } from '../../../media-node/codec/index.ts';
import { measureTone, rms } from '../support/goertzel.ts';
import { amplitudeAt, concatSamples, sineFrames } from '../support/tone.ts';

/** What a browser sends: 48 kHz mono Opus, 20 ms packets. */
function browserOpus(frequency: number, dbfs: number, packets: number): Uint8Array[] {
  const encoder = new Encoder({ channels: 1, sample_rate: 48000, application: 'voip' });
  return sineFrames(frequency, 48000, amplitudeAt(dbfs), 960, packets).map((frame) => encoder.encode(new Uint8Array(frame.buffer)));
}

describe('Opus decoding straight at 8 kHz', () => {
  it('turns a browser-style 48 kHz Opus tone into 160-sample frames of the same 1 kHz tone', () => {
    const decoder = new OpusPcmDecoder(8000);
    const frames = browserOpus(1000, -10, 25).map((packet) => decoder.decode(packet));
    expect(frames.every((frame) => frame.length === 160)).toBe(true);
    const tone = measureTone(concatSamples(frames.slice(5)), 8000, 1000);
    expect(tone.levelDbfs).toBeGreaterThan(-11.5);
    expect(tone.levelDbfs).toBeLessThan(-8.5);
    expect(tone.purity).toBeGreaterThan(0.9);
  });

  it('conceals a missing packet by continuing the tone, and fades out over a run of losses', () => {
    const decoder = new OpusPcmDecoder(8000);
    const packets = browserOpus(1000, -10, 20);
    for (const packet of packets.slice(0, 10)) decoder.decode(packet);
    const concealed = Array.from({ length: 8 }, () => decoder.conceal());
    expect(concealed.every((frame) => frame.length === 160)).toBe(true);
    const first = measureTone(concealed[0] as Int16Array, 8000, 1000);
    expect(first.levelDbfs).toBeGreaterThan(-16);
    expect(first.purity).toBeGreaterThan(0.8);
    expect(rms(concealed[7] as Int16Array)).toBeLessThan(rms(concealed[0] as Int16Array) / 4);
  });

  it('refuses an empty or malformed packet with a typed error and keeps decoding the stream after it', () => {
    const decoder = new OpusPcmDecoder(8000);
    const packets = browserOpus(1000, -10, 3);
    decoder.decode(packets[0] as Uint8Array);
    expect(() => decoder.decode(new Uint8Array(0))).toThrow(OpusDecodeError);
    expect(() => decoder.decode(Uint8Array.of(0x0b))).toThrow(OpusDecodeError); // code 3 without its count octet
    expect(() => decoder.decode(Uint8Array.of(0x0b, 0x3f, 0x01))).toThrow(OpusDecodeError); // 63 frames: over 120 ms
    expect(decoder.decode(packets[1] as Uint8Array).length).toBe(160);
  });
});

describe('Opus encoding from 8 kHz', () => {
  it('makes one narrowband 20 ms packet per 160-sample frame that a 48 kHz decoder plays as the same tone', () => {
    const encoder = new OpusPcmEncoder({ complexity: 5 });
    const packets = sineFrames(1000, 8000, amplitudeAt(-10), 160, 25).map((frame) => encoder.encode(frame));
    expect(packets.every((packet) => opusPacketSamples(packet, 48000) === 960)).toBe(true);
    const browser = new OpusPcmDecoder(48000);
    const tone = measureTone(concatSamples(packets.map((packet) => browser.decode(packet)).slice(5)), 48000, 1000);
    expect(tone.levelDbfs).toBeGreaterThan(-11.5);
    expect(tone.levelDbfs).toBeLessThan(-8.5);
    expect(tone.purity).toBeGreaterThan(0.9);
  });
});
