/**
 * One measurement window over the calls a scheduler is running: after a settling pause, every
 * meter is reset, the relay's and the generator's CPU time are read, and `windowMs` later
 * everything is read again. The verdict: late + lost packets at the far ends, plus packets the
 * relay itself counted as dropped, over all packets expected, must stay under 0.1 %.
 */
import { machineCpuTicks, ownCpuSeconds } from './proc-stat.ts';
import type { LoadCall } from './load-call.ts';
import type { LoadScheduler } from './load-scheduler.ts';
import { quantile, type StreamWindow } from './stream-meter.ts';

export interface WindowOptions {
  readonly settleMs: number;
  readonly windowMs: number;
  /** Cumulative CPU seconds of the relay process(es). */
  readonly relayCpu: () => number;
  /** Cumulative seconds the relay's main thread waited for a core, when known. */
  readonly relayRunQueueWait?: () => number;
  /** What the relay says about itself, when it does. */
  readonly relayScrape?: () => Promise<RelayScrape>;
  /** Other calls (paced elsewhere) whose meters share the window: the loopback probe. */
  readonly alongside?: readonly LoadCall[];
  /** Started after settling, just before the window, and ended just after it: a packet capture. */
  readonly around?: { readonly begin: () => Promise<void>; readonly end: () => Promise<void> };
}

export interface RelayScrape {
  /** Packets dropped, cumulative. */
  readonly dropped: number;
  /** The same by the relay's `where/reason` labels. */
  readonly droppedBy: Readonly<Record<string, number>>;
  /** Frames of its 20 ms clock skipped after a stall, cumulative. */
  readonly skippedFrames: number;
  /** Longest event-loop delay since the previous scrape. */
  readonly loopDelayMaxMs: number;
}

/** What the relay says of its stalls within a window. */
export interface RelayStalls {
  readonly skippedFrames: number;
  readonly loopDelayMaxMs: number;
}

export interface WindowResult {
  readonly calls: number;
  readonly seconds: number;
  /** Share of one core the relay used, per call. */
  readonly relayCpuPerCall: number;
  /** Share of one core the relay used in all. */
  readonly relayCores: number;
  readonly generatorCores: number;
  /** Share of the window the relay's main thread spent waiting for a core (NaN when not known). */
  readonly relayWaitFraction: number;
  /** Share of the machine's CPU time a hypervisor took for other guests during the window. */
  readonly stealFraction: number;
  readonly expected: number;
  readonly lost: number;
  readonly late: number;
  readonly relayDropped: number;
  /** Dropped in the window by `where/reason`, the non-zero ones. */
  readonly relayDroppedBy: Readonly<Record<string, number>>;
  /** The relay's own view of stalls in the window, when it says. */
  readonly relayStalls: RelayStalls | undefined;
  /** (late + lost + dropped) / expected. */
  readonly badFraction: number;
  /** Share of the generator's sends that left late: above 0.1 % the generator, not the relay, is in doubt. */
  readonly lateSendFraction: number;
  /** Late and lost per direction: what the PBX side received, and the browser side. */
  readonly byDirection: { readonly toPbx: DirectionWindow; readonly toBrowser: DirectionWindow };
  /** Pass-through only: send-to-arrival, ms, per direction. */
  readonly transit: { readonly browserToPbx: readonly number[]; readonly pbxToBrowser: readonly number[] };
  /** The `alongside` calls' send-to-arrival, ms, as the window closed, in their order. */
  readonly alongside: readonly { readonly toPbx: readonly number[]; readonly toBrowser: readonly number[] }[];
}

export const BAD_FRACTION_LIMIT = 0.001;

export type DirectionWindow = StreamWindow & { readonly worstMs: number };

export async function measureWindow(scheduler: LoadScheduler, options: WindowOptions): Promise<WindowResult> {
  await sleep(options.settleMs);
  await options.around?.begin();
  const calls = scheduler.calls;
  for (const call of [...calls, ...(options.alongside ?? [])]) {
    call.atPbx.reset();
    call.atBrowser.reset();
  }
  scheduler.takeCounts();
  const scrape0 = await options.relayScrape?.();
  const started = performance.now();
  const relay0 = options.relayCpu();
  const wait0 = options.relayRunQueueWait?.() ?? Number.NaN;
  const machine0 = machineCpuTicks();
  const own0 = ownCpuSeconds();
  await sleep(options.windowMs);
  const seconds = (performance.now() - started) / 1000;
  const relayCores = (options.relayCpu() - relay0) / seconds;
  const relayWaitFraction = ((options.relayRunQueueWait?.() ?? Number.NaN) - wait0) / seconds;
  const machine1 = machineCpuTicks();
  const stealFraction = machine1.total === machine0.total ? 0 : (machine1.steal - machine0.steal) / (machine1.total - machine0.total);
  const generatorCores = (ownCpuSeconds() - own0) / seconds;
  const sends = scheduler.takeCounts();
  // The meters are read as the window closes: what comes after (reading the capture back takes a
  // few hundred milliseconds of this process) must not count against the relay.
  const toPbx = { received: 0, expected: 0, lost: 0, late: 0, worstMs: 0 };
  const toBrowser = { received: 0, expected: 0, lost: 0, late: 0, worstMs: 0 };
  const browserToPbx: number[] = [];
  const pbxToBrowser: number[] = [];
  for (const call of calls) {
    for (const [meter, sum] of [
      [call.atPbx, toPbx],
      [call.atBrowser, toBrowser],
    ] as const) {
      const window = meter.window();
      // A call that received nothing at all has lost a whole window's worth.
      const expectedHere = window.expected === 0 ? Math.round(seconds * 50) : window.expected;
      sum.received += window.received;
      sum.expected += expectedHere;
      sum.lost += window.expected === 0 ? expectedHere : window.lost;
      sum.late += window.late;
      sum.worstMs = Math.max(sum.worstMs, window.worstMs);
    }
    browserToPbx.push(...call.atPbx.transit);
    pbxToBrowser.push(...call.atBrowser.transit);
  }
  const alongside = (options.alongside ?? []).map((call) => ({ toPbx: [...call.atPbx.transit], toBrowser: [...call.atBrowser.transit] }));
  await options.around?.end();
  const scrape1 = await options.relayScrape?.();
  const dropped = scrape0 === undefined || scrape1 === undefined ? 0 : scrape1.dropped - scrape0.dropped;
  const expected = toPbx.expected + toBrowser.expected;
  const lost = toPbx.lost + toBrowser.lost;
  const late = toPbx.late + toBrowser.late;
  return {
    calls: calls.length,
    seconds,
    relayCpuPerCall: calls.length === 0 ? 0 : relayCores / calls.length,
    relayCores,
    generatorCores,
    relayWaitFraction,
    stealFraction,
    expected,
    lost,
    late,
    relayDropped: dropped,
    relayDroppedBy: scrape0 === undefined || scrape1 === undefined ? {} : droppedBetween(scrape0, scrape1),
    relayStalls: scrape0 === undefined || scrape1 === undefined ? undefined : stallsBetween(scrape0, scrape1),
    badFraction: expected === 0 ? 1 : (late + lost + dropped) / expected,
    lateSendFraction: sends.sends === 0 ? 0 : sends.lateSends / sends.sends,
    byDirection: { toPbx, toBrowser },
    transit: { browserToPbx, pbxToBrowser },
    alongside,
  };
}

function droppedBetween(before: RelayScrape, after: RelayScrape): Record<string, number> {
  const by: Record<string, number> = {};
  for (const [key, count] of Object.entries(after.droppedBy)) {
    const inWindow = count - (before.droppedBy[key] ?? 0);
    if (inWindow > 0) by[key] = inWindow;
  }
  return by;
}

function stallsBetween(before: RelayScrape, after: RelayScrape): RelayStalls {
  return { skippedFrames: after.skippedFrames - before.skippedFrames, loopDelayMaxMs: after.loopDelayMaxMs };
}

export function transitSummary(values: readonly number[]): { p50: number; p99: number; n: number } {
  return { p50: quantile(values, 0.5), p99: quantile(values, 0.99), n: values.length };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
