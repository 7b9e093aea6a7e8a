/**
 * The most calls one core sustains: a search over N. Each step sets the pool to N calls and
 * measures short windows; a window passes when late + lost + dropped stay under 0.1 % and the
 * relay used at most one core.
 *
 * On this shared machine other work takes the cores in bursts of a second or more, stalling relay
 * and generator alike. Such a burst shows first in the generator missing its own send slots, so
 * only windows where it kept its pace (under 0.5 % late sends) count: a step is decided by two
 * counted windows agreeing, from up to six measured. A step that never gets two clean windows is
 * `unclear` and taken as a failure, flagged. A relay that is really overloaded fails its clean
 * windows too. The search grows N by half until a step fails, then bisects, and stops when the
 * bracket is within ~8 % or its time budget is spent (the last passing N is then a lower bound).
 */
import type { CallPool } from './call-pool.ts';
import type { LoadCall } from './load-call.ts';
import type { LoadScheduler } from './load-scheduler.ts';
import { BAD_FRACTION_LIMIT, measureWindow, type WindowOptions, type WindowResult } from './load-window.ts';

export interface SearchStep {
  readonly calls: number;
  readonly verdict: 'pass' | 'fail' | 'unclear';
  readonly windows: readonly WindowResult[];
}

export interface SearchResult {
  /** The most calls that passed; 0 if none did. */
  readonly best: number;
  /** The fewest that failed, if any did. */
  readonly failedAt: number | undefined;
  readonly steps: readonly SearchStep[];
  /** Whether a step stayed unclear (the machine kept stalling the generator too). */
  readonly generatorSuspect: boolean;
  readonly budgetSpent: boolean;
}

export interface SearchOptions {
  readonly start: number;
  readonly max: number;
  readonly budgetMs: number;
  /** `settleMs` is waited once per step, before the first of its windows. */
  readonly window: WindowOptions;
  readonly onStep?: (step: SearchStep) => void;
}

const MAX_WINDOWS_PER_STEP = 6;
const AGREEING_WINDOWS = 2;
/** Above this share of late sends the generator was stalled, and the window tells nothing about the relay. */
export const GENERATOR_STALLED = 0.005;

export function passes(result: WindowResult): boolean {
  return result.badFraction < BAD_FRACTION_LIMIT && result.relayCores <= 1.0;
}

export function counted(result: WindowResult): boolean {
  return result.lateSendFraction <= GENERATOR_STALLED;
}

/** Measures windows until two counted ones agree, or six have been tried. */
async function measureStep(scheduler: LoadScheduler, window: WindowOptions): Promise<{ verdict: SearchStep['verdict']; windows: WindowResult[] }> {
  const windows: WindowResult[] = [];
  while (windows.length < MAX_WINDOWS_PER_STEP) {
    windows.push(await measureWindow(scheduler, { ...window, settleMs: windows.length === 0 ? window.settleMs : 0 }));
    const clean = windows.filter(counted);
    if (clean.filter(passes).length >= AGREEING_WINDOWS) return { verdict: 'pass', windows };
    if (clean.filter((result) => !passes(result)).length >= AGREEING_WINDOWS) return { verdict: 'fail', windows };
  }
  return { verdict: 'unclear', windows };
}

export async function searchCapacity<T extends LoadCall>(pool: CallPool<T>, scheduler: LoadScheduler, options: SearchOptions): Promise<SearchResult> {
  const deadline = performance.now() + options.budgetMs;
  const stepMs = options.window.settleMs + AGREEING_WINDOWS * options.window.windowMs;
  const steps: SearchStep[] = [];
  let good = 0;
  let bad: number | undefined;
  let n = Math.max(2, Math.min(options.max, Math.round(options.start)));
  let generatorSuspect = false;
  for (;;) {
    await pool.resize(n);
    const { verdict, windows } = await measureStep(scheduler, options.window);
    const step = { calls: pool.size, verdict, windows };
    steps.push(step);
    options.onStep?.(step);
    if (verdict === 'pass') good = Math.max(good, pool.size);
    else {
      bad = bad === undefined ? pool.size : Math.min(bad, pool.size);
      if (verdict === 'unclear') generatorSuspect = true;
    }
    const next = bad === undefined ? Math.min(options.max, Math.ceil(n * 1.5)) : Math.floor((good + bad) / 2);
    const narrow = bad !== undefined && bad - good <= Math.max(2, Math.ceil(good * 0.08));
    const atMax = bad === undefined && n >= options.max;
    if (narrow || atMax || next === n || next <= good) return { best: good, failedAt: bad, steps, generatorSuspect, budgetSpent: false };
    // A step takes the set-up of new calls plus its windows; do not start one that cannot finish.
    if (performance.now() + stepMs + 5000 > deadline) return { best: good, failedAt: bad, steps, generatorSuspect, budgetSpent: true };
    n = next;
  }
}
