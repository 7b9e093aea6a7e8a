/**
 * One message on its way to the recipient's devices: a MESSAGE to every registered contact
 * at once, each through a non-INVITE client transaction (RFC 3261 §17.1.2) over the contact's flow.
 * A message to a GRUU (RFC 5627) goes to that one device and is never stored: when it does not get
 * through, the sender hears the device's own refusal, or 480.
 *
 * ```
 *   sending --first 2xx--------------------------------------> delivered  (out of storage, if it was stored)
 *      |----every device failed (error, timeout, failed flow)--> undelivered (stored, or kept stored)
 *      +----deadline: no 2xx yet------------------------------> undelivered (a late 2xx still delivers)
 * ```
 *
 * The sender waits for this (RFC 3428 §7: 200 once a device took the message, 202 when it was
 * stored instead), so the deadline is far shorter than Timer F: a device that neither answers nor
 * drops its socket must not make the sender's own MESSAGE time out. Plain JSON, held in memory: the
 * stored row is what survives an eviction.
 */
import type { SipResponse } from '../../shared/message/index.ts';
import {
  emptyTransactionTable,
  fireDueTimers,
  nextTimerDeadline,
  receiveResponse,
  reportTransportError,
  sendRequest,
  type TableResult,
  type TransactionTable,
} from '../../shared/transaction/index.ts';
import { newCallId } from '../sip/edge-ua.ts';
import { messageToDevice, type MessageTarget, type PageMessage } from './page-message.ts';

export type DeliveryState = 'sending' | 'delivered' | 'undelivered';

export interface Delivery {
  readonly id: string;
  /** The Call-ID of the MESSAGEs to the devices: responses come back with it. */
  readonly callId: string;
  /**
   * The stored row; undefined while a new message is first tried (written only if no device takes
   * it) and for a message to one device (a GRUU), which is never stored.
   */
  readonly storedId: number | undefined;
  readonly state: DeliveryState;
  /**
   * Per device: the client transaction's key, and how it ended: a status, with the device's
   * reason phrase when the device answered (a timeout or a failed flow has none).
   */
  readonly branches: readonly { readonly key: string; readonly status?: number; readonly reason?: string }[];
  readonly transactions: TransactionTable;
  readonly deadline: number;
}

export interface DeliverySend {
  readonly connectionId: string;
  readonly wire: string;
  readonly key: string;
}

export interface DeliveryStep {
  readonly delivery: Delivery;
  readonly sends: readonly DeliverySend[];
}

export function startDelivery(
  input: { id: string; storedId: number | undefined; page: PageMessage; targets: readonly MessageTarget[]; stored: boolean; domain: string; deadline: number },
  now: number,
): DeliveryStep {
  const callId = newCallId(input.domain);
  let table = emptyTransactionTable;
  const sends: DeliverySend[] = [];
  const branches = input.targets.map((target) => {
    const request = messageToDevice(input.page, target, callId, input.domain, input.stored);
    const result = sendRequest(table, request, { reliable: true, flow: target.flow.connectionId }, now);
    table = result.table;
    sends.push(...sendsOf(result, target.flow.connectionId));
    return { key: result.key };
  });
  return { delivery: { id: input.id, callId, storedId: input.storedId, state: 'sending', branches, transactions: table, deadline: input.deadline }, sends };
}

export function onDeliveryResponse(delivery: Delivery, response: SipResponse, now: number): DeliveryStep {
  return settle(delivery, receiveResponse(delivery.transactions, response, now));
}

/** The MESSAGE of transaction `key` could not be written on its flow. */
export function onDeliveryTransportError(delivery: Delivery, key: string, now: number): DeliveryStep {
  return settle(delivery, reportTransportError(delivery.transactions, key, now));
}

export function onDeliveryTimers(delivery: Delivery, now: number): DeliveryStep {
  const step = settle(delivery, fireDueTimers(delivery.transactions, now));
  if (step.delivery.state === 'sending' && now >= delivery.deadline) return { ...step, delivery: { ...step.delivery, state: 'undelivered' } };
  return step;
}

export function deliveryDeadline(delivery: Delivery): number | undefined {
  const transactions = nextTimerDeadline(delivery.transactions);
  const own = delivery.state === 'sending' ? delivery.deadline : undefined;
  const deadlines = [own, transactions].filter((deadline): deadline is number => deadline !== undefined);
  return deadlines.length === 0 ? undefined : Math.min(...deadlines);
}

/** Nothing is left to wait for: every transaction has ended. */
export function isDeliveryOver(delivery: Delivery): boolean {
  return delivery.state !== 'sending' && Object.keys(delivery.transactions.transactions).length === 0;
}

function settle(delivery: Delivery, result: TableResult): DeliveryStep {
  let branches = delivery.branches;
  const record = (key: string, status: number, reason?: string): void => {
    branches = branches.map((branch) => (branch.key === key && branch.status === undefined ? { ...branch, status, ...(reason === undefined ? {} : { reason }) } : branch));
  };
  for (const action of result.actions) {
    if (action.type === 'deliver' && action.message.kind === 'response' && action.message.status >= 200) record(action.key, action.message.status, action.message.reason);
    else if (action.type === 'timeout') record(action.key, 408);
    else if (action.type === 'transport-error') record(action.key, 430);
  }
  let state = delivery.state;
  // A 2xx delivers even after the deadline: the device has the message, so storage must let it go.
  if (state !== 'delivered' && branches.some((branch) => branch.status !== undefined && branch.status >= 200 && branch.status < 300)) state = 'delivered';
  else if (state === 'sending' && branches.every((branch) => branch.status !== undefined)) state = 'undelivered';
  return { delivery: { ...delivery, branches, transactions: result.table, state }, sends: sendsOf(result) };
}

/**
 * The answer to the sender of a message to one device (a GRUU) that did not get through: the
 * device's own refusal (4xx-6xx), relayed as a proxy would (RFC 3261 §16.7), or 480 when the
 * device gave none (timeout, failed flow; RFC 5627 §8.4.2).
 */
export function deviceRefusal(delivery: Delivery): { readonly status: number; readonly reason: string } {
  for (const branch of delivery.branches) {
    if (branch.status !== undefined && branch.status >= 400 && branch.reason !== undefined) return { status: branch.status, reason: branch.reason };
  }
  return { status: 480, reason: 'Temporarily Unavailable' };
}

function sendsOf(result: TableResult, fallback = ''): DeliverySend[] {
  return result.actions.flatMap((action) => (action.type === 'send' ? [{ connectionId: action.flow ?? fallback, wire: action.wire, key: action.key }] : []));
}
