/**
 * G.711 mu-law (PCMU, RTP payload type 0 per RFC 3551 §4.5.14) with lookup tables.
 *
 * ITU-T G.711 §2 and Table 2: mu-law quantises a 14-bit signed linear sample (here the top 14 bits
 * of a 16-bit sample) in eight segments of sixteen intervals each; the character carries the sign
 * (1 = positive) and the inverted segment and interval bits.
 *
 * Encoding depends only on `sample >> 2` (the narrowest decision interval is 4 in 16-bit units), so
 * one 16,384-entry table answers every input; decoding is a 256-entry table. Both are built once at
 * load with the segment method below and checked in the tests against a slow oracle written from
 * the standard's tables, for all 65,536 inputs.
 */

/** The encoder's bias: 33 in 14-bit units, which moves every segment boundary onto a power of two. */
const BIAS = 33;
const MAX_BIASED = 0x1fff;

/** Encodes one 16-bit sample with the segment method (the G.191 reference's `ulaw_compress`). */
function encodeBySegment(sample: number): number {
  const positive = sample >= 0;
  // One's complement for negatives: the 16-bit value x stands for the interval [x, x + 1).
  let magnitude = ((positive ? sample : ~sample) >> 2) + BIAS;
  if (magnitude > MAX_BIASED) magnitude = MAX_BIASED;
  // Biased magnitudes run 33..8191, so the segment (exponent) is floor(log2) - 5, in 0..7.
  const exponent = 31 - Math.clz32(magnitude) - 5;
  const mantissa = (magnitude >> (exponent + 1)) & 0x0f;
  return (positive ? 0x80 : 0x00) | (0x7f ^ ((exponent << 4) | mantissa));
}

/** Decodes one character: the midpoint of its decision interval, in 16-bit units. */
function decodeBySegment(code: number): number {
  const inverted = ~code & 0xff;
  const exponent = (inverted >> 4) & 0x07;
  const mantissa = inverted & 0x0f;
  // ((2m + 33) << (e + 2)) - 132: the interval's midpoint with the bias taken back out.
  const magnitude = (((mantissa << 3) + (BIAS << 2)) << exponent) - (BIAS << 2);
  return code & 0x80 ? magnitude : -magnitude;
}

const ENCODE_TABLE = new Uint8Array(1 << 14);
for (let index = 0; index < ENCODE_TABLE.length; index++) {
  // The table index is the sample's top 14 bits, two's complement.
  ENCODE_TABLE[index] = encodeBySegment(((index << 18) >> 16));
}

const DECODE_TABLE = new Int16Array(256);
for (let code = 0; code < 256; code++) DECODE_TABLE[code] = decodeBySegment(code);

/** The mu-law character for one 16-bit linear sample. */
export function encodePcmuSample(sample: number): number {
  return ENCODE_TABLE[(sample >> 2) & 0x3fff] as number;
}

/** The 16-bit linear value of one mu-law character. */
export function decodePcmuSample(code: number): number {
  return DECODE_TABLE[code & 0xff] as number;
}

/** Encodes `pcm.length` samples into `out` (which must be at least as long). */
export function encodePcmu(pcm: Int16Array, out: Uint8Array): void {
  const count = pcm.length;
  if (out.length < count) throw new RangeError(`PCMU output holds ${out.length} bytes, ${count} needed`);
  for (let i = 0; i < count; i++) out[i] = ENCODE_TABLE[((pcm[i] as number) >> 2) & 0x3fff] as number;
}

/** Decodes `payload.length` characters into `out` (which must be at least as long). */
export function decodePcmu(payload: Uint8Array, out: Int16Array): void {
  const count = payload.length;
  if (out.length < count) throw new RangeError(`PCM output holds ${out.length} samples, ${count} needed`);
  for (let i = 0; i < count; i++) out[i] = DECODE_TABLE[payload[i] as number] as number;
}
