/**
 * Many transactions as one plain-JSON value, and the routing of RFC 3261 §17.1.3 / §17.2.3 /
 * §18.1.2 / §18.2.1 around them.
 *
 * The table is what a Durable Object keeps for all the transactions on its connections: each
 * operation takes the table and returns a new one plus the actions to perform, each tagged with the
 * transaction key it came from. Every armed transaction timer is mirrored in one `TimerSet`, so the
 * host arms its single alarm for `nextTimerDeadline(table)` and calls `fireDueTimers` when it rings.
 * Terminated transactions are removed at once (RFC 3261 §17.1.1.2: "destroyed the instant it enters
 * the Terminated state").
 */
import { clearTimersWhere, nextDeadline, setTimer, takeDue, type TimerSet } from '../clock/timer-set.ts';
import type { SipMessage, SipRequest, SipResponse } from '../message/message.ts';
import { createInviteClientTransaction } from './invite-client-transaction.ts';
import { createInviteServerTransaction, type InviteServerOptions } from './invite-server-transaction.ts';
import { createNonInviteClientTransaction } from './non-invite-client-transaction.ts';
import { createNonInviteServerTransaction } from './non-invite-server-transaction.ts';
import {
  isClientTransaction,
  transactionTransition,
  type Transaction,
  type TransactionEvent,
} from './transaction.ts';
import type { TransactionAction, TransactionTimer, Transition } from './transaction-event.ts';
import { responseTransactionKey, serverTransactionKey } from './transaction-key.ts';
import type { TransactionOptions } from './transaction-timing.ts';

export interface TransactionTable {
  /** By transaction key. Every key contains a space, so none can be mistaken for an Object property. */
  readonly transactions: Readonly<Record<string, Transaction>>;
  /** Each armed timer of each transaction, keyed `"<timer> <transaction key>"`. */
  readonly timers: TimerSet;
}

/**
 * An action of one transaction, tagged with its key; or `stray`: a message that matched no
 * transaction and goes to the core as it is (RFC 3261 §18.1.2 for responses, e.g. a 2xx retransmitted
 * after Timer M; §17.2.3 for an ACK to a 2xx, which is a transaction of its own).
 */
export type TableAction =
  | (TransactionAction & { readonly key: string })
  | { readonly type: 'stray'; readonly message: SipMessage };

export interface TableResult {
  readonly table: TransactionTable;
  readonly actions: readonly TableAction[];
}

export const emptyTransactionTable: TransactionTable = { transactions: {}, timers: [] };

export function getTransaction(table: TransactionTable, key: string): Transaction | undefined {
  return Object.hasOwn(table.transactions, key) ? table.transactions[key] : undefined;
}

/** When the host must next call `fireDueTimers`, or `undefined` if no transaction has a timer armed. */
export function nextTimerDeadline(table: TransactionTable): number | undefined {
  return nextDeadline(table.timers);
}

/**
 * The TU sends a request: a client transaction is created for it (RFC 3261 §17.1). An ACK is refused:
 * the ACK for a 2xx is sent by the TU straight to the transport, the ACK for a failure by the INVITE
 * client transaction itself.
 */
export function sendRequest(
  table: TransactionTable,
  request: SipRequest,
  options: TransactionOptions,
  now: number,
): TableResult & { readonly key: string } {
  if (request.method === 'ACK') throw new RangeError('an ACK is not sent through a client transaction');
  const created: Transition<Transaction> =
    request.method === 'INVITE'
      ? createInviteClientTransaction(request, options, now)
      : createNonInviteClientTransaction(request, options, now);
  const { key } = created.transaction;
  if (getTransaction(table, key) !== undefined) {
    // RFC 3261 §8.1.1.7: a branch is unique per request; reusing one would hijack another transaction.
    throw new RangeError(`a client transaction with key ${key} already exists`);
  }
  return { ...store(table, created), key };
}

/** RFC 3261 §18.1.2: a response goes to the client transaction it matches, or else to the core. */
export function receiveResponse(table: TransactionTable, response: SipResponse, now: number): TableResult {
  const key = responseTransactionKey(response);
  const transaction = key === undefined ? undefined : getTransaction(table, key);
  if (transaction === undefined || !isClientTransaction(transaction)) {
    return { table, actions: [{ type: 'stray', message: response }] };
  }
  return route(table, transaction, { type: 'receive-response', response }, now);
}

/**
 * RFC 3261 §18.2.1/§17.2.3: a request that matches a server transaction is a retransmission (or the
 * ACK of a failure) and goes to it; any other request creates a server transaction and is passed to
 * the TU, except an unmatched ACK, which acknowledges a 2xx and goes to the core (RFC 3261 §17.2.3).
 * A CANCEL gets a server transaction of its own; `cancelledTransactionKey` finds what it cancels.
 */
export function receiveRequest(
  table: TransactionTable,
  request: SipRequest,
  options: InviteServerOptions,
  now: number,
): TableResult {
  const key = serverTransactionKey(request);
  const existing = getTransaction(table, key);
  if (existing !== undefined && !isClientTransaction(existing)) {
    return route(table, existing, { type: 'receive-request', request }, now);
  }
  if (request.method === 'ACK') return { table, actions: [{ type: 'stray', message: request }] };
  const created: Transition<Transaction> =
    request.method === 'INVITE'
      ? createInviteServerTransaction(request, options, now)
      : createNonInviteServerTransaction(request, options, now);
  return store(table, created);
}

/** The TU answers the server transaction `key`. An unknown key (already terminated) sends nothing. */
export function sendResponse(table: TransactionTable, key: string, response: SipResponse, now: number): TableResult {
  return routeByKey(table, key, { type: 'send-response', response }, now);
}

/** The transport failed to send the last message of transaction `key` (RFC 3261 §17.1.4, §17.2.4). */
export function reportTransportError(table: TransactionTable, key: string, now: number): TableResult {
  return routeByKey(table, key, { type: 'transport-error' }, now);
}

/**
 * Fires every timer due at `now`, earliest first, each into its transaction. After a late wake-up
 * (an evicted Durable Object, a busy isolate) each missed timer fires once, in deadline order; a
 * retransmission timer re-arms from `now`, so a late alarm sends one retransmission rather than a
 * burst of stale copies, and a transaction whose Timer B or F has passed then times out.
 */
export function fireDueTimers(table: TransactionTable, now: number): TableResult {
  const { set, due } = takeDue(table.timers, now);
  let current: TransactionTable = { ...table, timers: set };
  const actions: TableAction[] = [];
  for (const entry of due) {
    const separator = entry.key.indexOf(' ');
    const timer = entry.key.slice(0, separator) as TransactionTimer;
    const transaction = getTransaction(current, entry.key.slice(separator + 1));
    if (transaction === undefined || transaction.timers[timer as keyof typeof transaction.timers] !== entry.deadline) {
      continue;
    }
    const result = route(current, transaction, { type: 'timer', timer }, now);
    current = result.table;
    actions.push(...result.actions);
  }
  return { table: current, actions };
}

function routeByKey(table: TransactionTable, key: string, event: TransactionEvent, now: number): TableResult {
  const transaction = getTransaction(table, key);
  if (transaction === undefined) return { table, actions: [] };
  return route(table, transaction, event, now);
}

function route(table: TransactionTable, transaction: Transaction, event: TransactionEvent, now: number): TableResult {
  return store(table, transactionTransition(transaction, event, now));
}

/** Files the transaction's new state (or drops it when terminated) and mirrors its timers. */
function store(table: TransactionTable, { transaction, actions }: Transition<Transaction>): TableResult {
  const { key } = transaction;
  const transactions: Record<string, Transaction> = { ...table.transactions };
  let timers = clearTimersWhere(table.timers, (timerKey) => timerKey.slice(timerKey.indexOf(' ') + 1) === key);
  if (transaction.state === 'terminated') {
    delete transactions[key];
  } else {
    transactions[key] = transaction;
    for (const [timer, deadline] of Object.entries(transaction.timers)) {
      if (deadline !== undefined) timers = setTimer(timers, `${timer} ${key}`, deadline);
    }
  }
  return { table: { transactions, timers }, actions: actions.map((action) => ({ ...action, key })) };
}
