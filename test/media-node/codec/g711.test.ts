import { describe, expect, it } from 'vitest';
import {
  PCMA,
  PCMU,
  decodePcma,
  decodePcmaSample,
  decodePcmu,
  decodePcmuSample,
  encodePcma,
  encodePcmaSample,
  encodePcmu,
  encodePcmuSample,
  g711Codec,
} from '../../../media-node/codec/index.ts';
import { referenceAlawDecode, referenceAlawEncode, referenceUlawDecode, referenceUlawEncode } from '../support/g711-reference.ts';
import { measureTone } from '../support/goertzel.ts';

/** Every 16-bit input, in order. */
const ALL_SAMPLES = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);

function mismatches(actual: ArrayLike<number>, expected: (index: number) => number, label: (index: number) => string): string[] {
  const found: string[] = [];
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected(i)) found.push(`${label(i)}: got ${actual[i]}, reference ${expected(i)}`);
  }
  return found;
}

/** G.711 Table 5 (mu-law) and Table 6 (A-law): the digital milliwatt, a 1 kHz tone at 0 dBm0. */
const MU_LAW_MILLIWATT = [0x1e, 0x0b, 0x0b, 0x1e, 0x9e, 0x8b, 0x8b, 0x9e];
const A_LAW_MILLIWATT = [0x34, 0x21, 0x21, 0x34, 0xb4, 0xa1, 0xa1, 0xb4];

describe('G.711 mu-law (PCMU)', () => {
  it('encodes every one of the 65,536 16-bit inputs exactly as the reference algorithm does', () => {
    const out = new Uint8Array(ALL_SAMPLES.length);
    encodePcmu(ALL_SAMPLES, out);
    expect(mismatches(out, (i) => referenceUlawEncode(i - 32768), (i) => `sample ${i - 32768}`)).toEqual([]);
  });

  it('decodes every one of the 256 characters to the reference value', () => {
    const out = new Int16Array(256);
    decodePcmu(ALL_CODES, out);
    expect(mismatches(out, referenceUlawDecode, (i) => `0x${i.toString(16)}`)).toEqual([]);
  });

  it('agrees with hand-checked values at zero, the sign boundary and full scale', () => {
    expect([0, -1, 1, 32767, -32768, 32124, -32124].map(encodePcmuSample)).toEqual([0xff, 0x7f, 0xff, 0x80, 0x00, 0x80, 0x00]);
    // 0xfe is the first step above zero: interval [1, 3) in 14-bit units, decoded 2, i.e. 8.
    expect([0xff, 0x7f, 0xfe, 0x80, 0x00].map(decodePcmuSample)).toEqual([0, 0, 8, 32124, -32124]);
  });

  it('re-encodes every decoded character to itself, except negative zero which becomes positive zero', () => {
    const back = ALL_CODES.filter((code) => encodePcmuSample(decodePcmuSample(code)) !== code);
    expect([...back]).toEqual([0x7f]);
    expect(encodePcmuSample(decodePcmuSample(0x7f))).toBe(0xff);
  });

  it('decodes the digital milliwatt to a 1 kHz tone at 0 dBm0 (3.17 dB below a full-scale sine)', () => {
    const samples = new Int16Array(160);
    decodePcmu(Uint8Array.from({ length: 160 }, (_, i) => MU_LAW_MILLIWATT[i % 8] as number), samples);
    const tone = measureTone(samples, 8000, 1000);
    expect(tone.levelDbfs).toBeCloseTo(-3.17, 1);
    expect(tone.purity).toBeGreaterThan(0.99);
  });

  it('refuses an output buffer too short for the input instead of writing past it', () => {
    expect(() => encodePcmu(new Int16Array(160), new Uint8Array(80))).toThrow(RangeError);
    expect(() => decodePcmu(new Uint8Array(160), new Int16Array(80))).toThrow(RangeError);
  });
});

describe('G.711 A-law (PCMA)', () => {
  it('encodes every one of the 65,536 16-bit inputs exactly as the reference algorithm does', () => {
    const out = new Uint8Array(ALL_SAMPLES.length);
    encodePcma(ALL_SAMPLES, out);
    expect(mismatches(out, (i) => referenceAlawEncode(i - 32768), (i) => `sample ${i - 32768}`)).toEqual([]);
  });

  it('decodes every one of the 256 characters to the reference value', () => {
    const out = new Int16Array(256);
    decodePcma(ALL_CODES, out);
    expect(mismatches(out, referenceAlawDecode, (i) => `0x${i.toString(16)}`)).toEqual([]);
  });

  it('agrees with hand-checked values at zero, the sign boundary, segment edges and full scale', () => {
    // Zero is the positive half of the smallest interval: 0x80 with the even bits inverted, 0xd5.
    expect([0, -1, 15, 16, 255, 256, 32767, -32768].map(encodePcmaSample)).toEqual([0xd5, 0x55, 0xd5, 0xd4, 0xda, 0xc5, 0xaa, 0x2a]);
    expect([0xd5, 0x55, 0xd4, 0xaa, 0x2a].map(decodePcmaSample)).toEqual([8, -8, 24, 32256, -32256]);
  });

  it('re-encodes every decoded character to itself', () => {
    expect([...ALL_CODES.filter((code) => encodePcmaSample(decodePcmaSample(code)) !== code)]).toEqual([]);
  });

  it('decodes the digital milliwatt to a 1 kHz tone at 0 dBm0 (3.14 dB below a full-scale sine)', () => {
    const samples = new Int16Array(160);
    decodePcma(Uint8Array.from({ length: 160 }, (_, i) => A_LAW_MILLIWATT[i % 8] as number), samples);
    const tone = measureTone(samples, 8000, 1000);
    expect(tone.levelDbfs).toBeCloseTo(-3.14, 1);
    expect(tone.purity).toBeGreaterThan(0.99);
  });
});

describe('the G.711 codec descriptors', () => {
  it('carry the RFC 3551 static payload types and encoding names', () => {
    expect([PCMU.payloadType, PCMU.encodingName, PCMA.payloadType, PCMA.encodingName]).toEqual([0, 'PCMU', 8, 'PCMA']);
    expect(g711Codec('pcmu')).toBe(PCMU);
    expect(g711Codec('pcma')).toBe(PCMA);
  });
});
