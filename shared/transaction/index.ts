/** SIP transactions (RFC 3261 §17, RFC 6026): plain-JSON state machines, matching keys, ACK and CANCEL. */
export { createAckForFailure } from './ack-request.ts';
export { generateBranch, isRfc3261Branch, MAGIC_COOKIE, type RandomSource } from './branch.ts';
export { createCancel } from './cancel-request.ts';
export {
  createInviteClientTransaction,
  inviteClientTransition,
  type InviteClientState,
  type InviteClientTransaction,
} from './invite-client-transaction.ts';
export {
  createInviteServerTransaction,
  inviteServerTransition,
  type InviteServerOptions,
  type InviteServerState,
  type InviteServerTransaction,
} from './invite-server-transaction.ts';
export {
  createNonInviteClientTransaction,
  nonInviteClientTransition,
  type NonInviteClientState,
  type NonInviteClientTransaction,
} from './non-invite-client-transaction.ts';
export {
  createNonInviteServerTransaction,
  nonInviteServerTransition,
  type NonInviteServerState,
  type NonInviteServerTransaction,
} from './non-invite-server-transaction.ts';
export {
  isClientTransaction,
  transactionTransition,
  type ClientTransaction,
  type ServerTransaction,
  type Transaction,
  type TransactionEvent,
} from './transaction.ts';
export type {
  ClientTransactionEvent,
  DeliverAction,
  ReceiveRequestEvent,
  ReceiveResponseEvent,
  SendAction,
  SendResponseEvent,
  ServerTransactionEvent,
  TerminatedAction,
  TimeoutAction,
  TimerEvent,
  TransactionAction,
  TransactionTimer,
  Transition,
  TransportErrorAction,
  TransportErrorEvent,
} from './transaction-event.ts';
export {
  cancelledTransactionKey,
  clientTransactionKey,
  responseTransactionKey,
  serverTransactionKey,
} from './transaction-key.ts';
export type { ArmedTimers, TransactionBase } from './transaction-state.ts';
export {
  emptyTransactionTable,
  fireDueTimers,
  getTransaction,
  nextTimerDeadline,
  receiveRequest,
  receiveResponse,
  reportTransportError,
  sendRequest,
  sendResponse,
  type TableAction,
  type TableResult,
  type TransactionTable,
} from './transaction-table.ts';
export { DEFAULT_TIMING, type TransactionOptions, type TransactionTiming } from './transaction-timing.ts';
