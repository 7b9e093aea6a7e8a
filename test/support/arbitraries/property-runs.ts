/**
 * How many cases each property runs.
 *
 * `SIPEDGE_PROPERTY_RUNS` overrides every property at once: small for a quick check while
 * editing, large for a soak run. Without it each property uses its own default, chosen so that
 * the whole suite stays under about a minute on two slow cores.
 */
export function propertyRuns(defaultRuns: number): number {
  const configured = process.env['SIPEDGE_PROPERTY_RUNS'];
  if (configured === undefined || configured === '') return defaultRuns;
  const runs = Number(configured);
  if (!Number.isSafeInteger(runs) || runs <= 0) {
    throw new RangeError(`SIPEDGE_PROPERTY_RUNS must be a positive integer, got "${configured}"`);
  }
  return runs;
}

/**
 * A test time limit for `runs` cases that each take about `msPerRun` on an idle machine: four
 * times that, for other load on the machine's cores, and never below vitest's 30 s.
 */
export function propertyTimeout(runs: number, msPerRun: number): number {
  return Math.max(30_000, Math.ceil(runs * msPerRun * 4));
}
