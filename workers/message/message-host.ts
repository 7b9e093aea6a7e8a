/**
 * MESSAGE (RFC 3428) on the recipient's side, in its SipUser object: a message from another user
 * is tried on every registered device at once and answered 200 when a device took it, or stored
 * and answered 202 when none did (or none is registered); stored messages go out again when the
 * user next registers. A message
 * to a GRUU (RFC 5627 §8.4.2) goes only to the binding of that device's instance and is never
 * stored: 480 when that device is not registered or gave no answer, its own refusal otherwise.
 *
 * The sender's object waits for the answer over RPC (`SipUser.receiveMessage`); the wait ends on
 * the first 2xx, when every device failed, or at the delivery deadline, a logical timer on this
 * object's alarm. Deliveries live in memory. A message is written to storage only when no device
 * took it, so one delivered at once costs no row write. While it is being tried it lives with the
 * sender's wait (an object with a request in progress is not evicted); a restart then fails that
 * wait, so the sender hears 503 (`user-core.ts`), never a 200 or 202 for a message that is gone.
 * The stored row is what an eviction cannot lose.
 */
import type { SipResponse } from '../../shared/message/index.ts';
import { getCallId } from '../../shared/message/index.ts';
import { errorFields, type Logger } from '../logger.ts';
import type { Binding } from '../registrar/binding.ts';
import { isGruuDevice } from '../registrar/gruu.ts';
import { randomHex } from '../sip/edge-ua.ts';
import type { EffectQueue } from '../user/effect-queue.ts';
import {
  deliveryDeadline,
  deviceRefusal,
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
  /** Per delivery: a message not written yet, stored if no device takes it. */
  readonly #unstored = new Map<string, PageMessage>();

  constructor(store: MessageStore, ports: MessagePorts) {
    this.#store = store;
    this.#ports = ports;
  }

  get #policy(): MessagePolicy {
    return this.#ports.policy ?? DEFAULT_MESSAGE_POLICY;
  }

  /** A message for this user from another user's object: resolves to the answer for the sender. */
  receive(page: PageMessage): Promise<MessageOutcome> {
    if (page.gruu !== undefined) return this.#receiveForDevice(page, page.gruu);
    if (this.#store.count() >= this.#policy.maxStored) {
      this.#ports.log.warn('message.store-full', { from: page.senderAor });
      return Promise.resolve({ status: 480, reason: 'Message Store Full' });
    }
    const targets = this.#targets();
    if (targets.length === 0) {
      const storedId = this.#store.save(page);
      this.#ports.log.info('message.stored', { from: page.senderAor, id: storedId });
      return Promise.resolve({ status: 202, reason: 'Accepted' });
    }
    return new Promise((resolve) => {
      const id = this.#start(undefined, page, targets, false);
      this.#unstored.set(id, page);
      this.#waiters.set(id, resolve);
    });
  }

  /** A message to a GRUU: to the one device it names, never stored for the user's other devices. */
  #receiveForDevice(page: PageMessage, gruu: string): Promise<MessageOutcome> {
    const targets = this.#targets(gruu);
    if (targets.length === 0) {
      this.#ports.log.info('message.device-unavailable', { from: page.senderAor, gruu });
      return Promise.resolve({ status: 480, reason: 'Temporarily Unavailable' });
    }
    return new Promise((resolve) => {
      const id = this.#start(undefined, page, targets, false);
      this.#waiters.set(id, resolve);
    });
  }

  /** The user registered: its stored messages go to every device now registered. */
  deliverStored(): void {
    if (this.#store.count() === 0) return;
    const targets = this.#targets();
    if (targets.length === 0) return;
    const inFlight = new Set([...this.#deliveries.values()].filter((delivery) => delivery.state === 'sending' && delivery.storedId !== undefined).map((delivery) => delivery.storedId));
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

  /** The registered devices: all of them, or the one whose instance a GRUU names. */
  #targets(gruu?: string): MessageTarget[] {
    const bindings = this.#ports.bindings();
    return (gruu === undefined ? bindings : bindings.filter((binding) => isGruuDevice(binding.instance, gruu))).map((binding) => ({ contact: binding.contact, path: binding.path, flow: binding.flow }));
  }

  #start(storedId: number | undefined, page: PageMessage, targets: readonly MessageTarget[], stored: boolean): string {
    const now = this.#ports.now();
    const id = randomHex(8);
    this.#apply(startDelivery({ id, storedId, page, targets, stored, domain: this.#ports.domain, deadline: now + this.#policy.deliveryMs }, now));
    return id;
  }

  #apply(step: DeliveryStep): void {
    const before = this.#deliveries.get(step.delivery.id);
    let delivery = step.delivery;
    if (delivery.state !== 'sending' && before?.state !== delivery.state) delivery = this.#settled(before, delivery);
    if (isDeliveryOver(delivery)) this.#deliveries.delete(delivery.id);
    else this.#deliveries.set(delivery.id, delivery);
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

  /** The delivery ended (or a late 2xx came): storage and the sender's answer; the delivery as it is kept from now on. */
  #settled(before: Delivery | undefined, delivery: Delivery): Delivery {
    const statuses = delivery.branches.map((branch) => branch.status ?? null);
    const unstored = this.#unstored.get(delivery.id);
    this.#unstored.delete(delivery.id);
    let settled = delivery;
    // RFC 3428 §7: 200 once a device has it; 202 (Accepted) when it was stored for later delivery;
    // a message to one device (a GRUU) is not stored, so the sender hears why it did not get through.
    let outcome: MessageOutcome;
    if (delivery.state === 'delivered') {
      // A message delivered at once is the common case, in the trace already: only a stored one's
      // delivery is worth a log line (one per message would cost every delivery a write to the log).
      if (delivery.storedId !== undefined) {
        this.#store.delete(delivery.storedId);
        this.#ports.log.info('message.delivered', { id: delivery.storedId, late: before?.state === 'undelivered' });
      }
      outcome = { status: 200, reason: 'OK' };
    } else if (unstored !== undefined && this.#store.count() >= this.#policy.maxStored) {
      this.#ports.log.warn('message.store-full', { from: unstored.senderAor, statuses });
      outcome = { status: 480, reason: 'Message Store Full' };
    } else if (unstored !== undefined) {
      // No device took it: kept now, for the next registration (a late 2xx still takes it back out).
      settled = { ...delivery, storedId: this.#store.save(unstored) };
      this.#ports.log.info('message.stored', { id: settled.storedId ?? null, statuses });
      outcome = { status: 202, reason: 'Accepted' };
    } else if (delivery.storedId === undefined) {
      this.#ports.log.info('message.undelivered', { statuses });
      outcome = deviceRefusal(delivery);
    } else {
      this.#ports.log.info('message.stored', { id: delivery.storedId, statuses });
      outcome = { status: 202, reason: 'Accepted' };
    }
    const waiter = this.#waiters.get(delivery.id);
    this.#waiters.delete(delivery.id);
    waiter?.(outcome);
    return settled;
  }
}
