/**
 * Time as the protocol code sees it: an injected source of milliseconds.
 *
 * Protocol code never reads the wall clock or schedules callbacks itself. It receives `now` and
 * returns absolute deadlines (see `timer-set.ts`); whoever hosts it (a Durable Object alarm, one real
 * timer in Node, a fake clock in tests) decides how to wake up at the earliest deadline.
 */
export interface Clock {
  /** Milliseconds since an arbitrary, fixed origin; never decreases. */
  now(): number;
}

/**
 * The platform clock. `Date.now()` is Web-standard and, unlike `performance.now()`, shares one origin
 * across process restarts and Durable Object evictions, which persisted deadlines rely on.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
};
