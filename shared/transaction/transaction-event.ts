/**
 * What goes into and comes out of the four transaction state machines (RFC 3261 §17).
 *
 * A machine is a pure function `(transaction, event, now) -> { transaction, actions }`. Events are
 * what the transport below or the transaction user (TU) above did; actions are what the host must
 * now do on their behalf. Nothing here holds a socket or a callback, so the transaction itself stays
 * plain JSON and can be persisted between any two events.
 */
import type { SipMessage, SipRequest, SipResponse } from '../message/message.ts';

/**
 * The logical timers of RFC 3261 §17 (A-K) and RFC 6026 (L, M), plus `trying`: the 200 ms after
 * which an INVITE server transaction answers 100 on the TU's behalf (RFC 3261 §17.2.1).
 */
export type TransactionTimer =
  | 'A'
  | 'B'
  | 'D'
  | 'E'
  | 'F'
  | 'G'
  | 'H'
  | 'I'
  | 'J'
  | 'K'
  | 'L'
  | 'M'
  | 'trying';

/** A response arrived from the transport and matched this client transaction (RFC 3261 §17.1.3). */
export interface ReceiveResponseEvent {
  readonly type: 'receive-response';
  readonly response: SipResponse;
}

/** A request arrived that matched this server transaction (RFC 3261 §17.2.3): a retransmission, or an ACK. */
export interface ReceiveRequestEvent {
  readonly type: 'receive-request';
  readonly request: SipRequest;
}

/** The TU answers the request of this server transaction. */
export interface SendResponseEvent {
  readonly type: 'send-response';
  readonly response: SipResponse;
}

/** One of this transaction's timers reached its deadline. A timer that is not armed is ignored. */
export interface TimerEvent {
  readonly type: 'timer';
  readonly timer: TransactionTimer;
}

/** The transport could not send this transaction's last message (RFC 3261 §17.1.4, §17.2.4). */
export interface TransportErrorEvent {
  readonly type: 'transport-error';
}

export type ClientTransactionEvent = ReceiveResponseEvent | TimerEvent | TransportErrorEvent;
export type ServerTransactionEvent = ReceiveRequestEvent | SendResponseEvent | TimerEvent | TransportErrorEvent;

/** Write `wire` to the transport, over `flow` when the transaction was given one. */
export interface SendAction {
  readonly type: 'send';
  readonly wire: string;
  readonly flow?: string;
}

/** Pass a message up to the TU: a response (client side), the request or an ACK (server side). */
export interface DeliverAction {
  readonly type: 'deliver';
  readonly message: SipMessage;
}

/**
 * The transaction timed out (Timer B, F or H). RFC 3261 §8.1.3.1: the UAC core treats this as if a
 * 408 (Request Timeout) had been received.
 */
export interface TimeoutAction {
  readonly type: 'timeout';
  readonly status: 408;
}

/** RFC 3261 §8.1.3.1: a fatal transport error is treated as a 503 (Service Unavailable). */
export interface TransportErrorAction {
  readonly type: 'transport-error';
  readonly status: 503;
}

/** RFC 3261 §17.1.1.2: the transaction "MUST be destroyed the instant it enters the Terminated state". */
export interface TerminatedAction {
  readonly type: 'terminated';
}

export type TransactionAction = SendAction | DeliverAction | TimeoutAction | TransportErrorAction | TerminatedAction;

/** The result of every transition: the next state (plain JSON) and what to do now, in order. */
export interface Transition<T> {
  readonly transaction: T;
  readonly actions: readonly TransactionAction[];
}
