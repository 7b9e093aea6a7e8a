/**
 * fast-check arbitraries for damaged input: random octets, SIP-flavoured garbage, and valid
 * messages mutated the ways real damage and real attacks look (flipped octets, truncation,
 * duplicated spans, stray CR/LF, quotes, brackets and commas).
 */

import fc from 'fast-check';

/** One edit. Positions are fractions of the current length, so an edit fits any input. */
export type Mutation =
  | { readonly op: 'flip'; readonly at: number; readonly octet: number }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'duplicate'; readonly from: number; readonly length: number; readonly to: number }
  | { readonly op: 'insert'; readonly at: number; readonly octets: readonly number[] }
  | { readonly op: 'delete'; readonly at: number; readonly length: number };

/** Uniform over the input: fast-check's default bias towards 0 would pile every edit onto the first octet. */
const fraction = fc.noBias(fc.integer({ min: 0, max: 0xffff })).map((n) => n / 0x10000);

/** Octets that matter to a SIP parser: line ends, quoting, brackets, separators, escapes, NUL, bad UTF-8. */
const TRICKY_INSERTS: readonly (readonly number[])[] = [
  [0x0d], [0x0a], [0x0d, 0x0a], [0x0d, 0x0a, 0x0d, 0x0a], [0x0d, 0x0a, 0x20], [0x22], [0x3c], [0x3e],
  [0x2c], [0x3b], [0x3a], [0x3d], [0x5c], [0x20], [0x09], [0x00], [0xff], [0xc3], [0xe2, 0x82], [0x25],
  [0x40], [0x5b], [0x5d], [0x3f],
];

/**
 * Weighted so that a good share of damaged messages still parse: those reach the typed views and
 * the re-serialisation check, where the subtle bugs are. Truncation and non-ASCII octets mostly
 * stop the parser at its first check, so they are rarer.
 */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('flip' as const),
      at: fraction,
      octet: fc.oneof(
        { weight: 5, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fraction }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('duplicate' as const),
      from: fraction,
      length: fc.integer({ min: 1, max: 64 }),
      to: fraction,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      at: fraction,
      octets: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...TRICKY_INSERTS) },
        { weight: 1, arbitrary: fc.array(fc.constantFrom(...TRICKY_INSERTS.flat()), { minLength: 1, maxLength: 8 }) },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('delete' as const), at: fraction, length: fc.integer({ min: 1, max: 16 }) }),
  },
);

export function applyMutation(input: Uint8Array, mutation: Mutation): Uint8Array {
  const position = (at: number): number => Math.floor(at * (input.length + 1));
  switch (mutation.op) {
    case 'flip': {
      if (input.length === 0) return input;
      const out = input.slice();
      out[Math.min(position(mutation.at), input.length - 1)] = mutation.octet;
      return out;
    }
    case 'truncate':
      return input.slice(0, position(mutation.at));
    case 'duplicate': {
      const start = position(mutation.from);
      return splice(input, position(mutation.to), 0, input.slice(start, start + mutation.length));
    }
    case 'insert':
      return splice(input, position(mutation.at), 0, Uint8Array.from(mutation.octets));
    case 'delete':
      return splice(input, position(mutation.at), mutation.length, new Uint8Array(0));
  }
}

function splice(input: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const end = Math.min(input.length, at + remove);
  const out = new Uint8Array(at + insert.length + (input.length - end));
  out.set(input.subarray(0, at), 0);
  out.set(insert, at);
  out.set(input.subarray(end), at + insert.length);
  return out;
}

/** A valid input damaged by one to four edits in a row. */
export function mutatedArb(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([input, mutations]) => mutations.reduce(applyMutation, input));
}

/** Fragments a SIP parser branches on, so that random sequences of them reach deep into it. */
const SIP_FRAGMENTS = [
  'INVITE ', 'REGISTER ', 'SIP/2.0', ' SIP/2.0', 'SIP/2.0 ', '200 ', '999 ', '1 ', 'OK', '\r\n', '\r\n\r\n', '\n', '\r',
  ' ', '\t', ':', ': ', 'Via', 'v', 'From', 'f', 'To', 'Call-ID', 'i', 'CSeq', 'Contact', 'm', 'Content-Length', 'l',
  'Content-Type', 'c', '0', '5', '4294967296', '-1', 'sip:', 'sips:', 'tel:', '<', '>', '"', '\\', ';', ',', '=', '@',
  '?', '[', ']', '::1', 'a', 'SIP/2.0/UDP ', ';branch=', 'z9hG4bK', ';tag=', '%', '%zz', '\u0000', 'é', '\uFFFD',
];

/** Text made of SIP fragments in random order: mostly wrong, sometimes almost right. */
export const sipishTextArb: fc.Arbitrary<string> = fc
  .array(fc.constantFrom(...SIP_FRAGMENTS), { maxLength: 60 })
  .map((parts) => parts.join(''));

/** Any octets at all, short and long. */
export const randomBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.uint8Array({ maxLength: 1024 }),
);
