/**
 * The non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6).
 *
 * ```
 *                                 | Request from TU
 *                                 | send request
 *             Timer E             V
 *             send request  +-----------+
 *                 +---------|           |-------------------+
 *                 |         |  Trying   |  Timer F          |
 *                 +-------->|           |  or transport err.|
 *                           +-----------+  inform TU        |
 *              200-699         |  |                         |
 *              resp. to TU     |  | 1xx                     |
 *              +---------------+  | resp. to TU             |
 *              |                  |                         |
 *              |   Timer E        V       Timer F           |
 *              |   send req +-----------+ or transport err. |
 *              |  +---------|           | inform TU         |
 *              |  |         | Proceeding|------------------>|
 *              |  +-------->|           |-----+             |
 *              |            +-----------+     | 1xx         |
 *              |              |      ^        | resp to TU  |
 *              | 200-699      |      +--------+             |
 *              | resp. to TU  |                             |
 *              |              |                             |
 *              |              V                             |
 *              |            +-----------+                   |
 *              |            |           |                   |
 *              |            | Completed |                   |
 *              |            |           |                   |
 *              |            +-----------+                   |
 *              |              ^   |                         |
 *              |              |   | Timer K                 |
 *              +--------------+   | -                       |
 *                                 |                         |
 *                                 V                         |
 *           NOTE:           +-----------+                   |
 *                           |           |                   |
 *           transitions     | Terminated|<------------------+
 *           labeled with    |           |
 *           the event       +-----------+
 *           over the action
 *           to take
 * ```
 *
 * Unlike INVITE, a non-INVITE request is retransmitted at intervals capped at T2 (RFC 3261 §17.1.2.2),
 * because non-INVITE transactions are expected to finish quickly and their 64*T1 lifetime (Timer F) is
 * short; the cap keeps retransmissions coming until the end instead of spacing them out past it.
 */
import { serializeMessage } from '../message/index.ts';
import type { SipRequest } from '../message/message.ts';
import type { ClientTransactionEvent, Transition } from './transaction-event.ts';
import { clientTransactionKey } from './transaction-key.ts';
import {
  isArmed,
  isProvisional,
  sendAction,
  terminate,
  unchanged,
  type TransactionBase,
} from './transaction-state.ts';
import { resolveTiming, sixtyFourT1, timerT4OrZero, type TransactionOptions } from './transaction-timing.ts';

export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface NonInviteClientTransaction
  extends TransactionBase<'non-invite-client', NonInviteClientState, 'E' | 'F' | 'K'> {
  /** The request exactly as first sent, retransmitted by Timer E. */
  readonly request: string;
  /** The interval Timer E was last armed with. */
  readonly retransmitInterval: number;
}

type Result = Transition<NonInviteClientTransaction>;

/**
 * RFC 3261 §17.1.2.2: the request is sent, Timer F is set to 64*T1, and on unreliable transports
 * Timer E is set to T1.
 */
export function createNonInviteClientTransaction(
  request: SipRequest,
  options: TransactionOptions,
  now: number,
): Result {
  if (request.method === 'INVITE' || request.method === 'ACK') {
    // RFC 3261 §17.1: an ACK is never a transaction of its own; INVITE has its own machine.
    throw new RangeError(`a non-INVITE client transaction cannot send ${request.method}`);
  }
  const timing = resolveTiming(options.timing);
  const wire = serializeMessage(request);
  const transaction: NonInviteClientTransaction = {
    kind: 'non-invite-client',
    key: clientTransactionKey(request),
    state: 'trying',
    reliable: options.reliable,
    timing,
    ...(options.flow === undefined ? {} : { flow: options.flow }),
    timers: options.reliable
      ? { F: now + sixtyFourT1(timing) }
      : { E: now + timing.t1, F: now + sixtyFourT1(timing) },
    request: wire,
    retransmitInterval: timing.t1,
  };
  return { transaction, actions: [sendAction(transaction, wire)] };
}

export function nonInviteClientTransition(
  transaction: NonInviteClientTransaction,
  event: ClientTransactionEvent,
  now: number,
): Result {
  if (event.type === 'timer' && !isArmed(transaction.timers, event.timer)) return unchanged(transaction);
  switch (transaction.state) {
    case 'trying':
    case 'proceeding':
      return whileWaiting(transaction, event, now);
    case 'completed':
      // RFC 3261 §17.1.2.2: Completed only buffers response retransmissions until Timer K fires.
      return event.type === 'timer' && event.timer === 'K' ? terminate(transaction) : unchanged(transaction);
    case 'terminated':
      return unchanged(transaction);
  }
}

function whileWaiting(transaction: NonInviteClientTransaction, event: ClientTransactionEvent, now: number): Result {
  switch (event.type) {
    case 'timer':
      if (event.timer === 'E') {
        // RFC 3261 §17.1.2.2: in Trying, Timer E is reset to MIN(2*interval, T2); once a provisional
        // response has arrived (Proceeding), it is reset to T2.
        const interval =
          transaction.state === 'proceeding'
            ? transaction.timing.t2
            : Math.min(transaction.retransmitInterval * 2, transaction.timing.t2);
        return {
          transaction: { ...transaction, retransmitInterval: interval, timers: { ...transaction.timers, E: now + interval } },
          actions: [sendAction(transaction, transaction.request)],
        };
      }
      if (event.timer === 'F') {
        // RFC 3261 §17.1.2.2: "If Timer F fires while the client transaction is still in the 'Trying'
        // state, the client transaction SHOULD inform the TU about the timeout" (likewise in Proceeding).
        return terminate(transaction, [{ type: 'timeout', status: 408 }]);
      }
      return unchanged(transaction);
    case 'transport-error':
      return terminate(transaction, [{ type: 'transport-error', status: 503 }]);
    case 'receive-response': {
      const { response } = event;
      if (isProvisional(response.status)) {
        return {
          transaction: { ...transaction, state: 'proceeding' },
          actions: [{ type: 'deliver', message: response }],
        };
      }
      if (response.status < 200 || response.status > 699) return unchanged(transaction);
      // RFC 3261 §17.1.2.2: a final response is passed up, and Completed lasts Timer K (T4 on
      // unreliable transports, zero on reliable ones) to absorb its retransmissions.
      const actions = [{ type: 'deliver', message: response } as const];
      const wait = timerT4OrZero(transaction.timing, transaction.reliable);
      if (wait === 0) return terminate(transaction, actions);
      return { transaction: { ...transaction, state: 'completed', timers: { K: now + wait } }, actions };
    }
  }
}
