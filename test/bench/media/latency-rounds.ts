/**
 * Pass-through latency in rounds: a window through the node, then one through rtpengine, again and
 * again, each with its own capture. On a shared machine the CPU the hypervisor steals comes and goes
 * within seconds, and a spell of it sets the p99 of whichever relay's window it falls on; relays
 * measured turn about see the same machine, and a round whose steal is high shows as such next to
 * its figures rather than being taken for the relay.
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
  readonly window: WindowOptions;
}

export interface RoundsOptions {
  readonly scheduler: LoadScheduler;
  readonly calls: number;
  readonly relays: readonly RoundRelay[];
  /** The first round to run (earlier ones come from elsewhere) and the last. */
  readonly from: number;
  readonly to: number;
  /** A capture around a window, its figures (or why there are none) handed to `into`. */
  readonly capturing: (into: (result: CapturedTransit | string) => void) => WindowOptions['around'];
  readonly progress: (line: string) => void;
}

export async function runLatencyRounds(options: RoundsOptions): Promise<LatencyRound[]> {
  const rounds: LatencyRound[] = [];
  for (let round = options.from; round <= options.to; round++) {
    for (const relay of options.relays) {
      options.progress(`latency round ${round}: ${relay.name}, ${options.calls} pass-through calls`);
      const pool = new CallPool(options.scheduler, (serial) => relay.open(round, serial), relay.parallel);
      try {
        await pool.resize(options.calls);
        let captured: CapturedTransit | string = 'no capture';
        const around = options.capturing((result) => (captured = result));
        const result = await measureWindow(options.scheduler, { ...relay.window, around });
        rounds.push(latencyRound(round, relay.name, result.stealFraction, captured));
      } finally {
        await pool.resize(0);
      }
    }
  }
  return rounds;
}

export function latencyRound(round: number, relay: RelayName, stealFraction: number, captured: CapturedTransit | string | undefined): LatencyRound {
  if (captured === undefined || typeof captured === 'string') return { round, relay, stealFraction, matched: 0 };
  const matched = captured.browserToPbx.matched + captured.pbxToBrowser.matched;
  if (matched === 0) return { round, relay, stealFraction, matched };
  const added = Float64Array.from([...captured.browserToPbx.addedMs, ...captured.pbxToBrowser.addedMs]).sort();
  const own = Float64Array.from([...captured.browserToPbx.ownMs, ...captured.pbxToBrowser.ownMs]).sort();
  return {
    round,
    relay,
    stealFraction,
    added: { p50: sortedQuantile(added, 0.5), p99: sortedQuantile(added, 0.99), p999: sortedQuantile(added, 0.999) },
    ownP99: sortedQuantile(own, 0.99),
    burstMax: Math.max(captured.browserToPbx.burstMax, captured.pbxToBrowser.burstMax),
    matched,
  };
}

/** The rounds as a table, then per relay the median p99 over the rounds and how many stayed under `goalMs`. */
export function latencyRoundLines(rounds: readonly LatencyRound[], goalMs: number): string[] {
  const lines = [
    '| round | relay | CPU stolen by the hypervisor | packets matched | added p50 | added p99 | added p99.9 | own p99 | most packets in within 1 ms |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const ms = (value: number | undefined): string => (value === undefined ? '-' : `${value.toFixed(3)} ms`);
  for (const round of rounds) {
    lines.push(
      `| ${round.round} | ${round.relay} | ${(round.stealFraction * 100).toFixed(1)} % | ${round.matched} | ${ms(round.added?.p50)} | ${ms(round.added?.p99)} | ${ms(round.added?.p999)} | ${ms(round.ownP99)} | ${round.burstMax ?? '-'} |`,
    );
  }
  for (const relay of ['sipedge', 'rtpengine', 'bare Node relay'] as const) {
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
