/**
 * Many named logical timers as one plain-JSON value.
 *
 * A Durable Object has a single alarm and Node needs only one real timer; both multiplex every
 * protocol timer (transaction Timers A-M, registration refreshes, 2xx retransmissions) onto it:
 * keep a `TimerSet`, arm the physical timer for `nextDeadline(set)`, and when it fires hand the
 * entries returned by `takeDue(set, now)` to the modules that own them.
 *
 * The set is an array sorted by deadline (then key) rather than a keyed object: the earliest deadline
 * is the first entry, due timers are a prefix, it serialises in a stable order, and arbitrary keys
 * (`__proto__` included) cannot collide with object machinery.
 */

/** One logical timer: a caller-chosen key and an absolute deadline in `Clock` milliseconds. */
export interface TimerEntry {
  readonly key: string;
  readonly deadline: number;
}

/** Sorted by `deadline`, then `key`; each key at most once. Treat as opaque and use the functions below. */
export type TimerSet = readonly TimerEntry[];

/** What `takeDue` returns: the timers whose deadline has passed, earliest first, and the set without them. */
export interface DueTimers {
  readonly set: TimerSet;
  readonly due: readonly TimerEntry[];
}

export const emptyTimerSet: TimerSet = [];

function before(a: TimerEntry, b: TimerEntry): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.key < b.key);
}

/** Arms `key` for `deadline`, replacing any deadline it already had. */
export function setTimer(set: TimerSet, key: string, deadline: number): TimerSet {
  if (!Number.isFinite(deadline)) {
    throw new RangeError(`timer ${key}: deadline must be a finite number of milliseconds`);
  }
  const entry: TimerEntry = { key, deadline };
  const rest = set.filter((timer) => timer.key !== key);
  const index = rest.findIndex((timer) => before(entry, timer));
  if (index === -1) return [...rest, entry];
  return [...rest.slice(0, index), entry, ...rest.slice(index)];
}

/** Disarms `key`; a key that is not armed leaves the set unchanged. */
export function clearTimer(set: TimerSet, key: string): TimerSet {
  return set.some((timer) => timer.key === key) ? set.filter((timer) => timer.key !== key) : set;
}

/** Disarms every key for which `matches` holds, e.g. all timers of one transaction. */
export function clearTimersWhere(set: TimerSet, matches: (key: string) => boolean): TimerSet {
  return set.some((timer) => matches(timer.key)) ? set.filter((timer) => !matches(timer.key)) : set;
}

/** The deadline armed for `key`, or `undefined` when it is not armed. */
export function getTimer(set: TimerSet, key: string): number | undefined {
  return set.find((timer) => timer.key === key)?.deadline;
}

/** The earliest deadline in the set, or `undefined` when nothing is armed (disarm the physical timer). */
export function nextDeadline(set: TimerSet): number | undefined {
  return set[0]?.deadline;
}

/**
 * Removes and returns every timer whose deadline is at or before `now`, earliest first. A late wake-up
 * (a Durable Object alarm after eviction, a busy event loop) therefore returns all missed timers at once,
 * in the order they should have fired.
 */
export function takeDue(set: TimerSet, now: number): DueTimers {
  const count = set.findIndex((timer) => timer.deadline > now);
  if (count === -1) return { set: emptyTimerSet, due: set };
  if (count === 0) return { set, due: [] };
  return { set: set.slice(count), due: set.slice(0, count) };
}
