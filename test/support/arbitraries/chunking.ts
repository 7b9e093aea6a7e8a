/** Cutting a byte stream into chunks the way TCP segments and TLS records cut it. */

import fc from 'fast-check';

/** Cut points, as fractions of the length; any count from none to many. */
export const cutsArb: fc.Arbitrary<number[]> = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

export function chunk(stream: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const offsets = [...new Set(cuts.map((cut) => Math.floor(cut * stream.length)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const offset of offsets) {
    chunks.push(stream.subarray(from, offset));
    from = offset;
  }
  chunks.push(stream.subarray(from));
  return chunks;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
