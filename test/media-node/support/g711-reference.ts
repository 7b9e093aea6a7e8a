/**
 * A slow, literal G.711 oracle written from the standard's tables (ITU-T G.711, Tables 1 and 2),
 * independent of the segment arithmetic the codec uses: it lists every decision interval and
 * searches them one by one. Tests compare the fast tables against it for all 65,536 inputs.
 *
 * Scaling: A-law's tables are in units where the overload point is 4,096 (13-bit signed linear),
 * mu-law's where it is 8,159 (14-bit), so one table unit is 8 (A-law) or 4 (mu-law) units of a
 * 16-bit sample. A 16-bit value x stands for the interval [x, x + 1), so its amplitude is x + 0.5:
 * that makes -1 a tiny negative value, and it keeps every input off the decision values.
 */

interface Interval {
  /** Lower decision value, in table units (inclusive). */
  readonly low: number;
  /** Upper decision value (exclusive). */
  readonly high: number;
  /** Decoded output value, in table units. */
  readonly output: number;
}

/** Table 1 (A-law): segment 1 and 2 steps of 2, then doubling; outputs at the interval midpoints. */
function aLawIntervals(): Interval[] {
  const segments = [
    { start: 0, step: 2 },
    { start: 32, step: 2 },
    { start: 64, step: 4 },
    { start: 128, step: 8 },
    { start: 256, step: 16 },
    { start: 512, step: 32 },
    { start: 1024, step: 64 },
    { start: 2048, step: 128 },
  ];
  return segments.flatMap(({ start, step }) =>
    Array.from({ length: 16 }, (_, j) => ({ low: start + j * step, high: start + (j + 1) * step, output: start + j * step + step / 2 })),
  );
}

/**
 * Table 2 (mu-law): the first interval is [0, 1) with output 0; then steps of 2 up to 31, and each
 * later segment doubles the step: 31-95 by 4, 95-223 by 8, ... 4063-8159 by 256.
 */
function muLawIntervals(): Interval[] {
  const intervals: Interval[] = [{ low: 0, high: 1, output: 0 }];
  for (let j = 0; j < 15; j++) intervals.push({ low: 1 + 2 * j, high: 3 + 2 * j, output: 2 + 2 * j });
  let start = 31;
  for (let segment = 2, step = 4; segment <= 8; segment++, step *= 2) {
    for (let j = 0; j < 16; j++) intervals.push({ low: start + j * step, high: start + (j + 1) * step, output: start + j * step + step / 2 });
    start += 16 * step;
  }
  return intervals;
}

const A_LAW = aLawIntervals();
const MU_LAW = muLawIntervals();

/** Index of the interval holding `amplitude`; beyond the last decision value the last interval. */
function intervalIndex(intervals: readonly Interval[], amplitude: number): number {
  for (let n = 0; n < intervals.length; n++) {
    const interval = intervals[n] as Interval;
    if (amplitude >= interval.low && amplitude < interval.high) return n;
  }
  return intervals.length - 1;
}

/** A-law character: sign bit 1 for positive, then segment and interval, with even bits inverted. */
export function referenceAlawEncode(sample: number): number {
  const positive = sample >= 0;
  const amplitude = Math.abs(sample + 0.5) / 8;
  const n = intervalIndex(A_LAW, amplitude);
  return ((positive ? 0x80 : 0) | n) ^ 0x55;
}

export function referenceAlawDecode(code: number): number {
  const n = (code ^ 0x55) & 0x7f;
  const value = (A_LAW[n] as Interval).output * 8;
  return code & 0x80 ? value : -value;
}

/** mu-law character: sign bit 1 for positive, and the segment and interval bits inverted. */
export function referenceUlawEncode(sample: number): number {
  const positive = sample >= 0;
  const amplitude = Math.abs(sample + 0.5) / 4;
  const n = intervalIndex(MU_LAW, amplitude);
  return (positive ? 0x80 : 0) | (0x7f - n);
}

export function referenceUlawDecode(code: number): number {
  const n = 0x7f - (code & 0x7f);
  const value = (MU_LAW[n] as Interval).output * 4;
  return code & 0x80 ? value : -value;
}
