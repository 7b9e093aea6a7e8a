import { describe, it, expect } from 'vitest';
import { StreamFramer } from '../../../shared/framing/index.ts';
import {
  SipParseError,
  getContacts,
  getFrom,
  getHeaders,
  getRoutes,
  getVia,
  parseMessage,
  type SipMessage,
} from '../../../shared/message/index.ts';

/**
 * Parse time must grow linearly with input size, or a peer can stall the edge with one crafted
 * message (a Durable Object is single-threaded: one slow parse blocks every call of that user).
 *
 * Each case builds a pathological input at sizes n, 4n and 16n and takes the best of several
 * timings of each (the minimum is the measurement least disturbed by other load on
 * the two shared cores). A linear parser grows ~4x and ~16x; a quadratic one ~16x and ~256x. The
 * bound at 16n sits at the geometric mean of the two, 64x: linear cases measured 5-22x here (GC
 * and cache effects push some above 16x), and the one quadratic case found measured 135-230x.
 * n is chosen so the smallest input takes a fraction of a millisecond, which keeps fixed costs
 * (error objects, the message record) from hiding the growth.
 */
const GROWTH_16X_BOUND = 64;
/**
 * Checked at 4n, before the largest size, only to stop a runaway early: a quadratic parser already
 * shows ~16x there, and the 16n run would cost it 256x the smallest. Linear cases measured 2.3-6.7x.
 */
const GROWTH_4X_BOUND = 16;

/** Runs the smallest input for a while first, so that the JIT has settled before anything is timed. */
function warmUp(run: () => void): void {
  const started = performance.now();
  for (let i = 0; i < 50 && performance.now() - started < 100; i += 1) run();
}

/** Best of several timings, stopping early once a size has taken its share of the time budget. */
function bestTime(run: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  let spent = 0;
  for (let i = 0; i < 7 && (i < 3 || spent < 400); i += 1) {
    const started = performance.now();
    run();
    const elapsed = performance.now() - started;
    best = Math.min(best, elapsed);
    spent += elapsed;
    if (spent > 2_000) break;
  }
  return best;
}

/** Parses and reads, counting a refusal (SipParseError) as a result: its cost must be linear too. */
function parseAndRead(text: string, read?: (message: SipMessage) => unknown): void {
  try {
    const message = parseMessage(text);
    read?.(message);
  } catch (error) {
    if (!(error instanceof SipParseError)) throw error;
  }
}

const HEAD = [
  'INVITE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/TCP client.example.com:5060;branch=z9hG4bK776asdhds',
  'From: "Alice" <sip:alice@example.com>;tag=1928301774',
  'To: <sip:bob@example.com>',
  'Call-ID: a84b4c76e66710',
  'CSeq: 314159 INVITE',
].join('\r\n');

/** A message whose header section carries `extra` lines after the usual ones. */
const withLines = (extra: string): string => `${HEAD}\r\n${extra}\r\nContent-Length: 0\r\n\r\n`;

interface GrowthCase {
  readonly name: string;
  /** The repetition count of the pathological element at the smallest size. */
  readonly n: number;
  /** Builds the input for a size once, and returns the work to time on it. */
  readonly run: (size: number) => () => void;
}

/** A case that parses `build(size)` as a message and then reads it with `read`. */
function parseCase(
  name: string,
  n: number,
  build: (size: number) => string,
  read?: (message: SipMessage) => unknown,
): GrowthCase {
  return {
    name,
    n,
    run: (size) => {
      const text = build(size);
      return () => parseAndRead(text, read);
    },
  };
}

/** A case that feeds `build(size)` to a stream framer `chunkSize` octets at a time. */
function framerCase(name: string, n: number, chunkSize: number, build: (size: number) => string): GrowthCase {
  return {
    name,
    n,
    run: (size) => {
      const stream = new TextEncoder().encode(build(size));
      return () => {
        const framer = new StreamFramer({ maxMessageBytes: stream.length + 1 });
        for (let at = 0; at < stream.length; at += chunkSize) framer.push(stream.subarray(at, at + chunkSize));
      };
    },
  };
}

const repeat = (k: number, item: (i: number) => string, separator: string): string =>
  Array.from({ length: k }, (_, i) => item(i)).join(separator);

const CASES: readonly GrowthCase[] = [
  parseCase('thousands of commas in an unknown header', 50_000,
    (k) => withLines(`X-Commas: a${','.repeat(k)}`), (m) => getHeaders(m, 'X-Commas')),
  parseCase('thousands of commas in a list header, read as a list', 5_000,
    (k) => withLines(`Allow: ${'INVITE,'.repeat(k)}BYE`), (m) => getHeaders(m, 'Allow')),
  parseCase('a Via list of thousands of values', 500,
    (k) => withLines(`Via: ${repeat(k, (i) => `SIP/2.0/UDP h${i}.example.com;branch=z9hG4bK${i}`, ', ')}`), getVia),
  parseCase('a Contact list of thousands of values', 500,
    (k) => withLines(`Contact: ${repeat(k, (i) => `"n${i}" <sip:u${i}@h.example.com>;q=0.${i % 10}`, ', ')}`), getContacts),
  parseCase('thousands of escaped quotes in a display name', 5_000,
    (k) => withLines(`Route: "${'\\"'.repeat(k)}" <sip:p.example.com;lr>`), getRoutes),
  parseCase('a From display name of thousands of quote pairs', 5_000,
    (k) => withLines(`X-A: b`).replace(/From: .*\r\n/, `From: "${'\\"'.repeat(k)}" <sip:a@example.com>;tag=1\r\n`), getFrom),
  parseCase('an unterminated quoted string of escaped quotes and commas', 10_000,
    (k) => withLines(`Contact: <sip:a@b>;p="${'\\",'.repeat(k)}`), getContacts),
  parseCase('an unbalanced quote in a list header', 5_000,
    (k) => withLines(`Allow: "${'INVITE,'.repeat(k)}`), (m) => getHeaders(m, 'Allow')),
  parseCase('thousands of angle brackets and no closing one', 20_000,
    (k) => withLines(`Contact: "${'<'.repeat(k)}" <sip:a@b`), getContacts),
  parseCase('thousands of angle brackets in an unknown header', 15_000,
    (k) => withLines(`X-Angles: ${'<a>,'.repeat(k)}`), (m) => getHeaders(m, 'X-Angles')),
  parseCase('thousands of folded continuation lines', 3_000,
    (k) => withLines(`X-Folded: start${'\r\n more'.repeat(k)}`)),
  parseCase('a Via folded over thousands of lines', 2_000,
    (k) => withLines(`Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1${'\r\n ;p=1'.repeat(k)}`), getVia),
  parseCase('thousands of Via parameters', 3_000,
    (k) => withLines(`Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1${';p=1'.repeat(k)}`), getVia),
  parseCase('thousands of URI parameters', 3_000,
    (k) => withLines(`Route: <sip:p.example.com${';lr'.repeat(k)}>`), getRoutes),
  parseCase('thousands of header parameters on a name-addr', 3_000,
    (k) => withLines(`Contact: <sip:a@b>${';x=1'.repeat(k)}`), getContacts),
  parseCase('thousands of header lines', 2_000,
    (k) => withLines(repeat(k, (i) => `X-H${i}: value ${i}`, '\r\n'))),
  parseCase('thousands of header lines without a colon', 2_000,
    (k) => withLines(repeat(k, () => 'no colon on this line', '\r\n'))),
  parseCase('thousands of CRLFs before the start line', 20_000,
    (k) => '\r\n'.repeat(k) + withLines('X-A: b')),
  parseCase('a header section that never ends', 5_000,
    (k) => `${HEAD}\r\n${'X-A: b\r\n'.repeat(k)}`),
  framerCase('the stream framer given a header section one octet at a time', 5_000, 1,
    (k) => `${HEAD}\r\n${'X-A: b\r\n'.repeat(k)}`),
  framerCase('the stream framer given thousands of header lines in small chunks', 2_000, 16,
    (k) => withLines(repeat(k, () => 'X-Pad: 0123456789', '\r\n'))),
];

describe('parse time grows linearly with input size', () => {
  it.each(CASES)('$name', ({ n, run }) => {
    warmUp(run(n));
    const small = bestTime(run(n));
    const medium = bestTime(run(4 * n));
    // Checked before the largest size, so a quadratic parser fails here in seconds, not minutes.
    const at4x = `4x input: ${small.toFixed(2)} ms -> ${medium.toFixed(2)} ms`;
    expect(medium / small, at4x).toBeLessThan(GROWTH_4X_BOUND);
    const large = bestTime(run(16 * n));
    const at16x = `16x input: ${small.toFixed(2)} ms -> ${large.toFixed(2)} ms`;
    expect(large / small, at16x).toBeLessThan(GROWTH_16X_BOUND);
  });
});
