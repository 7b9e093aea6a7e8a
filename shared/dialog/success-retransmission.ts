/**
 * The UAS core's retransmission of a 2xx to INVITE until its ACK arrives (RFC 3261 §13.3.1.4).
 *
 * ```
 *          2xx sent (through the INVITE server transaction)
 *                |
 *                V        retransmit timer: send 2xx again,
 *        +----------------+  interval = MIN(2*interval, T2)
 *        |                |<------+
 *        | retransmitting |-------+
 *        |                |
 *        +----------------+
 *           |          |
 *       ACK |          | 64*T1 after the first 2xx:
 *           V          V   report ack-timeout (the TU sends BYE)
 *  +--------------+  +-----------+
 *  | acknowledged |  | abandoned |
 *  +--------------+  +-----------+
 * ```
 *
 * The INVITE server transaction does not retransmit a 2xx itself (RFC 3261 §17.2.1; RFC 6026 keeps
 * it in Accepted only to absorb the INVITE's retransmissions), because every 2xx, forked ones
 * included, must reach the UAC end to end. Like the transactions, this state is plain JSON with an
 * absolute deadline, so a Durable Object files it in its `TimerSet` and survives eviction.
 */
import type { SipResponse } from '../message/message.ts';
import { serializeMessage } from '../message/index.ts';
import type { SendAction } from '../transaction/transaction-event.ts';
import { resolveTiming, type TransactionTiming } from '../transaction/transaction-timing.ts';

export type SuccessRetransmissionStatus = 'retransmitting' | 'acknowledged' | 'abandoned';

export interface SuccessRetransmission {
  readonly status: SuccessRetransmissionStatus;
  /** The 2xx as first sent. */
  readonly response: string;
  readonly flow?: string;
  /** When to send the 2xx again; absent once acknowledged or abandoned. */
  readonly deadline?: number;
  readonly interval: number;
  /** 64*T1 after the first 2xx: the ACK is given up for lost. */
  readonly giveUpAt: number;
  readonly t2: number;
}

export type SuccessRetransmissionEvent = { readonly type: 'timer' } | { readonly type: 'ack' };

/** RFC 3261 §13.3.1.4: with no ACK after 64*T1 "the session SHOULD be terminated", with a BYE. */
export interface AckTimeoutAction {
  readonly type: 'ack-timeout';
}

export interface SuccessRetransmissionTransition {
  readonly state: SuccessRetransmission;
  readonly actions: readonly (SendAction | AckTimeoutAction)[];
}

export interface SuccessRetransmissionOptions {
  readonly timing?: Partial<TransactionTiming>;
  readonly flow?: string;
}

/** Starts the schedule for a 2xx just sent at `now`: the first retransmission is T1 later. */
export function startSuccessRetransmission(
  response: SipResponse,
  options: SuccessRetransmissionOptions,
  now: number,
): SuccessRetransmission {
  if (response.status < 200 || response.status > 299) {
    throw new RangeError(`only a 2xx is retransmitted by the UAS core, not a ${response.status}`);
  }
  const timing = resolveTiming(options.timing);
  return {
    status: 'retransmitting',
    response: serializeMessage(response),
    ...(options.flow === undefined ? {} : { flow: options.flow }),
    deadline: now + timing.t1,
    interval: timing.t1,
    giveUpAt: now + 64 * timing.t1,
    t2: timing.t2,
  };
}

export function successRetransmissionTransition(
  state: SuccessRetransmission,
  event: SuccessRetransmissionEvent,
  now: number,
): SuccessRetransmissionTransition {
  if (state.status !== 'retransmitting') return { state, actions: [] };
  const { deadline: _stopped, ...rest } = state;
  if (event.type === 'ack') {
    // RFC 3261 §13.3.1.4: "Response retransmissions cease when an ACK request for the response is received."
    return { state: { ...rest, status: 'acknowledged' }, actions: [] };
  }
  if (state.deadline === undefined || now < state.deadline) return { state, actions: [] };
  if (now >= state.giveUpAt) return { state: { ...rest, status: 'abandoned' }, actions: [{ type: 'ack-timeout' }] };
  // "The 2xx response is passed to the transport with an interval that starts at T1 seconds and
  // doubles for each retransmission until it reaches T2 seconds."
  const interval = Math.min(state.interval * 2, state.t2);
  const send: SendAction =
    state.flow === undefined ? { type: 'send', wire: state.response } : { type: 'send', wire: state.response, flow: state.flow };
  return {
    state: { ...state, interval, deadline: Math.min(now + interval, state.giveUpAt) },
    actions: [send],
  };
}
