/**
 * Arithmetic on RTP's wrapping counters: the 16-bit sequence number and the 32-bit timestamp
 * (RFC 3550 §5.1) compare by serial-number arithmetic (RFC 1982 §3.2), as RFC 3550 A.1 does.
 */

/** a - b for 16-bit sequence numbers, in -32768..32767 (positive: a is newer). */
export function sequenceDelta(a: number, b: number): number {
  return ((((a - b) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
}

/** a - b for 32-bit timestamps, in -2^31..2^31-1 (positive: a is later). */
export function timestampDelta(a: number, b: number): number {
  return (a - b) | 0;
}

/** Adds to a sequence number, wrapping at 2^16. */
export function addSequence(sequenceNumber: number, delta: number): number {
  return (sequenceNumber + delta) & 0xffff;
}

/** Adds to a timestamp, wrapping at 2^32. */
export function addTimestamp(timestamp: number, delta: number): number {
  return (timestamp + delta) >>> 0;
}

/**
 * RFC 3550 A.1: a jump of more than MAX_DROPOUT packets ahead, or more than MAX_MISORDER behind,
 * is not loss or reordering but a restarted source.
 */
export const MAX_DROPOUT = 3000;
export const MAX_MISORDER = 100;
