/**
 * MESSAGE (RFC 3428) on the recipient's side, in its SipUser object: a message from another user
 * is stored, tried on every registered device at once, and answered 200 when a device took it or
 * 202 when it stays stored; stored messages go out again when the user next registers.
 *
 * The sender's object waits for the answer over RPC (`SipUser.receiveMessage`); the wait ends on
 * the first 2xx, when every device failed, or at the delivery deadline, a logical timer on this
 * object's alarm. Deliveries live in memory; the stored row is what an eviction cannot lose.
 */
import type { SipResponse } from '../../shared/message/index.ts';
import { getCallId } from '../../shared/message/index.ts';
import { errorFields, type Logger } from '../logger.ts';
import type { Binding } from '../registrar/binding.ts';
import { randomHex } from '../sip/edge-ua.ts';
import type { EffectQueue } from '../user/effect-queue.ts';
import {
  deliveryDeadline,
  isDeliveryOver,
  onDeliveryResponse,
  onDeliveryTimers,
  onDeliveryTransportError,
  startDelivery,
  type Delivery,
  type DeliveryStep,
} from './message-delivery.ts';
import type { MessageStore } from './message-store.ts';
import type { MessageOutcome, MessageTarget, PageMessage } from './page-message.ts';

export interface MessagePolicy {
  /** How long the sender may wait for a device's 2xx before it is answered 202 (the message stays stored). */
  readonly deliveryMs: number;
  /** Messages kept per user; more are refused with 480. */
  readonly maxStored: number;
  /** Stored messages sent per REGISTER. */
  readonly perRegistration: number;
}

export const DEFAULT_MESSAGE_POLICY: MessagePolicy = { deliveryMs: 8_000, maxStored: 200, perRegistration: 20 };

export interface MessagePorts {
  readonly domain: string;
  readonly log: Logger;
  readonly policy?: MessagePolicy;
  readonly queue: EffectQueue;
  now(): number;
  bindings(): readonly Binding[];
  deliver(connectionId: string, wire: string): Promise<boolean>;
  timersChanged(): Promise<void>;
}

export class MessageHost {
  readonly #store: MessageStore;
  readonly #ports: MessagePorts;
  readonly #deliveries = new Map<string, Delivery>();
  readonly #waiters = new Map<string, (outcome: MessageOutcome) => void>();

  constructor(store: MessageStore, ports: MessagePorts) {
    this.#store = store;
    this.#ports = ports;
  }

  get #policy(): MessagePolicy {
    return this.#ports.policy ?? DEFAULT_MESSAGE_POLICY;
  }

  /** A message for this user from another user's object: resolves to the answer for the sender. */
  receive(page: PageMessage): Promise<MessageOutcome> {
    if (this.#store.count() >= this.#policy.maxStored) {
      this.#ports.log.warn('message.store-full', { from: page.senderAor });
      return Promise.resolve({ status: 480, reason: 'Message Store Full' });
    }
    const storedId = this.#store.save(page);
    const targets = this.#targets();
    if (targets.length === 0) {
      this.#ports.log.info('message.stored', { from: page.senderAor, id: storedId });
      return Promise.resolve({ status: 202, reason: 'Accepted' });
    }
    return new Promise((resolve) => {
      const id = this.#start(storedId, page, targets, false);
      this.#waiters.set(id, resolve);
    });
  }

  /** The user registered: its stored messages go to every device now registered. */
  deliverStored(): void {
    if (this.#store.count() === 0) return;
    const targets = this.#targets();
    if (targets.length === 0) return;
    const inFlight = new Set([...this.#deliveries.values()].filter((delivery) => delivery.state === 'sending').map((delivery) => delivery.storedId));
    for (const stored of this.#store.oldest(this.#policy.perRegistration)) {
      if (!inFlight.has(stored.id)) this.#start(stored.id, stored.page, targets, true);
    }
  }

  /** The user was deleted: its stored messages go with it. */
  deleteStored(): void {
    this.#store.deleteAll();
  }

  /** A response from a device to a MESSAGE of this object; false when none has its Call-ID. */
  deviceResponse(response: SipResponse): boolean {
    const callId = getCallId(response);
    const delivery = [...this.#deliveries.values()].find((each) => each.callId === callId);
    if (delivery === undefined) return false;
    this.#apply(onDeliveryResponse(delivery, response, this.#ports.now()));
    return true;
  }

  fireTimers(): void {
    const now = this.#ports.now();
    for (const delivery of [...this.#deliveries.values()]) {
      const deadline = deliveryDeadline(delivery);
      if (deadline !== undefined && deadline <= now) this.#apply(onDeliveryTimers(delivery, now));
    }
  }

  nextDeadline(): number | undefined {
    let earliest: number | undefined;
    for (const delivery of this.#deliveries.values()) {
      const deadline = deliveryDeadline(delivery);
      if (deadline !== undefined && (earliest === undefined || deadline < earliest)) earliest = deadline;
    }
    return earliest;
  }

  #targets(): MessageTarget[] {
    return this.#ports.bindings().map((binding) => ({ contact: binding.contact, path: binding.path, flow: binding.flow }));
  }

  #start(storedId: number, page: PageMessage, targets: readonly MessageTarget[], stored: boolean): string {
    const now = this.#ports.now();
    const id = randomHex(8);
    this.#apply(startDelivery({ id, storedId, page, targets, stored, domain: this.#ports.domain, deadline: now + this.#policy.deliveryMs }, now));
    return id;
  }

  #apply(step: DeliveryStep): void {
    const before = this.#deliveries.get(step.delivery.id);
    const delivery = step.delivery;
    if (isDeliveryOver(delivery)) this.#deliveries.delete(delivery.id);
    else this.#deliveries.set(delivery.id, delivery);
    if (delivery.state !== 'sending' && before?.state !== delivery.state) this.#settled(before, delivery);
    const sends = step.sends;
    this.#ports.queue.push(async () => {
      for (const send of sends) {
        let delivered = false;
        try {
          delivered = await this.#ports.deliver(send.connectionId, send.wire);
        } catch (error) {
          this.#ports.log.warn('message.deliver-failed', errorFields(error));
        }
        const current = this.#deliveries.get(delivery.id);
        if (!delivered && current !== undefined) this.#apply(onDeliveryTransportError(current, send.key, this.#ports.now()));
      }
      await this.#ports.timersChanged();
    });
  }

  #settled(before: Delivery | undefined, delivery: Delivery): void {
    if (delivery.state === 'delivered') {
      this.#store.delete(delivery.storedId);
      this.#ports.log.info('message.delivered', { id: delivery.storedId, late: before?.state === 'undelivered' });
    } else {
      this.#ports.log.info('message.stored', { id: delivery.storedId, statuses: delivery.branches.map((branch) => branch.status ?? null) });
    }
    const waiter = this.#waiters.get(delivery.id);
    if (waiter === undefined) return;
    this.#waiters.delete(delivery.id);
    // RFC 3428 §7: 200 once a device has it; 202 (Accepted) when it was stored for later delivery.
    waiter(delivery.state === 'delivered' ? { status: 200, reason: 'OK' } : { status: 202, reason: 'Accepted' });
  }
}
