/**
 * The INVITE server transaction: RFC 3261 §17.2.1, with the Accepted state of RFC 6026 §7.1.
 *
 * ```
 *                                |INVITE
 *                                |pass INV to TU
 *             INVITE             V send 100 if TU won't in 200 ms
 *             send response+-----------+
 *                 +--------|           |--------+ 101-199 from TU
 *                 |        |           |        | send response
 *                 +------->|           |<-------+
 *                          | Proceeding|
 *                          |           |--------+ transport error
 *                          |           |        | inform TU
 *                          |           |<-------+
 *                          +-----------+
 *             300-699 from TU |     | 2xx from TU
 *             send response   |     | send response
 *                             |     +------------------>+
 *                             |                         |
 *             INVITE          V          Timer G fires  |         INVITE -
 *             send response+-----------+ send response  |     +---------+
 *                 +--------|           |--------+       |     |         |
 *                 |        | Completed |        |       V     V         |
 *                 +------->|           |<-------+   +-----------+       |
 *                          +-----------+            |           |-------+
 *                             |     |               | Accepted  |  2xx from TU
 *                         ACK |     | Timer H fires |           |  send response;
 *                         -   |     | or transport  +-----------+  ACK: to TU
 *                             |     | error:              |
 *                             V     | inform TU           | Timer L fires
 *                          +-----------+                  | -
 *                          |           |                  |
 *                          | Confirmed |                  |
 *                          |           |                  |
 *                          +-----------+                  |
 *                                |  Timer I fires         |
 *                                V  -                     V
 *                          +--------------------------------+
 *                          |           Terminated           |
 *                          +--------------------------------+
 * ```
 *
 * RFC 6026 keeps the transaction alive after a 2xx (Accepted, Timer L = 64*T1) so that a
 * retransmitted INVITE is recognised and absorbed instead of reaching the TU as a new call. The 2xx
 * itself is retransmitted by the TU (RFC 3261 §13.3.1.4), through this transaction, until its ACK.
 */
import { createResponse, serializeMessage } from '../message/index.ts';
import type { SipRequest } from '../message/message.ts';
import type { ServerTransactionEvent, TransactionAction, Transition } from './transaction-event.ts';
import { serverTransactionKey } from './transaction-key.ts';
import {
  disarm,
  isArmed,
  isFailure,
  isProvisional,
  isSuccess,
  sendAction,
  terminate,
  unchanged,
  type TransactionBase,
} from './transaction-state.ts';
import { resolveTiming, sixtyFourT1, timerT4OrZero, type TransactionOptions } from './transaction-timing.ts';

export type InviteServerState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

export interface InviteServerTransaction
  extends TransactionBase<'invite-server', InviteServerState, 'trying' | 'G' | 'H' | 'I' | 'L'> {
  /** The most recent response sent, re-sent when the INVITE (or, in Completed, Timer G) asks for it. */
  readonly response?: string;
  /** The 100 (Trying) prepared at creation while the `trying` timer runs, sent if the TU stays silent. */
  readonly trying?: string;
  /** The interval Timer G was last armed with. */
  readonly retransmitInterval: number;
}

export interface InviteServerOptions extends TransactionOptions {
  /**
   * RFC 3261 §17.2.1: the transaction "MUST generate a 100 (Trying) response unless it knows that the
   * TU will generate a provisional or final response within 200 ms". Milliseconds to wait for the TU
   * before sending 100 on its behalf: 200 by default, 0 to send it at once (a B2BUA that forwards the
   * INVITE onwards knows it will not answer in time), `null` when the TU always answers first.
   */
  readonly tryingDelay?: number | null;
}

type Result = Transition<InviteServerTransaction>;

/** RFC 3261 §17.2.1: "the server transaction ... MUST pass the request to the TU" and enter Proceeding. */
export function createInviteServerTransaction(request: SipRequest, options: InviteServerOptions, now: number): Result {
  if (request.method !== 'INVITE') {
    throw new RangeError(`an INVITE server transaction cannot serve ${request.method}`);
  }
  const timing = resolveTiming(options.timing);
  const tryingDelay = options.tryingDelay === undefined ? 200 : options.tryingDelay;
  const base: InviteServerTransaction = {
    kind: 'invite-server',
    key: serverTransactionKey(request),
    state: 'proceeding',
    reliable: options.reliable,
    timing,
    ...(options.flow === undefined ? {} : { flow: options.flow }),
    timers: {},
    retransmitInterval: timing.t1,
  };
  const deliver: TransactionAction = { type: 'deliver', message: request };
  if (tryingDelay === null) return { transaction: base, actions: [deliver] };
  const trying = serializeMessage(createResponse(request, 100));
  if (tryingDelay <= 0) {
    // The 100 goes out before the TU hears of the request, so it precedes whatever the TU answers.
    return { transaction: { ...base, response: trying }, actions: [sendAction(base, trying), deliver] };
  }
  return { transaction: { ...base, trying, timers: { trying: now + tryingDelay } }, actions: [deliver] };
}

export function inviteServerTransition(
  transaction: InviteServerTransaction,
  event: ServerTransactionEvent,
  now: number,
): Result {
  if (event.type === 'timer' && !isArmed(transaction.timers, event.timer)) return unchanged(transaction);
  switch (transaction.state) {
    case 'proceeding':
      return whileProceeding(transaction, event, now);
    case 'completed':
      return whileCompleted(transaction, event, now);
    case 'confirmed':
      // RFC 3261 §17.2.1: Confirmed exists only to absorb further ACKs until Timer I fires.
      return event.type === 'timer' && event.timer === 'I' ? terminate(transaction) : unchanged(transaction);
    case 'accepted':
      return whileAccepted(transaction, event);
    case 'terminated':
      return unchanged(transaction);
  }
}

function whileProceeding(transaction: InviteServerTransaction, event: ServerTransactionEvent, now: number): Result {
  switch (event.type) {
    case 'receive-request': {
      if (event.request.method !== 'INVITE') return unchanged(transaction);
      // RFC 3261 §17.2.1: a retransmitted INVITE gets "the most recent provisional response that was
      // received from the TU". If the TU has not answered yet the pending 100 goes out now: the
      // client retransmitting is the sign it needs one.
      if (transaction.trying !== undefined) return sendTrying(transaction);
      if (transaction.response !== undefined) {
        return { transaction, actions: [sendAction(transaction, transaction.response)] };
      }
      return unchanged(transaction);
    }
    case 'timer':
      return event.timer === 'trying' && transaction.trying !== undefined ? sendTrying(transaction) : unchanged(transaction);
    case 'transport-error':
      // RFC 6026 §7.1 (Figure 7) turns 3261's "transport error: Terminated" in Proceeding into a loop:
      // the TU is told, and may still answer (a final response that fails too ends in Completed).
      return { transaction, actions: [{ type: 'transport-error', status: 503 }] };
    case 'send-response':
      return respond(transaction, event.response.status, serializeMessage(event.response), now);
  }
}

function sendTrying(transaction: InviteServerTransaction): Result {
  const { trying, ...rest } = transaction;
  if (trying === undefined) return unchanged(transaction);
  return {
    transaction: { ...rest, response: trying, timers: disarm(transaction.timers, 'trying') },
    actions: [sendAction(transaction, trying)],
  };
}

function respond(transaction: InviteServerTransaction, status: number, wire: string, now: number): Result {
  const { trying: _unsent, ...rest } = transaction;
  const answered: InviteServerTransaction = { ...rest, response: wire, timers: disarm(transaction.timers, 'trying') };
  const actions = [sendAction(transaction, wire)];
  if (isProvisional(status)) return { transaction: answered, actions };
  if (isSuccess(status)) {
    // RFC 6026 §7.1: a 2xx from the TU moves the transaction to Accepted and starts Timer L (64*T1).
    const timers = { L: now + sixtyFourT1(transaction.timing) };
    return { transaction: { ...answered, state: 'accepted', timers }, actions };
  }
  if (isFailure(status)) {
    // RFC 3261 §17.2.1: on a 300-699 response the transaction enters Completed, sets Timer H to
    // 64*T1 and, on unreliable transports, Timer G to T1.
    const h = now + sixtyFourT1(transaction.timing);
    const timers = transaction.reliable ? { H: h } : { G: now + transaction.timing.t1, H: h };
    return {
      transaction: { ...answered, state: 'completed', retransmitInterval: transaction.timing.t1, timers },
      actions,
    };
  }
  return unchanged(transaction);
}

function whileCompleted(transaction: InviteServerTransaction, event: ServerTransactionEvent, now: number): Result {
  switch (event.type) {
    case 'receive-request':
      if (event.request.method === 'ACK') {
        // RFC 3261 §17.2.1: the ACK moves the transaction to Confirmed, stops G and H, and starts
        // Timer I (T4 unreliable, zero reliable). It is not passed to the TU.
        const wait = timerT4OrZero(transaction.timing, transaction.reliable);
        if (wait === 0) return terminate(transaction);
        return { transaction: { ...transaction, state: 'confirmed', timers: { I: now + wait } }, actions: [] };
      }
      // RFC 3261 §17.2.1: a retransmitted INVITE in Completed gets the final response again.
      return resendResponse(transaction);
    case 'timer':
      if (event.timer === 'G') {
        // RFC 3261 §17.2.1: the response is retransmitted and Timer G reset to MIN(2*interval, T2).
        const interval = Math.min(transaction.retransmitInterval * 2, transaction.timing.t2);
        const next = { ...transaction, retransmitInterval: interval, timers: { ...transaction.timers, G: now + interval } };
        return { transaction: next, actions: resendResponse(transaction).actions };
      }
      if (event.timer === 'H') {
        // RFC 3261 §17.2.1: Timer H means the ACK never came; the TU is told of a transaction failure.
        return terminate(transaction, [{ type: 'timeout', status: 408 }]);
      }
      return unchanged(transaction);
    case 'transport-error':
      return terminate(transaction, [{ type: 'transport-error', status: 503 }]);
    case 'send-response':
      // The final response has been given; RFC 3261 §17.2.1 lets the TU send nothing more.
      return unchanged(transaction);
  }
}

function whileAccepted(transaction: InviteServerTransaction, event: ServerTransactionEvent): Result {
  switch (event.type) {
    case 'receive-request':
      // RFC 6026 §7.1: retransmitted INVITEs are absorbed; an ACK that matches is passed to the TU.
      if (event.request.method === 'ACK') return { transaction, actions: [{ type: 'deliver', message: event.request }] };
      return unchanged(transaction);
    case 'send-response':
      // RFC 6026 §7.1: the TU's retransmissions of its 2xx are sent through the transaction.
      if (!isSuccess(event.response.status)) return unchanged(transaction);
      return resendResponse({ ...transaction, response: serializeMessage(event.response) });
    case 'timer':
      return event.timer === 'L' ? terminate(transaction) : unchanged(transaction);
    case 'transport-error':
      // RFC 6026 §7.1: a failure to send a 2xx is reported, but the transaction stays in Accepted
      // so that retransmitted INVITEs are still absorbed; the TU decides whether to give up.
      return { transaction, actions: [{ type: 'transport-error', status: 503 }] };
  }
}

function resendResponse(transaction: InviteServerTransaction): Result {
  if (transaction.response === undefined) return unchanged(transaction);
  return { transaction, actions: [sendAction(transaction, transaction.response)] };
}
