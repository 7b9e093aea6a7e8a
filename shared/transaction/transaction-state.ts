/**
 * What the four transaction state machines have in common, and the small helpers their transition
 * functions share. Every field is plain JSON: a transaction is persisted as-is and resumed later
 * with the same `key`, the same armed deadlines and the same wire text to retransmit.
 */
import type { SendAction, TerminatedAction, TransactionAction, TransactionTimer, Transition } from './transaction-event.ts';
import type { TransactionTiming } from './transaction-timing.ts';

/** Absolute deadlines (Clock milliseconds) of the timers a machine has armed, by timer name. */
export type ArmedTimers<T extends TransactionTimer> = Readonly<Partial<Record<T, number>>>;

export interface TransactionBase<Kind extends string, State extends string, Timer extends TransactionTimer> {
  readonly kind: Kind;
  /** The matching key (RFC 3261 §17.1.3 or §17.2.3) under which the transaction is filed. */
  readonly key: string;
  readonly state: State;
  readonly reliable: boolean;
  readonly timing: TransactionTiming;
  readonly flow?: string;
  readonly timers: ArmedTimers<Timer>;
}

export function sendAction(transaction: { readonly flow?: string }, wire: string): SendAction {
  return transaction.flow === undefined ? { type: 'send', wire } : { type: 'send', wire, flow: transaction.flow };
}

export function isArmed<T extends TransactionTimer>(timers: ArmedTimers<T>, timer: TransactionTimer): timer is T {
  return Object.hasOwn(timers, timer);
}

/** The timers without `names`, e.g. Timer A and B once a provisional response stops retransmission. */
export function disarm<T extends TransactionTimer>(timers: ArmedTimers<T>, ...names: readonly T[]): ArmedTimers<T> {
  const next: Partial<Record<T, number>> = { ...timers };
  for (const name of names) delete next[name];
  return next;
}

export function unchanged<T>(transaction: T): Transition<T> {
  return { transaction, actions: [] };
}

const TERMINATED: TerminatedAction = { type: 'terminated' };

/**
 * Enters Terminated: every timer is disarmed and the `terminated` action comes last, after whatever
 * the transition still had to send or report.
 */
export function terminate<T extends { readonly state: string; readonly timers: object }>(
  transaction: T,
  actions: readonly TransactionAction[] = [],
): Transition<T> {
  return { transaction: { ...transaction, state: 'terminated', timers: {} }, actions: [...actions, TERMINATED] };
}

export function isProvisional(status: number): boolean {
  return status >= 100 && status < 200;
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** 300-699: the final responses that are not 2xx, i.e. those the INVITE transaction itself ACKs. */
export function isFailure(status: number): boolean {
  return status >= 300 && status < 700;
}
