import type { Clock } from '../../shared/clock/clock.ts';

/**
 * A clock that moves only when the test says so. Protocol code takes `now` as an argument and
 * returns deadlines, so tests advance this clock to a deadline and then deliver the timer event.
 */
export class FakeClock implements Clock {
  #now: number;

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves forward by `ms` and returns the new time. */
  advance(ms: number): number {
    if (ms < 0) throw new RangeError('a clock never goes back');
    this.#now += ms;
    return this.#now;
  }

  /** Moves forward to the absolute time `ms` (no-op if already there) and returns it. */
  advanceTo(ms: number): number {
    if (ms < this.#now) throw new RangeError(`a clock never goes back (now ${this.#now}, asked ${ms})`);
    this.#now = ms;
    return this.#now;
  }
}
