/**
 * The figures operators read off a series of round-trip or response times: how many, the median,
 * the 95th percentile and the worst (nearest-rank percentiles, so every figure is a time that was
 * actually measured). Used for PBX links' SIP transactions, media nodes' control requests and
 * devices' responses.
 */

export interface LatencySummary {
  readonly count: number;
  readonly p50_ms: number | null;
  readonly p95_ms: number | null;
  readonly max_ms: number | null;
}

/** The nearest-rank `p`th percentile of sorted values (p in 0..100). */
function nearestRank(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function summarize(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50_ms: null, p95_ms: null, max_ms: null };
  const sorted = values.toSorted((a, b) => a - b);
  return { count: sorted.length, p50_ms: nearestRank(sorted, 50), p95_ms: nearestRank(sorted, 95), max_ms: sorted.at(-1) as number };
}
