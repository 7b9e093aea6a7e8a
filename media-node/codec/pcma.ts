/**
 * G.711 A-law (PCMA, RTP payload type 8 per RFC 3551 §4.5.14) with lookup tables.
 *
 * ITU-T G.711 §2 and Table 1: A-law quantises a 13-bit signed linear sample in eight segments of
 * sixteen intervals each (the first two segments share one step); the character carries the sign
 * (1 = positive), the segment and the interval, with the even bits inverted before transmission.
 *
 * Every decision value of A-law is a multiple of 16 in 16-bit units, so encoding depends only on
 * `sample >> 4`: one 4,096-entry table answers every input, and decoding is a 256-entry table. Both
 * are built once at load with the segment method below and checked in the tests against a slow
 * oracle written from the standard's tables, for all 65,536 inputs.
 */

/** G.711: the even bits of every A-law character are inverted. */
const EVEN_BITS = 0x55;

/** Encodes one 16-bit sample with the segment method (the G.191 reference's `alaw_compress`). */
function encodeBySegment(sample: number): number {
  const positive = sample >= 0;
  // One's complement for negatives: the 16-bit value x stands for the interval [x, x + 1).
  let index = (positive ? sample : ~sample) >> 4; // 0..2047: 16-unit steps of the first segments
  if (index > 15) {
    let exponent = 1;
    while (index > 31) {
      index >>= 1;
      exponent++;
    }
    index = (exponent << 4) | (index - 16); // drop the leading 1, keep four bits of mantissa
  }
  return ((positive ? 0x80 : 0x00) | index) ^ EVEN_BITS;
}

/** Decodes one character: the midpoint of its decision interval, in 16-bit units. */
function decodeBySegment(code: number): number {
  const bits = (code ^ EVEN_BITS) & 0x7f;
  const exponent = bits >> 4;
  let magnitude = bits & 0x0f;
  if (exponent > 0) magnitude += 16; // the leading 1 of segments 2..8
  magnitude = (magnitude << 4) + 8; // left-justify and add half a step
  if (exponent > 1) magnitude <<= exponent - 1;
  return code & 0x80 ? magnitude : -magnitude;
}

const ENCODE_TABLE = new Uint8Array(1 << 12);
for (let index = 0; index < ENCODE_TABLE.length; index++) {
  // The table index is the sample's top 12 bits, two's complement.
  ENCODE_TABLE[index] = encodeBySegment((index << 20) >> 16);
}

const DECODE_TABLE = new Int16Array(256);
for (let code = 0; code < 256; code++) DECODE_TABLE[code] = decodeBySegment(code);

/** The A-law character for one 16-bit linear sample. */
export function encodePcmaSample(sample: number): number {
  return ENCODE_TABLE[(sample >> 4) & 0x0fff] as number;
}

/** The 16-bit linear value of one A-law character. */
export function decodePcmaSample(code: number): number {
  return DECODE_TABLE[code & 0xff] as number;
}

/** Encodes `pcm.length` samples into `out` (which must be at least as long). */
export function encodePcma(pcm: Int16Array, out: Uint8Array): void {
  const count = pcm.length;
  if (out.length < count) throw new RangeError(`PCMA output holds ${out.length} bytes, ${count} needed`);
  for (let i = 0; i < count; i++) out[i] = ENCODE_TABLE[((pcm[i] as number) >> 4) & 0x0fff] as number;
}

/** Decodes `payload.length` characters into `out` (which must be at least as long). */
export function decodePcma(payload: Uint8Array, out: Int16Array): void {
  const count = payload.length;
  if (out.length < count) throw new RangeError(`PCM output holds ${out.length} samples, ${count} needed`);
  for (let i = 0; i < count; i++) out[i] = DECODE_TABLE[payload[i] as number] as number;
}
