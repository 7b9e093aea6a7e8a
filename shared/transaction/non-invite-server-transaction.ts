/**
 * The non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8).
 *
 * ```
 *                                   | Request received
 *                                   | pass to TU
 *                                   V
 *                             +-----------+
 *                             |           |
 *                             | Trying    |-------------+
 *                             |           |             |
 *                             +-----------+             | 200-699 from TU
 *                                   |                   | send response
 *                                   | 1xx from TU       |
 *                                   | send response     |
 *                                   |                   |
 *                Request            V      1xx from TU  |
 *                send response+-----------+send response|
 *                    +--------|           |--------+    |
 *                    |        | Proceeding|        |    |
 *                    +------->|           |<-------+    |
 *             +<--------------|           |             |
 *             |Trnsprt Err    +-----------+             |
 *             |Inform TU            |                   |
 *             |                     |                   |
 *             |                     | 200-699 from TU   |
 *             |                     | send response     |
 *             |  Request            V                   |
 *             |  send response+-----------+             |
 *             |      +--------|           |             |
 *             |      |        | Completed |<------------+
 *             |      +------->|           |
 *             +<--------------|           |
 *             |Trnsprt Err    +-----------+
 *             |Inform TU            |
 *             |                     | Timer J fires
 *             |                     | -
 *             |                     |
 *             |                     V
 *             |               +-----------+
 *             |               |           |
 *             +-------------->| Terminated|
 *                             |           |
 *                             +-----------+
 * ```
 */
import { serializeMessage } from '../message/index.ts';
import type { SipRequest } from '../message/message.ts';
import type { ServerTransactionEvent, Transition } from './transaction-event.ts';
import { serverTransactionKey } from './transaction-key.ts';
import { isArmed, isProvisional, sendAction, terminate, unchanged, type TransactionBase } from './transaction-state.ts';
import { resolveTiming, timerJ, type TransactionOptions } from './transaction-timing.ts';

export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface NonInviteServerTransaction extends TransactionBase<'non-invite-server', NonInviteServerState, 'J'> {
  /** The most recent response sent, re-sent for each retransmission of the request. */
  readonly response?: string;
}

type Result = Transition<NonInviteServerTransaction>;

/** RFC 3261 §17.2.2: the transaction starts in Trying and passes the request to the TU. */
export function createNonInviteServerTransaction(
  request: SipRequest,
  options: TransactionOptions,
  _now: number,
): Result {
  if (request.method === 'INVITE' || request.method === 'ACK') {
    throw new RangeError(`a non-INVITE server transaction cannot serve ${request.method}`);
  }
  const transaction: NonInviteServerTransaction = {
    kind: 'non-invite-server',
    key: serverTransactionKey(request),
    state: 'trying',
    reliable: options.reliable,
    timing: resolveTiming(options.timing),
    ...(options.flow === undefined ? {} : { flow: options.flow }),
    timers: {},
  };
  return { transaction, actions: [{ type: 'deliver', message: request }] };
}

export function nonInviteServerTransition(
  transaction: NonInviteServerTransaction,
  event: ServerTransactionEvent,
  now: number,
): Result {
  if (event.type === 'timer' && !isArmed(transaction.timers, event.timer)) return unchanged(transaction);
  switch (transaction.state) {
    case 'trying':
    case 'proceeding':
      return whileAnswering(transaction, event, now);
    case 'completed':
      return whileCompleted(transaction, event);
    case 'terminated':
      return unchanged(transaction);
  }
}

function whileAnswering(transaction: NonInviteServerTransaction, event: ServerTransactionEvent, now: number): Result {
  switch (event.type) {
    case 'receive-request':
      // RFC 3261 §17.2.2: in Trying retransmissions are discarded (there is nothing to re-send yet);
      // in Proceeding the last provisional response is re-sent.
      return resendResponse(transaction);
    case 'send-response': {
      const { response } = event;
      const wire = serializeMessage(response);
      const actions = [sendAction(transaction, wire)];
      if (isProvisional(response.status)) {
        return { transaction: { ...transaction, state: 'proceeding', response: wire }, actions };
      }
      if (response.status < 200 || response.status > 699) return unchanged(transaction);
      // RFC 3261 §17.2.2: a final response moves the transaction to Completed, where Timer J (64*T1
      // on unreliable transports, zero on reliable ones) keeps it to answer retransmissions.
      const wait = timerJ(transaction.timing, transaction.reliable);
      if (wait === 0) return terminate({ ...transaction, response: wire }, actions);
      return {
        transaction: { ...transaction, state: 'completed', response: wire, timers: { J: now + wait } },
        actions,
      };
    }
    case 'transport-error':
      // RFC 3261 §17.2.4: a failure to send a response is reported to the TU and ends the transaction.
      // In Trying nothing has been sent, so nothing can have failed.
      if (transaction.state === 'trying') return unchanged(transaction);
      return terminate(transaction, [{ type: 'transport-error', status: 503 }]);
    case 'timer':
      return unchanged(transaction);
  }
}

function whileCompleted(transaction: NonInviteServerTransaction, event: ServerTransactionEvent): Result {
  switch (event.type) {
    case 'receive-request':
      // RFC 3261 §17.2.2: each retransmission gets the final response again.
      return resendResponse(transaction);
    case 'send-response':
      // RFC 3261 §17.2.2: "Any other final responses passed by the TU ... MUST be discarded".
      return unchanged(transaction);
    case 'timer':
      return event.timer === 'J' ? terminate(transaction) : unchanged(transaction);
    case 'transport-error':
      return terminate(transaction, [{ type: 'transport-error', status: 503 }]);
  }
}

function resendResponse(transaction: NonInviteServerTransaction): Result {
  if (transaction.response === undefined) return unchanged(transaction);
  return { transaction, actions: [sendAction(transaction, transaction.response)] };
}
