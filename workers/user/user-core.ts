/**
 * Everything one SipUser object does, without the runtime: the registrar, the user's calls (the
 * B2BUA halves, `workers/call/`), its messages (`workers/message/`), and the one alarm they share.
 * The Durable Object class builds this with its ports (storage, the clock, RPC stubs, the alarm)
 * and delegates every handler to it.
 *
 * Requests from the user's devices, in order (RFC 3261 §8.2, §16.3 for what the edge checks as
 * the caller's first hop, §22.3 for its challenges):
 * - REGISTER: the registrar; a successful one also sends the user's stored messages;
 * - anything for a call of the user (within its dialogs, a CANCEL, an ACK, a retransmitted
 *   INVITE): that call;
 * - INVITE and MESSAGE outside a dialog: checked, challenged (407), then a new call or a message
 *   to the user named by the Request-URI;
 * - OPTIONS outside a dialog: answered here; the rest: 481 or 501.
 */
import { createChallenges } from '../../shared/auth/index.ts';
import { nextDeadline } from '../../shared/clock/index.ts';
import { parseUri, serializeUri } from '../../shared/grammar/index.ts';
import { createResponse, getCallId, getTo, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import type { CallPeer } from '../call/call-host.ts';
import type { OutboundRequest, RoutingRpc } from '../routing/routing-contract.ts';
import { CallHost } from '../call/call-host.ts';
import { CallStore } from '../call/call-store.ts';
import { callRecordFeed } from '../directory/call-record-feed.ts';
import type { CallOffer, HalfAddress, OfferResult, PeerEvent } from '../call/peer-event.ts';
import type { Logger } from '../logger.ts';
import { MessageHost } from '../message/message-host.ts';
import { MessageStore } from '../message/message-store.ts';
import { PresenceHost, type PresencePeer } from '../presence/presence-host.ts';
import { PresenceStore } from '../presence/presence-store.ts';
import type { PresenceHubRpc } from '../presence/presence-feed.ts';
import { readPage, type MessageOutcome, type PageMessage } from '../message/page-message.ts';
import type { Binding } from '../registrar/binding.ts';
import type { PreparedChallenge } from '../registrar/prepared-challenge.ts';
import { gruuInstanceOf, publicGruu, readTempGruu } from '../registrar/gruu.ts';
import { CHALLENGE_ALGORITHMS } from '../registrar/registrar-auth.ts';
import { aorOf } from '../sip/address-of-record.ts';
import { EDGE_ALLOW } from '../sip/edge-methods.ts';
import { SipTrace } from '../trace/sip-trace.ts';
import { TraceStore } from '../trace/trace-store.ts';
import type { Flow } from '../sip/flow.ts';
import { randomTag } from '../sip/wire.ts';
import type { Account } from './account.ts';
import { EffectQueue } from './effect-queue.ts';
import { authenticateUser } from './user-auth.ts';
import { batchedPresenceHub } from './presence-batch.ts';
import { refuseRelayed } from './relay-checks.ts';
import { expireBindings, handleRegister, loadUserState, type UserState } from './user-registrar.ts';
import type { UserStore } from './user-store.ts';

/** Another user's object, as this one talks to it. */
export interface UserPeer extends CallPeer, PresencePeer {
  receiveMessage(page: PageMessage): Promise<MessageOutcome>;
}

/** What handling one request found out, for the object that holds the device's socket. */
export interface RequestReport {
  /** The request's credentials were a wrong answer. */
  authFailed?: boolean;
  /** An INVITE or MESSAGE outside a dialog passed authentication (its holder may get a challenge for the next one). */
  authenticated?: boolean;
}

export interface UserCorePorts {
  /** The user's domain (the host of its AOR): the digest realm, and the domain whose users are local. */
  readonly domain: string;
  /** The domain's aliases, lower case, as last read (`workers/domains/`): they name the domain's users too. */
  domainAliases?(): readonly string[];
  /** More names of this registrar in a REGISTER's Request-URI: the domain's aliases and SIPEDGE_REGISTRAR_ALIASES (`registrarAliases`). */
  registrarAliases?(): readonly string[];
  readonly log: Logger;
  readonly sql: SqlStorage;
  readonly store: UserStore;
  now(): number;
  /** SIPEDGE_NONCE_SECRET, read when needed. */
  nonceSecret(): string | undefined;
  /** Sends on a flow (SipConnection.deliver); false when the flow has failed. */
  deliver(connectionId: string, wire: string): Promise<boolean>;
  peer(aor: string): UserPeer;
  /** The domain's Routing object, for calls to callees that are no users of the domain; without it they get 404. */
  routing?(): Pick<RoutingRpc, 'planOutbound' | 'releaseOutbound'>;
  /** The first binding appeared (true) or the last one went (false); never called for a refresh (`pbx-proxy.ts`). */
  registeredChanged?(registered: boolean): void;
  /** The presence hub of a domain, told of presence changes (`workers/presence/presence-hub.ts`). */
  presenceHub?(domain: string): PresenceHubRpc;
  readonly alarm: {
    get(): Promise<number | null>;
    set(at: number): Promise<void>;
    clear(): Promise<void>;
  };
}

/** Methods a request outside any dialog may not use here yet (presence and transfer arrive with the rest of issue 3). */
const NOT_YET = new Set(['NOTIFY', 'PRACK']);

export class UserCore {
  readonly calls: CallHost;
  readonly messages: MessageHost;
  readonly presence: PresenceHost;
  /** Every SIP message in and out of this object (`workers/trace/`); the SipUser class records what it receives and answers. */
  readonly trace: SipTrace;
  readonly #ports: UserCorePorts;
  readonly #queue: EffectQueue;
  #state: UserState | undefined;
  /** The alarm as last set or read; undefined until read once. */
  #armed: number | null | undefined;

  constructor(ports: UserCorePorts) {
    this.#ports = ports;
    this.#queue = new EffectQueue(ports.log);
    this.trace = new SipTrace({ store: new TraceStore(ports.sql), now: () => ports.now(), timersChanged: () => this.#queue.push(() => this.#syncAlarm()) });
    const common = {
      domain: ports.domain,
      log: ports.log,
      queue: this.#queue,
      now: () => ports.now(),
      bindings: () => this.bindings(),
      deliver: (connectionId: string, wire: string) => {
        const flow = this.bindings().find((binding) => binding.flow.connectionId === connectionId)?.flow;
        this.trace.record({ direction: 'out', transport: flow?.transport ?? 'WS', flow: connectionId, remote: flow?.remoteAddress, wire });
        return ports.deliver(connectionId, wire);
      },
      timersChanged: () => this.#syncAlarm(),
    };
    const routing = ports.routing;
    const routed = routing === undefined ? {} : {
      planOutbound: (request: OutboundRequest) => routing().planOutbound(request),
      releaseOutbound: (callId: string) => routing().releaseOutbound(callId),
    };
    this.calls = new CallHost(new CallStore(ports.sql), { ...common, ...routed, peer: (aor) => this.#peer(aor), halfChanged: (half) => this.presence.halfChanged(half), callStepped: callRecordFeed(ports.domain, ports.log, () => ports.now()) });
    this.messages = new MessageHost(new MessageStore(ports.sql), common);
    const presencePorts = { aor: () => this.account()?.aor, registered: () => this.bindings().length > 0, calls: () => this.calls.live(), ...(ports.presenceHub === undefined ? {} : { hub: batchedPresenceHub(ports.presenceHub, ports.log) }) };
    this.presence = new PresenceHost(new PresenceStore(ports.sql), { ...common, ...presencePorts, peer: (aor) => this.#peer(aor) });
  }

  /** Creates or replaces the account; true when it is new. */
  putAccount(account: Account): boolean {
    const now = this.#ports.now();
    const state = this.#load(now);
    this.#ports.store.saveAccount(account, now);
    this.#state = { ...state, account };
    return state.account === undefined;
  }

  account(): Account | undefined {
    return this.#load(this.#ports.now()).account;
  }

  /** Forgets the user: account, bindings, lock-out, stored messages; false when there was none. */
  async deleteAccount(): Promise<boolean> {
    const existed = this.account() !== undefined;
    this.presence.resourceGone();
    this.trace.clear();
    this.#ports.store.deleteAll();
    this.messages.deleteStored();
    this.#state = undefined;
    await this.#ports.alarm.clear();
    this.#armed = null;
    return existed;
  }

  /** The unexpired bindings. */
  bindings(): Binding[] {
    const now = this.#ports.now();
    return this.#load(now).bindings.filter((binding) => binding.expiresAt > now);
  }

  /**
   * A request from one of this user's devices (or for this AOR, for REGISTER). `report` learns
   * whether its credentials were a wrong answer (the per-address guard counts those).
   */
  async receiveRequest(aor: string, request: SipRequest, flow: Flow, report: RequestReport = {}): Promise<SipResponse | undefined> {
    const answer = (status: number, reason?: string, headers: SipResponse['headers'] = []): SipResponse =>
      createResponse(request, status, reason, { toTag: randomTag(), headers });
    if (request.method === 'REGISTER') return this.#register(aor, request, flow, report);
    const inDialog = getTo(request)?.tag !== undefined;
    if (this.calls.owns(getCallId(request)) && (inDialog || request.method === 'CANCEL' || request.method === 'ACK' || this.calls.isRetransmission(request))) {
      this.calls.deviceRequest(request, flow);
      await this.#queue.drain();
      return undefined;
    }
    if (request.method === 'ACK') return undefined;
    if (request.method === 'SUBSCRIBE' || request.method === 'PUBLISH') {
      const response = await this.presence.deviceRequest(aor, this.#canonical(request), flow, () => this.#authenticate(aor, request, flow, report));
      await this.#queue.drain();
      return response;
    }
    // RFC 3261 §12.2.2 and §9.2: no call of this user has it.
    if (inDialog || request.method === 'CANCEL' || request.method === 'BYE') return answer(481);
    switch (request.method) {
      case 'INVITE':
      case 'MESSAGE':
        return this.#relay(aor, request, flow, report);
      case 'OPTIONS':
        // RFC 3261 §11.2: what the edge would do with an INVITE, without one.
        return answer(200, undefined, [{ name: 'Allow', value: EDGE_ALLOW }]);
      case 'REFER':
        // RFC 3515 §2.4.2 leaves acceptance to policy: an out-of-dialog REFER is never forwarded to
        // a client, which would follow it unasked (issue 8, `allowOutOfDialogRefers`).
        return answer(403, 'Out-of-Dialog REFER Not Allowed');
      default:
        // RFC 3261 §21.5.2 (501) for what the edge does not implement, §21.4.6 (405) for what it knows.
        return answer(NOT_YET.has(request.method) ? 501 : 405, undefined, [{ name: 'Allow', value: EDGE_ALLOW }]);
    }
  }

  /**
   * A challenge for this user's next REGISTER, INVITE or MESSAGE without credentials, for the
   * object holding the device's socket to answer with (`workers/registrar/prepared-challenge.ts`).
   * None for an unknown user or while the user has recent failed attempts: those requests are
   * answered here.
   */
  prepareChallenge(): PreparedChallenge | undefined {
    const secret = this.#ports.nonceSecret();
    if (typeof secret !== 'string' || secret.length < 16) return undefined;
    const now = this.#ports.now();
    const state = this.#load(now);
    if (state.account === undefined || state.guard.failures > 0 || state.guard.blockedUntil > now) return undefined;
    const realm = this.#ports.domain.toLowerCase();
    const values = createChallenges({ realm, secret, now, algorithms: CHALLENGE_ALGORITHMS });
    return { values, realm, aliases: this.#ports.registrarAliases?.() ?? [] };
  }

  /** A response from one of this user's devices. */
  async receiveResponse(response: SipResponse): Promise<void> {
    if (!this.calls.deviceResponse(response) && !this.messages.deviceResponse(response) && !this.presence.deviceResponse(response)) {
      this.#ports.log.info('sip-user.response-unmatched', { status: response.status, callId: getCallId(response) });
    }
    await this.#queue.drain();
  }

  /** RPC from the caller's object: a call for this user. */
  offerCall(offer: CallOffer): OfferResult {
    if (this.#load(this.#ports.now()).account === undefined) return { ok: false, status: 404, reason: 'Not Found' };
    return this.calls.offer(offer);
  }

  /** RPC from the other half of a call. */
  callEvent(to: HalfAddress, event: PeerEvent): void {
    this.calls.peerEvent(to.role, to.id, event);
  }

  /** RPC from the sender's object: a MESSAGE for this user. */
  async receiveMessage(page: PageMessage): Promise<MessageOutcome> {
    if (this.#load(this.#ports.now()).account === undefined) return { status: 404, reason: 'Not Found' };
    const outcome = this.messages.receive(page);
    await this.#syncAlarm();
    return outcome;
  }

  async alarm(): Promise<void> {
    // The alarm that rang is no longer armed.
    this.#armed = null;
    const now = this.#ports.now();
    const online = this.bindings().length > 0;
    const bound = this.#load(now).bindings.length > 0;
    this.#state = expireBindings(this.#load(now), now, this.#ports.store, this.#ports.log);
    if (bound && this.#state.bindings.length === 0) this.#ports.registeredChanged?.(false);
    if (online !== this.bindings().length > 0) this.presence.presenceChanged();
    this.calls.fireTimers();
    this.messages.fireTimers();
    this.presence.fireTimers();
    this.trace.fireTimers();
    await this.#queue.drain();
    await this.#syncAlarm();
  }

  async #register(aor: string, request: SipRequest, flow: Flow, report: RequestReport): Promise<SipResponse> {
    const nonceSecret = this.#nonceSecret();
    if (nonceSecret === undefined) return createResponse(request, 500, 'Server Misconfigured', { toTag: randomTag() });
    const now = this.#ports.now();
    const online = this.bindings().length > 0;
    const bound = this.#load(now).bindings.length > 0;
    const handled = handleRegister(this.#load(now), {
      aor,
      request,
      flow,
      now,
      domain: this.#ports.domain,
      nonceSecret,
      store: this.#ports.store,
      log: this.#ports.log,
      registrarAliases: this.#ports.registrarAliases?.(),
    });
    this.#state = handled.state;
    if (bound !== handled.state.bindings.length > 0) this.#ports.registeredChanged?.(!bound);
    if (handled.authFailed === true) report.authFailed = true;
    // RFC 3856 §6.6: without a publication, registration is the presence (open while a device is registered).
    if (online !== this.bindings().length > 0) this.presence.presenceChanged();
    await this.#syncAlarm();
    // RFC 3428 §7: messages stored while the user was away go out once a device is back. Not
    // awaited: the 200 OK goes first.
    if (handled.response.status === 200 && this.bindings().length > 0) this.messages.deliverStored();
    return handled.response;
  }

  /** INVITE or MESSAGE outside a dialog: checked, authenticated, then relayed to the user the Request-URI names. */
  async #relay(aor: string, request: SipRequest, flow: Flow, report: RequestReport): Promise<SipResponse | undefined> {
    const answer = (status: number, reason?: string, headers: SipResponse['headers'] = []): SipResponse =>
      createResponse(request, status, reason, { toTag: randomTag(), headers });
    const isInvite = request.method === 'INVITE';
    const refusal = refuseRelayed(request);
    if (refusal !== undefined) return answer(refusal.status, refusal.reason, [...(refusal.headers ?? [])]);
    const nonceSecret = this.#nonceSecret();
    if (nonceSecret === undefined) return answer(500, 'Server Misconfigured');
    const now = this.#ports.now();
    const realm = this.#ports.domain.toLowerCase();
    const auth = authenticateUser(this.#load(now), { aor, request, flow, now, realm, nonceSecret, store: this.#ports.store, log: this.#ports.log }, 'proxy');
    this.#state = auth.state;
    if (!auth.ok) {
      if (auth.counted) report.authFailed = true;
      return auth.response;
    }
    report.authenticated = true;
    // RFC 5627 §3.2: a temporary GRUU this edge issued stands for one device of its user (`workers/registrar/gruu.ts`).
    const tempGruu = readTempGruu(request.uri, nonceSecret);
    const routed = tempGruu === undefined ? request : { ...request, uri: publicGruu(tempGruu.aor, tempGruu.instanceUrn) };
    const target = calleeOf(routed.uri, this.#ports.domain, this.#ports.domainAliases?.() ?? [], isInvite && this.#ports.routing !== undefined);
    if (!target.ok) return answer(target.status, target.reason);
    if (isInvite) {
      this.calls.startCall(routed, flow, aor, target.aor);
      await this.#queue.drain();
      return undefined;
    }
    // RFC 5627 §8.4.2: a message to a GRUU is for that one device (`workers/message/message-host.ts`).
    const page = readPage(request, aor, now, gruuInstanceOf(routed.uri));
    if (page === undefined) return answer(415, 'Body Is Not UTF-8 Text');
    let outcome: MessageOutcome;
    try {
      outcome = await this.#peer(target.aor).receiveMessage(page);
    } catch (error) {
      this.#ports.log.warn('message.peer-failed', { to: target.aor, error: String(error) });
      outcome = { status: 503, reason: 'Service Unavailable' };
    }
    return answer(outcome.status, outcome.reason);
  }

  /** The request with a Request-URI naming the domain by one of its aliases renamed to the domain itself (presence knows only the name). */
  #canonical(request: SipRequest): SipRequest {
    const aliases = this.#ports.domainAliases?.() ?? [];
    if (aliases.length === 0) return request;
    try {
      const uri = parseUri(request.uri);
      if (uri.kind !== 'sip' || !aliases.includes(uri.host.toLowerCase())) return request;
      return { ...request, uri: serializeUri({ ...uri, host: this.#ports.domain.toLowerCase() }) };
    } catch {
      return request;
    }
  }

  #peer(aor: string): UserPeer {
    if (aor !== this.#load(this.#ports.now()).account?.aor) return this.#ports.peer(aor);
    // A call or a message to oneself (another device of the same user) stays in this object.
    return {
      offerCall: (offer) => Promise.resolve(this.offerCall(offer)),
      callEvent: (to, event) => Promise.resolve(this.callEvent(to, event)),
      receiveMessage: (page) => this.receiveMessage(page),
      subscribe: (input) => Promise.resolve(this.presence.accept(input)),
      notifyAnswered: (answer) => Promise.resolve(this.presence.notifyAnswered(answer)),
    };
  }

  /** RFC 3261 §22.3: the edge challenges the requests it handles for the user (407); undefined once authenticated. */
  #authenticate(aor: string, request: SipRequest, flow: Flow, report: RequestReport): SipResponse | undefined {
    const nonceSecret = this.#nonceSecret();
    if (nonceSecret === undefined) return createResponse(request, 500, 'Server Misconfigured', { toTag: randomTag() });
    const now = this.#ports.now();
    const auth = authenticateUser(this.#load(now), { aor, request, flow, now, realm: this.#ports.domain.toLowerCase(), nonceSecret, store: this.#ports.store, log: this.#ports.log }, 'proxy');
    this.#state = auth.state;
    if (!auth.ok && auth.counted) report.authFailed = true;
    return auth.ok ? undefined : auth.response;
  }

  #nonceSecret(): string | undefined {
    const secret = this.#ports.nonceSecret();
    if (typeof secret === 'string' && secret.length >= 16) return secret;
    this.#ports.log.error('config.nonce-secret-missing', { detail: 'set SIPEDGE_NONCE_SECRET (16 characters or more): wrangler secret put SIPEDGE_NONCE_SECRET' });
    return undefined;
  }

  #load(now: number): UserState {
    this.#state ??= loadUserState(this.#ports.store, now);
    return this.#state;
  }

  /** One alarm for every timer (DESIGN.md): armed for the earliest deadline, and only when that changes. */
  async #syncAlarm(): Promise<void> {
    const deadlines = [this.#state === undefined ? undefined : nextDeadline(this.#state.timers), this.calls.nextDeadline(), this.messages.nextDeadline(), this.presence.nextDeadline(), this.trace.nextDeadline()];
    const due = deadlines.filter((deadline): deadline is number => deadline !== undefined);
    const wanted = due.length === 0 ? null : Math.min(...due);
    if (this.#armed === undefined) this.#armed = await this.#ports.alarm.get();
    if (wanted === this.#armed) return;
    if (wanted === null) await this.#ports.alarm.clear();
    else await this.#ports.alarm.set(wanted);
    this.#armed = wanted;
  }
}

type Callee = { readonly ok: true; readonly aor: string } | { readonly ok: false; readonly status: number; readonly reason: string };

/**
 * The user a request is for, from its Request-URI (RFC 3261 §16.5: the target set comes from it):
 * a user of the caller's own domain (named by the domain or one of its `aliases`). With `routable`
 * (a call, and routing configured), a URI of any other host, another domain this edge serves
 * included, names a callee off the domain (`user@host`), which the call's routing plan takes
 * (`CallHost`): domains are tenants, and one reaches another only through its own routes.
 */
function calleeOf(requestUri: string, domain: string, aliases: readonly string[], routable: boolean): Callee {
  let uri;
  try {
    uri = parseUri(requestUri);
  } catch {
    return { ok: false, status: 400, reason: 'Bad Request-URI' };
  }
  const target = aorOf(uri, domain, aliases);
  if (target.ok) return { ok: true, aor: target.aor };
  switch (target.reason) {
    case 'not-sip':
      return { ok: false, status: 416, reason: 'Unsupported URI Scheme' };
    case 'no-user':
      return { ok: false, status: 484, reason: 'Address Incomplete' };
    case 'foreign-domain':
      if (routable && uri.kind === 'sip' && uri.user !== undefined && uri.user !== '') return { ok: true, aor: `${uri.user}@${uri.host}` };
      return { ok: false, status: 404, reason: 'Not Found (no route off this domain)' };
  }
}
