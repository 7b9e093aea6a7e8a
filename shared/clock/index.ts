export type { Clock } from './clock.ts';
export { systemClock } from './clock.ts';
export type { DueTimers, TimerEntry, TimerSet } from './timer-set.ts';
export {
  clearTimer,
  clearTimersWhere,
  emptyTimerSet,
  getTimer,
  nextDeadline,
  setTimer,
  takeDue,
} from './timer-set.ts';
