import { describe, expect, it } from 'vitest';
import {
  clearTimer,
  clearTimersWhere,
  emptyTimerSet,
  getTimer,
  nextDeadline,
  setTimer,
  takeDue,
  type TimerSet,
} from '../../../shared/clock/index.ts';
import { FakeClock } from '../../support/fake-clock.ts';

function roundTrip(set: TimerSet): TimerSet {
  return JSON.parse(JSON.stringify(set)) as TimerSet;
}

describe('a timer set multiplexing logical timers onto one physical alarm', () => {
  it('has no deadline while nothing is armed', () => {
    expect(nextDeadline(emptyTimerSet)).toBeUndefined();
    expect(takeDue(emptyTimerSet, 1_000_000)).toEqual({ set: [], due: [] });
  });

  it('wakes at the earliest deadline whatever order timers were armed in', () => {
    let set = setTimer(emptyTimerSet, 'tx1 B', 32_000);
    set = setTimer(set, 'tx1 A', 500);
    set = setTimer(set, 'registration alice', 3_600_000);
    expect(nextDeadline(set)).toBe(500);
  });

  it('re-arming a key replaces its deadline instead of adding a second one', () => {
    let set = setTimer(emptyTimerSet, 'tx1 A', 500);
    set = setTimer(set, 'tx1 A', 1_500);
    expect(set).toHaveLength(1);
    expect(getTimer(set, 'tx1 A')).toBe(1_500);
  });

  it('hands over only the timers that are due, earliest first, and keeps the rest', () => {
    let set = setTimer(emptyTimerSet, 'later', 5_000);
    set = setTimer(set, 'second', 2_000);
    set = setTimer(set, 'first', 1_000);
    const { set: remaining, due } = takeDue(set, 2_000);
    expect(due.map((timer) => timer.key)).toEqual(['first', 'second']);
    expect(remaining.map((timer) => timer.key)).toEqual(['later']);
    expect(nextDeadline(remaining)).toBe(5_000);
  });

  it('returns every missed timer at once after a late wake-up, as an evicted Durable Object would see', () => {
    const clock = new FakeClock(0);
    let set = emptyTimerSet;
    for (const deadline of [500, 1_500, 3_500, 7_500]) set = setTimer(set, `A@${deadline}`, deadline);
    clock.advance(60_000);
    const { set: remaining, due } = takeDue(set, clock.now());
    expect(due.map((timer) => timer.deadline)).toEqual([500, 1_500, 3_500, 7_500]);
    expect(remaining).toEqual([]);
  });

  it('forgets cleared timers, singly or by predicate', () => {
    let set = setTimer(emptyTimerSet, 'tx1 A', 500);
    set = setTimer(set, 'tx1 B', 32_000);
    set = setTimer(set, 'tx2 E', 500);
    expect(clearTimer(set, 'missing')).toBe(set);
    set = clearTimer(set, 'tx2 E');
    expect(set.map((timer) => timer.key)).toEqual(['tx1 A', 'tx1 B']);
    set = clearTimersWhere(set, (key) => key.startsWith('tx1 '));
    expect(nextDeadline(set)).toBeUndefined();
  });

  it('survives JSON persistence unchanged, keys such as __proto__ included', () => {
    let set = setTimer(emptyTimerSet, '__proto__', 10);
    set = setTimer(set, 'constructor', 5);
    const restored = roundTrip(set);
    expect(restored).toEqual(set);
    expect(takeDue(restored, 10).due.map((timer) => timer.key)).toEqual(['constructor', '__proto__']);
  });

  it('refuses a deadline that is not a finite time', () => {
    expect(() => setTimer(emptyTimerSet, 'x', Number.NaN)).toThrow(RangeError);
    expect(() => setTimer(emptyTimerSet, 'x', Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});
