/**
 * Pass-through latency in rounds, every relay carrying its calls in the same window under one
 * capture. On a shared virtual machine the CPU the hypervisor steals comes and goes within seconds,
 * and a spell of it sets the p99 of whichever relay runs through it: relays measured in separate
 * windows are measured on different machines. In one window they share the spells, and the
 * generator's bursts, and each round's stolen CPU is shown next to its figures.
 */
import { CallPool } from './call-pool.ts';
import type { LoadCall } from './load-call.ts';
import type { LoadScheduler } from './load-scheduler.ts';
import { measureWindow, type WindowOptions } from './load-window.ts';
import { sortedQuantile, type TransitFigures } from './relay-transit.ts';

export interface CapturedTransit {
  readonly browserToPbx: TransitFigures;
  readonly pbxToBrowser: TransitFigures;
  readonly droppedByKernel: number;
}

export type RelayName = 'sipedge' | 'rtpengine' | 'bare Node relay';

/** One relay's window of one round. */
export interface LatencyRound {
  readonly round: number;
  readonly relay: RelayName;
  readonly stealFraction: number;
  /** The relay's CPU over the round, per call (a fraction of one core). */
  readonly cpuPerCall: number;
  /** Both directions together, ms; undefined when the capture gave nothing. */
  readonly added?: { readonly p50: number; readonly p99: number; readonly p999: number };
  readonly ownP99?: number;
  readonly burstMax?: number;
  readonly matched: number;
}

export interface RoundRelay {
  readonly name: RelayName;
  /** Sets up a call; `round` and `serial` together are unique. */
  readonly open: (round: number, serial: number) => Promise<LoadCall>;
  /** Calls set up at once. */
  readonly parallel: number;
  /** The relay process's CPU time so far, seconds. */
  readonly cpuSeconds: () => number;
}

export interface RoundsOptions {
  readonly scheduler: LoadScheduler;
  /** Calls per relay. */
  readonly calls: number;
  readonly relays: readonly RoundRelay[];
  readonly rounds: number;
  /** The window's settling time, length and the relay figures it reads (the media node's). */
  readonly window: WindowOptions;
  /** A capture around the window, its figures per group of calls (or why there are none) handed to `into`. */
  readonly capturing: (groups: () => readonly (readonly LoadCall[])[], into: (results: readonly (CapturedTransit | string)[]) => void) => WindowOptions['around'];
  readonly progress: (line: string) => void;
}

export async function runLatencyRounds(options: RoundsOptions): Promise<LatencyRound[]> {
  const rounds: LatencyRound[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    options.progress(`latency round ${round}: ${options.relays.map((relay) => relay.name).join(', ')} with ${options.calls} pass-through calls each, at once`);
    const groups: LoadCall[][] = options.relays.map(() => []);
    const pools = options.relays.map(
      (relay, index) =>
        new CallPool(
          options.scheduler,
          async (serial) => {
            const call = await relay.open(round, serial);
            groups[index]?.push(call);
            return call;
          },
          relay.parallel,
        ),
    );
    try {
      for (const pool of pools) await pool.resize(options.calls);
      let captured: readonly (CapturedTransit | string)[] = [];
      const around = options.capturing(() => groups, (results) => (captured = results));
      const cpu0 = options.relays.map((relay) => relay.cpuSeconds());
      const started = performance.now();
      const result = await measureWindow(options.scheduler, { ...options.window, around });
      const seconds = (performance.now() - started) / 1000;
      options.relays.forEach((relay, index) => {
        const cpuPerCall = (relay.cpuSeconds() - (cpu0[index] as number)) / seconds / options.calls;
        rounds.push(latencyRound(round, relay.name, result.stealFraction, cpuPerCall, captured[index]));
      });
    } finally {
      for (const pool of pools) await pool.resize(0);
    }
  }
  return rounds;
}

export function latencyRound(round: number, relay: RelayName, stealFraction: number, cpuPerCall: number, captured: CapturedTransit | string | undefined): LatencyRound {
  if (captured === undefined || typeof captured === 'string') return { round, relay, stealFraction, cpuPerCall, matched: 0 };
  const matched = captured.browserToPbx.matched + captured.pbxToBrowser.matched;
  if (matched === 0) return { round, relay, stealFraction, cpuPerCall, matched };
  const added = Float64Array.from([...captured.browserToPbx.addedMs, ...captured.pbxToBrowser.addedMs]).sort();
  const own = Float64Array.from([...captured.browserToPbx.ownMs, ...captured.pbxToBrowser.ownMs]).sort();
  return {
    round,
    relay,
    stealFraction,
    cpuPerCall,
    added: { p50: sortedQuantile(added, 0.5), p99: sortedQuantile(added, 0.99), p999: sortedQuantile(added, 0.999) },
    ownP99: sortedQuantile(own, 0.99),
    burstMax: Math.max(captured.browserToPbx.burstMax, captured.pbxToBrowser.burstMax),
    matched,
  };
}

/** The rounds as a table, then per relay the median p99 over the rounds and how many stayed under `goalMs`. */
export function latencyRoundLines(rounds: readonly LatencyRound[], goalMs: number): string[] {
  const lines = [
    '| round | relay | CPU stolen by the hypervisor | relay CPU per call | packets matched | added p50 | added p99 | added p99.9 | own p99 | most packets in within 1 ms |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const ms = (value: number | undefined): string => (value === undefined ? '-' : `${value.toFixed(3)} ms`);
  for (const round of rounds) {
    lines.push(
      `| ${round.round} | ${round.relay} | ${(round.stealFraction * 100).toFixed(1)} % | ${(round.cpuPerCall * 100).toFixed(2)} % | ${round.matched} | ${ms(round.added?.p50)} | ${ms(round.added?.p99)} | ${ms(round.added?.p999)} | ${ms(round.ownP99)} | ${round.burstMax ?? '-'} |`,
    );
  }
  for (const relay of new Set(rounds.map((round) => round.relay))) {
    const measured = rounds.filter((round) => round.relay === relay && round.added !== undefined);
    if (measured.length === 0) continue;
    const p99s = Float64Array.from(measured.map((round) => round.added?.p99 ?? Number.NaN)).sort();
    const under = measured.filter((round) => (round.added?.p99 ?? Infinity) < goalMs).length;
    const calmest = measured.reduce((best, round) => (round.stealFraction < best.stealFraction ? round : best));
    lines.push(
      `  ${relay}: added p99 median ${ms(median(p99s))} over ${measured.length} rounds (best ${ms(p99s[0])}, worst ${ms(p99s[p99s.length - 1])}); under ${goalMs} ms in ${under} of ${measured.length}; in the round with the least CPU stolen (${(calmest.stealFraction * 100).toFixed(1)} %): ${ms(calmest.added?.p99)}`,
    );
  }
  return lines;
}

export function latencyRoundsJson(rounds: readonly LatencyRound[]): unknown[] {
  const round4 = (value: number | undefined): number | null => (value === undefined ? null : Math.round(value * 10_000) / 10_000);
  return rounds.map((round) => ({
    round: round.round,
    relay: round.relay,
    stealPercent: Math.round(round.stealFraction * 10_000) / 100,
    cpuPerCallPercent: Math.round(round.cpuPerCall * 100_000) / 1000,
    matched: round.matched,
    addedMs: round.added === undefined ? null : { p50: round4(round.added.p50), p99: round4(round.added.p99), p999: round4(round.added.p999) },
    ownP99Ms: round4(round.ownP99),
    burstMax: round.burstMax ?? null,
  }));
}

function median(sorted: Float64Array): number | undefined {
  if (sorted.length === 0) return undefined;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
