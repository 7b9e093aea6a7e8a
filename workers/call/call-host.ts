/**
 * The calls of one SipUser object: finds the half a message or a peer event is for, runs the event
 * (`runCallEvent`), stores the result, then performs its effects in order through the object's
 * effect queue, feeding their failures back as events.
 *
 * A half is changed only synchronously, between awaits, and always read afresh from the map: the
 * object may take other events while an effect is under way, and none of them can be lost.
 *
 * A call's routine steps (offered, forked, answered, hung up) are not logged: its call record
 * (`workers/directory/call-record-feed.ts`) has them. Failures and unusual steps are.
 */
import { getCallId, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { serverTransactionKey } from '../../shared/transaction/index.ts';
import type { DigestAccount } from '../../shared/auth/index.ts';
import { errorFields, type Logger } from '../logger.ts';
import type { OutboundPlan, OutboundRequest } from '../routing/routing-contract.ts';
import { parseNameAddr } from '../../shared/grammar/index.ts';
import type { Binding } from '../registrar/binding.ts';
import { isGruuDevice } from '../registrar/gruu.ts';
import type { Flow } from '../sip/flow.ts';
import { randomHex } from '../sip/edge-ua.ts';
import type { EffectQueue } from '../user/effect-queue.ts';
import { halfDeadline, halfKey, isFinished, peerAddress, type HalfCall, type HalfRole } from './call-half.ts';
import { namesDialog } from './attended-transfer.ts';
import { runCallEvent, type CallEvent } from './call-events.ts';
import { DEFAULT_CALL_POLICY, type CallEffect, type CallPolicy, type StepContext } from './call-step.ts';
import type { CallStore } from './call-store.ts';
import { createCalleeHalf, type ForkTarget } from './callee-fork.ts';
import { createCallerHalf } from './caller-setup.ts';
import { NOBODY_REGISTERED } from './fork-outcome.ts';
import type { CallOffer, HalfAddress, OfferResult, PeerEvent } from './peer-event.ts';

/** The other party's object, as a call sees it (SipUser RPC, or this very object for a call to oneself). */
export interface CallPeer {
  offerCall(offer: CallOffer): Promise<OfferResult>;
  callEvent(to: HalfAddress, event: PeerEvent): Promise<void>;
}

export interface CallPorts {
  readonly domain: string;
  readonly log: Logger;
  readonly policy?: CallPolicy;
  readonly queue: EffectQueue;
  now(): number;
  /** This user's unexpired bindings. */
  bindings(): readonly Binding[];
  /** Sends on a flow (SipConnection.deliver); false when the flow has failed. */
  deliver(connectionId: string, wire: string): Promise<boolean>;
  peer(aor: string): CallPeer;
  /** The timers changed: re-arm the object's alarm. */
  timersChanged(): Promise<void>;
  /** A half was stepped (presence's `dialog` package watches the phases, `workers/presence/`). */
  halfChanged?(half: HalfCall): void;
  /** A half was stepped, with the event and its effects: the call records watch the owning half (`workers/directory/call-record-feed.ts`). */
  callStepped?(before: HalfCall, after: HalfCall, event: CallEvent, effects: readonly CallEffect[]): void;
  /**
   * The routing plan for a callee that is no user of the domain (the Routing object's
   * `planOutbound`); without it such a call gets the callee's 404.
   */
  planOutbound?(request: OutboundRequest): Promise<OutboundPlan>;
  /** A call routed by `planOutbound` ended: its concurrency slot is free (`releaseOutbound`). */
  releaseOutbound?(callId: string): Promise<void>;
  /** What this object answers a 401/407 to its own INVITEs with (a PbxLink's credentials). */
  credentials?(): DigestAccount | undefined;
}

export class CallHost {
  readonly #store: CallStore;
  readonly #ports: CallPorts;
  #halves: Map<string, HalfCall> | undefined;
  // Indexes over the halves, kept with every change (`#put`, `#drop`): an ended half stays until its
  // transactions end (RFC 6026's Timer L, 32 s), so a busy user's object holds hundreds of halves,
  // and no message may cost a scan of them all.
  /** The keys of the halves of each leg's Call-ID, in the order the halves came. */
  readonly #keysByCallId = new Map<string, string[]>();
  /** The keys of the halves still under way (not ended). */
  readonly #live = new Set<string>();
  /** Each half's earliest deadline (`halfDeadline`), for those that have one. */
  readonly #deadlines = new Map<string, number>();
  /** The earliest of `#deadlines`; null when it must be found again (the earliest one moved later or went). */
  #earliest: number | undefined | null = undefined;

  constructor(store: CallStore, ports: CallPorts) {
    this.#store = store;
    this.#ports = ports;
  }

  #all(): Map<string, HalfCall> {
    if (this.#halves === undefined) {
      this.#halves = new Map();
      for (const [key, half] of this.#store.loadAll()) this.#put(key, half);
    }
    return this.#halves;
  }

  /** Sets a half (new or changed) in the map and the indexes. */
  #put(key: string, half: HalfCall): void {
    const halves = this.#halves ?? this.#all();
    const before = halves.get(key);
    halves.set(key, half);
    if (before === undefined || before.callId !== half.callId) {
      if (before !== undefined) this.#unindexCallId(key, before.callId);
      const keys = this.#keysByCallId.get(half.callId);
      if (keys === undefined) this.#keysByCallId.set(half.callId, [key]);
      else keys.push(key);
    }
    if (half.phase === 'ended') this.#live.delete(key);
    else this.#live.add(key);
    const deadline = halfDeadline(half);
    // An ended half's timers only end its transactions (RFC 6026's Timer L and M, 32 s): a little
    // late is as good, and rounded up they share one alarm, not one per call.
    this.#setDeadline(key, deadline === undefined || half.phase !== 'ended' ? deadline : Math.ceil(deadline / ENDED_TIMER_GRAIN_MS) * ENDED_TIMER_GRAIN_MS);
  }

  /** Removes a half from the map and the indexes. */
  #drop(key: string): void {
    const halves = this.#all();
    const half = halves.get(key);
    if (half === undefined) return;
    halves.delete(key);
    this.#unindexCallId(key, half.callId);
    this.#live.delete(key);
    this.#setDeadline(key, undefined);
  }

  #unindexCallId(key: string, callId: string): void {
    const keys = this.#keysByCallId.get(callId);
    if (keys === undefined) return;
    const rest = keys.filter((each) => each !== key);
    if (rest.length === 0) this.#keysByCallId.delete(callId);
    else this.#keysByCallId.set(callId, rest);
  }

  #setDeadline(key: string, deadline: number | undefined): void {
    const before = this.#deadlines.get(key);
    if (deadline === undefined) this.#deadlines.delete(key);
    else this.#deadlines.set(key, deadline);
    if (this.#earliest === null) return;
    if (before !== undefined && before === this.#earliest && (deadline === undefined || deadline > before)) this.#earliest = null;
    else if (deadline !== undefined && (this.#earliest === undefined || deadline < this.#earliest)) this.#earliest = deadline;
  }

  /** The half whose leg has this Call-ID, preferring one still under way. */
  #byCallId(callId: string | undefined): string | undefined {
    if (callId === undefined) return undefined;
    this.#all();
    const keys = this.#keysByCallId.get(callId);
    if (keys === undefined) return undefined;
    for (const key of keys) if (this.#live.has(key)) return key;
    return keys[0];
  }

  /** True when `request` is an INVITE this object already took (a retransmission, RFC 3261 §17.2.3). */
  isRetransmission(request: SipRequest): boolean {
    const key = this.#byCallId(getCallId(request));
    if (key === undefined) return false;
    const half = this.#all().get(key);
    return half !== undefined && Object.hasOwn(half.transactions.transactions, serverTransactionKey(request));
  }

  /** The half whose leg has this Call-ID (preferring one still under way), if any. */
  halfWithCallId(callId: string | undefined): HalfCall | undefined {
    const key = this.#byCallId(callId);
    return key === undefined ? undefined : this.#all().get(key);
  }

  /** True when a message with this Call-ID belongs to one of this user's calls. */
  owns(callId: string | undefined): boolean {
    return this.#byCallId(callId) !== undefined;
  }

  /** The caller's INVITE, authenticated: a new call to `calleeAor`. */
  startCall(request: SipRequest, flow: Flow, aor: string, calleeAor: string): void {
    const now = this.#ports.now();
    const binding = this.#ports.bindings().find((each) => each.flow.connectionId === flow.connectionId);
    const half = createCallerHalf({ id: randomHex(12), aor, peerAor: calleeAor, request, flow, now, ...(binding === undefined ? {} : { bindingKey: binding.key }) });
    const key = halfKey('caller', half.id);
    this.#put(key, half);
    this.#run(key, { type: 'device-request', request, flow });
  }

  /** A request from a device for one of this user's calls; false when no call has its Call-ID. */
  deviceRequest(request: SipRequest, flow: Flow): boolean {
    const key = this.#byCallId(getCallId(request));
    if (key === undefined) return false;
    this.#run(key, { type: 'device-request', request, flow });
    return true;
  }

  /** A response from a device for one of this user's calls; false when no call has its Call-ID. */
  deviceResponse(response: SipResponse): boolean {
    const key = this.#byCallId(getCallId(response));
    if (key === undefined) return false;
    this.#run(key, { type: 'device-response', response });
    return true;
  }

  /** The caller's object offers a call to this user: fork it to every registered contact (or to `given`: a link's PBX). */
  offer(offer: CallOffer, given?: readonly ForkTarget[]): OfferResult {
    // RFC 5627 §5.6: a GRUU rings its one device (480 when it is not registered).
    const bindings = this.#ports.bindings().filter((binding) => offer.gruu === undefined || isGruuDevice(binding.instance, offer.gruu));
    const targets = given ?? bindings.flatMap((binding): ForkTarget[] => (isDialable(binding.contact) ? [{ bindingKey: binding.key, contact: binding.contact, path: binding.path, flow: binding.flow }] : []));
    if (targets.length === 0) return { ok: false, ...NOBODY_REGISTERED };
    const half = createCalleeHalf(offer, this.#ports.domain, this.#ports.now());
    const key = halfKey('callee', half.id);
    if (this.#all().has(key)) return { ok: true };
    this.#put(key, half);
    this.#run(key, { type: 'fork', offer, targets });
    return { ok: true };
  }

  /** An event from the other half of a call; one for a half that is gone is dropped. */
  peerEvent(role: HalfRole, id: string, event: PeerEvent): void {
    const key = halfKey(role, id);
    if (!this.#all().has(key)) {
      this.#ports.log.info('call.peer-event-unmatched', { role, id, type: event.type });
      return;
    }
    this.#run(key, { type: 'peer', event });
  }

  /** Ends every half of call `id` in this object, with BYE (or CANCEL, or a failure) on both legs. */
  hangUp(id: string, reason: string): boolean {
    let found = false;
    for (const role of ['caller', 'callee'] as const) {
      const key = halfKey(role, id);
      if (!this.#all().has(key)) continue;
      found = true;
      this.#run(key, { type: 'hang-up', reason });
    }
    return found;
  }

  /** The half of call `id` this object holds, if any. */
  half(id: string): HalfCall | undefined {
    return this.#all().get(halfKey('caller', id)) ?? this.#all().get(halfKey('callee', id));
  }

  /** The alarm: every half with a timer due runs it. */
  fireTimers(): void {
    const now = this.#ports.now();
    this.#all();
    for (const [key, deadline] of [...this.#deadlines]) {
      if (deadline <= now) this.#run(key, { type: 'timers' });
    }
  }

  nextDeadline(): number | undefined {
    this.#all();
    if (this.#earliest === null) {
      let earliest: number | undefined;
      for (const deadline of this.#deadlines.values()) if (earliest === undefined || deadline < earliest) earliest = deadline;
      this.#earliest = earliest;
    }
    return this.#earliest;
  }

  /** The halves, for the API and tests. */
  list(): HalfCall[] {
    return [...this.#all().values()];
  }

  /** The halves still under way (not ended): what presence's `dialog` package and the API's `onCall` show. */
  live(): HalfCall[] {
    const halves = this.#all();
    return [...this.#live].flatMap((key) => halves.get(key) ?? []);
  }

  #context(): StepContext {
    const bindings = this.#ports.bindings();
    const credentials = this.#ports.credentials?.();
    return {
      now: this.#ports.now(),
      domain: this.#ports.domain,
      policy: this.#ports.policy ?? DEFAULT_CALL_POLICY,
      flowOf: (bindingKey) => bindings.find((binding) => binding.key === bindingKey)?.flow,
      ...(credentials === undefined ? {} : { credentials }),
      dialogOf: (callId, tagA, tagB) => this.live().find((half) => half.phase === 'confirmed' && namesDialog(half, callId, tagA, tagB)),
    };
  }

  #run(key: string, event: CallEvent): void {
    const half = this.#all().get(key);
    if (half === undefined) return;
    let result;
    try {
      result = runCallEvent(half, event, this.#context());
    } catch (error) {
      // A bug must not wedge the call forever: drop the half, loudly.
      this.#ports.log.error('call.step-failed', { call: half.id, role: half.role, event: event.type, ...errorFields(error) });
      this.#drop(key);
      this.#store.delete(key);
      this.#ports.halfChanged?.({ ...half, phase: 'ended' });
      return;
    }
    const next = result.half;
    if (isFinished(next)) {
      this.#drop(key);
      this.#store.delete(key);
    } else if (next !== half) {
      this.#put(key, next);
      // An ended half only absorbs its transactions' last messages: it is kept in memory, and its
      // row goes at once (a call that is over needs nothing to survive an eviction).
      if (next.phase !== 'ended') this.#store.save(key, next, this.#ports.now());
      else if (half.phase !== 'ended') this.#store.delete(key);
    }
    this.#ports.halfChanged?.(next);
    this.#ports.callStepped?.(half, next, event, result.effects);
    if (half.phase !== 'ended' && next.phase === 'ended' && next.setup.kind === 'caller' && next.setup.routed === true) this.#release(next.id);
    const address = peerAddress(next);
    const effects = result.effects;
    this.#ports.queue.push(async () => {
      for (const effect of effects) await this.#perform(key, address, effect);
      await this.#ports.timersChanged();
    });
  }

  #inDomain(aor: string): boolean {
    return aor.slice(aor.lastIndexOf('@') + 1).toLowerCase() === this.#ports.domain.toLowerCase();
  }

  /** Asks the routing plan for a callee off the domain, or one no user of it answers to. */
  async #route(key: string, offer: CallOffer): Promise<void> {
    const planOutbound = this.#ports.planOutbound;
    if (planOutbound === undefined) return;
    const at = (aor: string): string => aor.slice(0, Math.max(0, aor.lastIndexOf('@')));
    let plan: OutboundPlan;
    try {
      plan = await planOutbound({ callId: offer.id, user: at(offer.callerAor), dialled: at(offer.calleeAor) });
    } catch (error) {
      this.#ports.log.warn('call.routing-failed', errorFields(error));
      plan = { ok: false, status: 503, reason: 'Service Unavailable (routing)' };
    }
    this.#run(key, { type: 'routed', plan });
  }

  #release(id: string): void {
    const release = this.#ports.releaseOutbound;
    if (release === undefined) return;
    this.#ports.queue.push(async () => {
      try {
        await release(id);
      } catch (error) {
        this.#ports.log.warn('call.release-failed', { call: id, ...errorFields(error) });
      }
    });
  }

  async #perform(key: string, peer: HalfAddress, effect: CallEffect): Promise<void> {
    switch (effect.type) {
      case 'send': {
        let delivered = false;
        try {
          delivered = await this.#ports.deliver(effect.connectionId, effect.wire);
        } catch (error) {
          this.#ports.log.warn('call.deliver-failed', errorFields(error));
        }
        if (!delivered && effect.key !== undefined) this.#run(key, { type: 'transport-error', key: effect.key });
        return;
      }
      case 'peer': {
        const to = effect.to ?? peer;
        try {
          await this.#ports.peer(to.aor).callEvent(to, effect.event);
        } catch (error) {
          this.#ports.log.warn('call.peer-failed', { peer: to.aor, ...errorFields(error) });
          // Only the half's own peer being gone ends its leg; an attended transfer's other parties report their own failures.
          if (effect.to === undefined) this.#run(key, { type: 'peer-unreachable' });
        }
        return;
      }
      case 'replaced':
        this.#run(effect.key, { type: 'replaced' });
        return;
      case 'offer': {
        const { offer } = effect;
        const inDomain = this.#inDomain(offer.calleeAor);
        // A callee off the domain goes to routing; one of the domain only when it is a number no user has.
        const routable = offer.trunk === undefined && this.#ports.planOutbound !== undefined && (!inDomain || DIAL_STRING.test(offer.calleeAor.slice(0, offer.calleeAor.lastIndexOf('@'))));
        let result: OfferResult;
        try {
          result = routable && !inDomain ? NOT_A_USER : await this.#ports.peer(offer.calleeAor).offerCall(offer);
        } catch (error) {
          this.#ports.log.warn('call.offer-failed', { callee: offer.calleeAor, ...errorFields(error) });
          result = { ok: false, status: 503, reason: 'Service Unavailable' };
        }
        if (!result.ok && result.status === 404 && routable) return this.#route(key, offer);
        if (!result.ok) this.#run(key, { type: 'offer-refused', status: result.status, reason: result.reason });
        return;
      }
      case 'log':
        this.#ports.log[effect.level](effect.event, effect.fields);
        return;
    }
  }
}

/** The grain an ended half's deadlines are rounded up to (`#put`). */
const ENDED_TIMER_GRAIN_MS = 1_000;

const NOT_A_USER: OfferResult = { ok: false, status: 404, reason: 'Not Found' };

/** A dialled number (RFC 3966 digits, with the visual separators and the keypad's * and #), not a name. */
const DIAL_STRING = /^\+?[0-9*#().-]+$/;

/** A registered Contact that a request can be sent to (a `*` or a malformed one cannot). */
function isDialable(contact: string): boolean {
  try {
    return parseNameAddr(contact).uri.kind === 'sip';
  } catch {
    return false;
  }
}
