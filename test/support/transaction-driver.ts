/**
 * Drives one transaction state machine the way a host does: every event goes through the pure
 * transition function, the state is persisted as JSON between every two steps, and timers fire by
 * moving a fake clock to the earliest armed deadline.
 */
import type { TransactionAction, TransactionTimer, Transition } from '../../shared/transaction/transaction-event.ts';
import {
  transactionTransition,
  type Transaction,
  type TransactionEvent,
} from '../../shared/transaction/transaction.ts';
import { FakeClock } from './fake-clock.ts';
import { persisted } from './persisted.ts';

export interface LoggedAction {
  readonly at: number;
  readonly action: TransactionAction;
}

export class TransactionDriver<T extends Transaction> {
  readonly clock: FakeClock;
  readonly log: LoggedAction[] = [];
  #transaction: T;

  constructor(start: Transition<T>, clock: FakeClock) {
    this.clock = clock;
    this.#transaction = persisted(start.transaction);
    this.#record(start.actions);
  }

  get transaction(): T {
    return this.#transaction;
  }

  get state(): T['state'] {
    return this.#transaction.state;
  }

  /** Applies one event now and returns the actions it produced. */
  dispatch(event: TransactionEvent): readonly TransactionAction[] {
    const { transaction, actions } = transactionTransition(this.#transaction, event, this.clock.now());
    this.#transaction = persisted(transaction as T);
    this.#record(actions);
    return actions;
  }

  /** The earliest armed timer, if any. */
  nextTimer(): { readonly timer: TransactionTimer; readonly deadline: number } | undefined {
    let next: { timer: TransactionTimer; deadline: number } | undefined;
    for (const [timer, deadline] of Object.entries(this.#transaction.timers) as [TransactionTimer, number][]) {
      if (next === undefined || deadline < next.deadline) next = { timer, deadline };
    }
    return next;
  }

  /** Moves the clock to the earliest deadline and fires that timer; returns its name, or undefined. */
  fireNextTimer(): TransactionTimer | undefined {
    const next = this.nextTimer();
    if (next === undefined) return undefined;
    this.clock.advanceTo(next.deadline);
    this.dispatch({ type: 'timer', timer: next.timer });
    return next.timer;
  }

  /** Fires timers in order until none is armed or the next one lies beyond `until`. */
  runTimers(until = Number.POSITIVE_INFINITY): void {
    for (let next = this.nextTimer(); next !== undefined && next.deadline <= until; next = this.nextTimer()) {
      this.fireNextTimer();
    }
  }

  /** The times at which `send` actions were produced. */
  sendTimes(): number[] {
    return this.log.filter((entry) => entry.action.type === 'send').map((entry) => entry.at);
  }

  /** Every action type in order, e.g. `['send', 'deliver', 'terminated']`. */
  actionTypes(): string[] {
    return this.log.map((entry) => entry.action.type);
  }

  #record(actions: readonly TransactionAction[]): void {
    for (const action of actions) this.log.push({ at: this.clock.now(), action });
  }
}
