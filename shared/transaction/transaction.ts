/**
 * Any of the four transaction state machines, and one transition function that dispatches on the
 * machine's `kind`. This is what a host stores and routes without caring which machine it holds.
 */
import type { ClientTransactionEvent, ServerTransactionEvent, Transition } from './transaction-event.ts';
import { inviteClientTransition, type InviteClientTransaction } from './invite-client-transaction.ts';
import { inviteServerTransition, type InviteServerTransaction } from './invite-server-transaction.ts';
import { nonInviteClientTransition, type NonInviteClientTransaction } from './non-invite-client-transaction.ts';
import { nonInviteServerTransition, type NonInviteServerTransaction } from './non-invite-server-transaction.ts';
import { unchanged } from './transaction-state.ts';

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;
export type Transaction = ClientTransaction | ServerTransaction;

export type TransactionEvent = ClientTransactionEvent | ServerTransactionEvent;

export function isClientTransaction(transaction: Transaction): transaction is ClientTransaction {
  return transaction.kind === 'invite-client' || transaction.kind === 'non-invite-client';
}

/**
 * Feeds `event` to whichever machine `transaction` is. An event that makes no sense for the machine's
 * side (a response offered to a server transaction) leaves it unchanged, as a stale timer does.
 */
export function transactionTransition(transaction: Transaction, event: TransactionEvent, now: number): Transition<Transaction> {
  switch (transaction.kind) {
    case 'invite-client':
      return isClientEvent(event) ? inviteClientTransition(transaction, event, now) : unchanged(transaction);
    case 'non-invite-client':
      return isClientEvent(event) ? nonInviteClientTransition(transaction, event, now) : unchanged(transaction);
    case 'invite-server':
      return isServerEvent(event) ? inviteServerTransition(transaction, event, now) : unchanged(transaction);
    case 'non-invite-server':
      return isServerEvent(event) ? nonInviteServerTransition(transaction, event, now) : unchanged(transaction);
  }
}

function isClientEvent(event: TransactionEvent): event is ClientTransactionEvent {
  return event.type !== 'receive-request' && event.type !== 'send-response';
}

function isServerEvent(event: TransactionEvent): event is ServerTransactionEvent {
  return event.type !== 'receive-response';
}
