/**
 * One step of a half: the value being changed, the effects it asks for, and the transaction
 * actions still to be handled. A step is built, run and thrown away within one event; only the
 * half it produces is kept (STYLE.md: state is plain JSON, behaviour is functions over it).
 *
 * Every transaction runs over a reliable transport (a WebSocket, RFC 7118 §5), so no request is
 * retransmitted; Timers B, F, H, L and M still run, on the object's alarm.
 */
import type { DigestAccount } from '../../shared/auth/index.ts';
import { clearTimer, setTimer } from '../../shared/clock/index.ts';
import { serializeMessage, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import {
  fireDueTimers,
  receiveRequest,
  receiveResponse,
  reportTransportError,
  sendRequest,
  sendResponse,
  type TableAction,
  type TableResult,
} from '../../shared/transaction/index.ts';
import type { Flow } from '../sip/flow.ts';
import type { DeviceRef, HalfCall, Purpose } from './call-half.ts';
import type { CallOffer, HalfAddress, PeerEvent } from './peer-event.ts';

export interface CallPolicy {
  /** How long the callee's devices may ring before the caller is answered 480 (RFC 3261 §13.3.1.1 leaves it to the UAS). */
  readonly noAnswerMs: number;
  /** How long a request relayed to the peer may wait for its answer before the device is answered 408. */
  readonly relayTimeoutMs: number;
  /** RFC 4028 §5: the smallest session interval (seconds) the edge accepts; a smaller Session-Expires gets 422 with this as Min-SE. */
  readonly minSessionExpires: number;
}

export const DEFAULT_CALL_POLICY: CallPolicy = { noAnswerMs: 60_000, relayTimeoutMs: 40_000, minSessionExpires: 90 };

export interface StepContext {
  readonly now: number;
  /** The SIP domain: the host of the edge's Via and Contact. */
  readonly domain: string;
  readonly policy: CallPolicy;
  /** The flow a binding of this user is registered over now, or undefined when it is gone. */
  readonly flowOf: (bindingKey: string) => Flow | undefined;
  /** The credentials this object answers a 401/407 to its INVITEs with (a PbxLink's, toward its PBX). */
  readonly credentials?: DigestAccount;
  /** RFC 3891: the confirmed half of this object whose leg is the dialog with this Call-ID and these two tags (in either order). */
  readonly dialogOf?: (callId: string, tagA: string, tagB: string) => HalfCall | undefined;
}

/** What a step asks its host to do, in order, once the new half is stored. */
export type CallEffect =
  /** Write `wire` on a device's flow; a failure is reported back to transaction `key`, if any. */
  | { readonly type: 'send'; readonly connectionId: string; readonly wire: string; readonly key?: string }
  /** Tell the peer half, or the half `to`. */
  | { readonly type: 'peer'; readonly event: PeerEvent; readonly to?: HalfAddress }
  /** RFC 3891: the half `id` (`call-half.ts` `halfKey`) of this object was replaced by an attended transfer: end its leg. */
  | { readonly type: 'replaced'; readonly key: string }
  /** Ask the callee's object to fork the call. */
  | { readonly type: 'offer'; readonly offer: CallOffer }
  | { readonly type: 'log'; readonly level: 'info' | 'warn'; readonly event: string; readonly fields: Readonly<Record<string, unknown>> };

export class CallStep {
  half: HalfCall;
  readonly context: StepContext;
  readonly effects: CallEffect[] = [];
  /** The flow of the device request this step handles, if any. */
  incoming: Flow | undefined;
  readonly #actions: TableAction[] = [];

  constructor(half: HalfCall, context: StepContext) {
    this.half = half;
    this.context = context;
  }

  get now(): number {
    return this.context.now;
  }

  update(patch: Partial<HalfCall>): void {
    this.half = { ...this.half, ...patch };
  }

  /** The way to this half's device now: its binding's current flow, else the flow last seen. */
  deviceFlow(device: DeviceRef = this.half.device): { connectionId: string; transport: Flow['transport'] } {
    const current = device.bindingKey === undefined ? undefined : this.context.flowOf(device.bindingKey);
    return current ?? { connectionId: device.connectionId, transport: device.transport };
  }

  receiveRequest(request: SipRequest, flow: Flow): void {
    this.incoming = flow;
    // RFC 3261 §17.2.1: the edge forwards an INVITE rather than answering it within 200 ms, so its
    // server transaction sends 100 (Trying) at once.
    this.#apply(receiveRequest(this.half.transactions, request, { reliable: true, flow: flow.connectionId, tryingDelay: 0 }, this.now));
  }

  receiveResponse(response: SipResponse): void {
    this.#apply(receiveResponse(this.half.transactions, response, this.now));
  }

  /** Sends `request` to a device through a new client transaction; returns its key. */
  sendRequest(request: SipRequest, connectionId: string, purpose: Purpose): string {
    const result = sendRequest(this.half.transactions, request, { reliable: true, flow: connectionId }, this.now);
    this.update({ purposes: { ...this.half.purposes, [result.key]: purpose } });
    this.#apply(result);
    return result.key;
  }

  sendResponse(key: string, response: SipResponse): void {
    this.#apply(sendResponse(this.half.transactions, key, response, this.now));
  }

  /** An ACK for a 2xx, or a 2xx retransmitted by the core: no transaction (RFC 3261 §13.2.2.4, §13.3.1.4). */
  sendDirect(message: SipRequest | SipResponse | string, connectionId: string): string {
    const wire = typeof message === 'string' ? message : serializeMessage(message);
    this.effects.push({ type: 'send', connectionId, wire });
    return wire;
  }

  transportError(key: string): void {
    this.#apply(reportTransportError(this.half.transactions, key, this.now));
  }

  fireTransactionTimers(): void {
    this.#apply(fireDueTimers(this.half.transactions, this.now));
  }

  /** Tells the peer half; a leg whose transfer took its peer away (`attended-transfer.ts`) has none to tell. */
  peer(event: PeerEvent): void {
    if (this.half.join?.kind === 'referred' || this.half.join?.kind === 'replaced') return;
    this.effects.push({ type: 'peer', event });
  }

  /** Tells the half `to`, which need not be this half's peer. */
  tell(to: HalfAddress, event: PeerEvent): void {
    this.effects.push({ type: 'peer', event, to });
  }

  log(level: 'info' | 'warn', event: string, fields: Readonly<Record<string, unknown>> = {}): void {
    this.effects.push({ type: 'log', level, event, fields: { call: this.half.id, role: this.half.role, ...fields } });
  }

  setTimer(key: string, deadline: number): void {
    this.update({ timers: setTimer(this.half.timers, key, deadline) });
  }

  clearTimer(key: string): void {
    this.update({ timers: clearTimer(this.half.timers, key) });
  }

  /** Forgets what transaction `key` was for: it has terminated. */
  forget(key: string): void {
    if (!Object.hasOwn(this.half.purposes, key)) return;
    const { [key]: _done, ...purposes } = this.half.purposes;
    this.update({ purposes });
  }

  /** The next transaction action to handle, in the order they came. */
  takeAction(): TableAction | undefined {
    return this.#actions.shift();
  }

  #apply(result: TableResult): void {
    this.half = { ...this.half, transactions: result.table };
    for (const action of result.actions) {
      if (action.type === 'send') {
        this.effects.push({ type: 'send', connectionId: action.flow ?? this.deviceFlow().connectionId, wire: action.wire, key: action.key });
      } else {
        this.#actions.push(action);
      }
    }
  }
}
