/**
 * The INVITE client transaction: RFC 3261 §17.1.1, with the Accepted state of RFC 6026 §7.2.
 *
 * ```
 *                                 | INVITE from TU
 *               Timer A fires     | INVITE sent            Timer B fires
 *               reset A,          V                        or transport error:
 *               INVITE sent +-----------+                  inform TU
 *                 +---------|           |-----------------------------------+
 *                 |         |  Calling  |                                   |
 *                 +-------->|           |------------------+                |
 *                           +-----------+  2xx             |                |
 *          300-699             |     |     2xx to TU       |                |
 *          ACK sent            |     | 1xx                 |                |
 *          resp. to TU         |     | 1xx to TU           |                |
 *      +-----------------------+     V                     |                |
 *      |       1xx          +-----------+                  |                |
 *      |       1xx to TU +--|           |  2xx             V                |
 *      |                 |  | Proceeding|-------------> +-----------+       |
 *      |                 +->|           |  2xx to TU    |           |--+   |
 *      |                    +-----------+               | Accepted  |  | 2xx
 *      |   300-699             |                        |           |<-+ 2xx to TU
 *      |   ACK sent,           |                        +-----------+       |
 *      |   resp. to TU         |                              |             |
 *      V                       V                              | Timer M     |
 *   +-----------+ <------------+                              | fires       |
 *   |           |--+ 300-699                                  |             |
 *   | Completed |  | ACK sent                                 |             |
 *   |           |<-+                                          |             |
 *   +-----------+                                             |             |
 *         | Timer D fires, or transport error: inform TU      |             |
 *         V                                                   V             |
 *   +------------------------------------------------------------+          |
 *   |                         Terminated                         |<---------+
 *   +------------------------------------------------------------+
 * ```
 *
 * RFC 6026 replaces 3261's "2xx: go to Terminated" with Accepted, so that retransmitted and forked
 * 2xx responses still match a transaction and reach the TU (which ACKs each, RFC 3261 §13.2.2.4)
 * instead of arriving as stray responses.
 */
import { parseMessage, serializeMessage } from '../message/index.ts';
import type { SipRequest } from '../message/message.ts';
import { createAckForFailure } from './ack-request.ts';
import type { ClientTransactionEvent, Transition } from './transaction-event.ts';
import { clientTransactionKey } from './transaction-key.ts';
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
import { resolveTiming, sixtyFourT1, timerD, type TransactionOptions } from './transaction-timing.ts';

export type InviteClientState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

export interface InviteClientTransaction extends TransactionBase<'invite-client', InviteClientState, 'A' | 'B' | 'D' | 'M'> {
  /** The INVITE exactly as first sent: retransmitted by Timer A, and the source of the ACK. */
  readonly request: string;
  /** The ACK sent for the failure response, re-sent for each retransmission of that response. */
  readonly ack?: string;
  /** The interval Timer A was last armed with; it doubles at every firing. */
  readonly retransmitInterval: number;
}

type Result = Transition<InviteClientTransaction>;

/**
 * RFC 3261 §17.1.1.2: "the client transaction MUST pass the request to the transport layer for
 * transmission", start Timer A (unreliable transports only) with T1 and Timer B with 64*T1.
 */
export function createInviteClientTransaction(request: SipRequest, options: TransactionOptions, now: number): Result {
  if (request.method !== 'INVITE') {
    throw new RangeError(`an INVITE client transaction cannot send ${request.method}`);
  }
  const timing = resolveTiming(options.timing);
  const wire = serializeMessage(request);
  const transaction: InviteClientTransaction = {
    kind: 'invite-client',
    key: clientTransactionKey(request),
    state: 'calling',
    reliable: options.reliable,
    timing,
    ...(options.flow === undefined ? {} : { flow: options.flow }),
    timers: options.reliable
      ? { B: now + sixtyFourT1(timing) }
      : { A: now + timing.t1, B: now + sixtyFourT1(timing) },
    request: wire,
    retransmitInterval: timing.t1,
  };
  return { transaction, actions: [sendAction(transaction, wire)] };
}

export function inviteClientTransition(
  transaction: InviteClientTransaction,
  event: ClientTransactionEvent,
  now: number,
): Result {
  if (event.type === 'timer' && !isArmed(transaction.timers, event.timer)) return unchanged(transaction);
  switch (transaction.state) {
    case 'calling':
    case 'proceeding':
      return whileWaiting(transaction, event, now);
    case 'completed':
      return whileCompleted(transaction, event);
    case 'accepted':
      return whileAccepted(transaction, event);
    case 'terminated':
      return unchanged(transaction);
  }
}

/** Calling and Proceeding differ only in that Timers A and B no longer run in Proceeding. */
function whileWaiting(transaction: InviteClientTransaction, event: ClientTransactionEvent, now: number): Result {
  switch (event.type) {
    case 'timer':
      if (event.timer === 'A') {
        // RFC 3261 §17.1.1.2: when Timer A fires the request is retransmitted and Timer A is reset
        // with twice its previous value; there is no T2 cap for INVITE, Timer B bounds it instead.
        const interval = transaction.retransmitInterval * 2;
        return {
          transaction: { ...transaction, retransmitInterval: interval, timers: { ...transaction.timers, A: now + interval } },
          actions: [sendAction(transaction, transaction.request)],
        };
      }
      if (event.timer === 'B') {
        // RFC 3261 §17.1.1.2: "If the client transaction is still in the 'Calling' state when timer B
        // fires, the client transaction SHOULD inform the TU that a timeout has occurred."
        return terminate(transaction, [{ type: 'timeout', status: 408 }]);
      }
      return unchanged(transaction);
    case 'transport-error':
      // RFC 3261 §17.1.4: the TU is told of the failure; §8.1.3.1 makes it a 503.
      return terminate(transaction, [{ type: 'transport-error', status: 503 }]);
    case 'receive-response': {
      const { response } = event;
      if (isProvisional(response.status)) {
        // RFC 3261 §17.1.1.2: in Proceeding "the client transaction SHOULD NOT retransmit the request
        // any longer"; Timer B only guards Calling, so both stop.
        return {
          transaction: { ...transaction, state: 'proceeding', timers: disarm(transaction.timers, 'A', 'B') },
          actions: [{ type: 'deliver', message: response }],
        };
      }
      if (isSuccess(response.status)) {
        // RFC 6026 §7.2: a 2xx moves the transaction to Accepted and starts Timer M with 64*T1.
        return {
          transaction: { ...transaction, state: 'accepted', timers: { M: now + sixtyFourT1(transaction.timing) } },
          actions: [{ type: 'deliver', message: response }],
        };
      }
      if (isFailure(response.status)) {
        // RFC 3261 §17.1.1.2: a 300-699 response is passed up, ACKed, and the transaction waits in
        // Completed for Timer D to absorb retransmissions of it.
        const ack = serializeMessage(createAckForFailure(parseRequest(transaction.request), response));
        const actions = [sendAction(transaction, ack), { type: 'deliver', message: response } as const];
        const wait = timerD(transaction.timing, transaction.reliable);
        if (wait === 0) return terminate({ ...transaction, ack }, actions);
        return { transaction: { ...transaction, state: 'completed', ack, timers: { D: now + wait } }, actions };
      }
      return unchanged(transaction);
    }
  }
}

function whileCompleted(transaction: InviteClientTransaction, event: ClientTransactionEvent): Result {
  switch (event.type) {
    case 'receive-response':
      // RFC 3261 §17.1.1.2: "Any retransmissions of the final response that are received while in the
      // 'Completed' state MUST cause the ACK to be re-passed to the transport layer", and are not
      // passed up again.
      if (isFailure(event.response.status) && transaction.ack !== undefined) {
        return { transaction, actions: [sendAction(transaction, transaction.ack)] };
      }
      return unchanged(transaction);
    case 'timer':
      return event.timer === 'D' ? terminate(transaction) : unchanged(transaction);
    case 'transport-error':
      return terminate(transaction, [{ type: 'transport-error', status: 503 }]);
  }
}

function whileAccepted(transaction: InviteClientTransaction, event: ClientTransactionEvent): Result {
  switch (event.type) {
    case 'receive-response':
      // RFC 6026 §7.2: every 2xx received in Accepted, a retransmission or one from another fork, is
      // passed to the TU, which owns the ACK for 2xx (RFC 3261 §13.2.2.4). Anything else is dropped.
      if (isSuccess(event.response.status)) {
        return { transaction, actions: [{ type: 'deliver', message: event.response }] };
      }
      return unchanged(transaction);
    case 'timer':
      return event.timer === 'M' ? terminate(transaction) : unchanged(transaction);
    case 'transport-error':
      // The transaction sends nothing in Accepted: ACKs for 2xx are the TU's own messages.
      return unchanged(transaction);
  }
}

function parseRequest(wire: string): SipRequest {
  const message = parseMessage(wire);
  if (message.kind !== 'request') throw new TypeError('the stored INVITE is not a request');
  return message;
}
