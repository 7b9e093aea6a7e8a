/**
 * SipUser: one Durable Object per address-of-record (`user@domain`): the account, the registrar,
 * the user's half of every call it takes part in (the edge is a B2BUA, `workers/call/call-half.ts`
 * says which half owns what), and the messages waiting for it.
 *
 * Messages from devices arrive over RPC from SipConnection objects (`receiveRequest` returns the
 * response to send back on the same flow, when there is one at once), or on a WebSocket the object
 * holds itself: one opened on the per-user URL `/sip/<user>` (`workers/connection/user-socket.ts`),
 * which costs no object hop. The object reaches a device through the flow of its binding (its own
 * socket, `SipConnection.deliver`, or the holding SipUser's `deliverOnFlow`), and the other party
 * of a call or message through that user's object (`offerCall`, `callEvent`, `receiveMessage`).
 *
 * Thin by design (STYLE.md): each handler delegates to `UserCore` or a module beside it
 * (`user-peers.ts`, `user-trace.ts`, `user-flows.ts`, `address-blocks.ts`, `pbx-proxy.ts`, `websocket-mode.ts`) and
 * catches and logs. Time comes from `clock`, which tests replace.
 */
import { DurableObject } from 'cloudflare:workers';
import { systemClock, type Clock } from '../../shared/clock/index.ts';
import { KEEPALIVE_PING, KEEPALIVE_PONG } from '../../shared/framing/index.ts';
import { createResponse, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import type { HalfCall } from '../call/call-half.ts';
import { handleWebSocketMessage } from '../connection/connection-handler.ts';
import { openPbxSocket, type PbxSocketOpener, type RelayTarget } from '../connection/pbx-relay.ts';
import { USER_SOCKET_AOR_HEADER, userSocketFlowId, type UserSocketAttachment } from '../connection/user-socket.ts';
import { webSocketHost } from '../connection/websocket-upgrade.ts';
import { registrarAliases } from '../registrar/register-checks.ts';
import type { DomainRecord } from '../domains/domain-record.ts';
import { servedDomain } from '../domains/served-domains.ts';
import { domainOfAor } from '../sip/address-of-record.ts';
import type { CallOffer, HalfAddress, OfferResult, PeerEvent } from '../call/peer-event.ts';
import { routingFor } from '../routing/routing.ts';
import { createLogger, errorFields, type Logger } from '../logger.ts';
import type { MessageOutcome, PageMessage } from '../message/page-message.ts';
import type { BasicStatus } from '../presence/pidf.ts';
import type { PresenceSnapshot } from '../presence/presence-host.ts';
import { presenceHub } from '../presence/presence-hub.ts';
import type { SummaryOutcome } from '../presence/message-summary.ts';
import type { NotifyAnswer, SubscribeAnswer, SubscribeInput } from '../presence/subscription.ts';
import type { Binding } from '../registrar/binding.ts';
import type { PreparedChallenge } from '../registrar/prepared-challenge.ts';
import { refuseFromBlockedAddress, upgradeRefusalResponse, type AddressBlock } from '../registrar/address-guard.ts';
import { addressGuard } from '../registrar/address-guard-object.ts';
import type { Flow } from '../sip/flow.ts';
import { randomTag } from '../sip/wire.ts';
import { tracePolicyFor, type TraceQuery } from '../trace/sip-trace.ts';
import type { TraceEntry, TraceRecord } from '../trace/trace-record.ts';
import { AddressBlocks } from './address-blocks.ts';
import { viewOf, type Account, type AccountView } from './account.ts';
import { PbxProxy } from './pbx-proxy.ts';
import { SocketRelays, WebSocketMode, type WebSocketModeSetting } from './websocket-mode.ts';
import { UserCore, type RequestReport } from './user-core.ts';
import { UserFlows } from './user-flows.ts';
import { UserPeers } from './user-peers.ts';
import { UserTraceRecorder } from './user-trace.ts';
import { UserStore } from './user-store.ts';

/** What a SipUser answers a request from a device with (`receiveRequest`). */
export interface UserAnswer {
  /** The response to send back on the flow at once, if any. */
  readonly response?: SipResponse;
  /** A challenge for the device's next REGISTER, INVITE or MESSAGE without credentials, when asked for and the user's state allows. */
  readonly challenge?: PreparedChallenge;
  /** The flow's source address is now blocked for failed authentications (`workers/registrar/address-guard.ts`). */
  readonly addressBlock?: AddressBlock;
  /** Messages for the same flow produced while the request was handled (`ReceiveOptions.collectSends`), to send in order before `response`. */
  readonly sent?: readonly string[];
}

export interface ReceiveOptions {
  /** Messages the socket's holder answered for this AOR by itself, oldest first, for the trace. */
  readonly earlier?: readonly TraceEntry[];
  /** Prepare a challenge for the device's next REGISTER, INVITE or MESSAGE (the holder answers it without an RPC). */
  readonly prepareChallenge?: boolean;
  /**
   * Return what goes to the request's own flow while it is handled (the 100 Trying to an INVITE,
   * the 200 to a BYE, the 487 after a CANCEL) in `UserAnswer.sent`, instead of delivering each by
   * an RPC of its own: the holder is waiting for the answer anyway.
   */
  readonly collectSends?: boolean;
}

/** How often a live object reads its domain's settings again (aliases, trace retention); each read is cached per isolate besides. */
export const DOMAIN_REFRESH_MS = 60_000;

export class SipUser extends DurableObject<Env> {
  /** The object's time source; tests put a fake clock here with `runInDurableObject`. */
  clock: Clock = systemClock;
  readonly store: UserStore;
  readonly core: UserCore;
  readonly #log: Logger;
  /** Stubs of the other parties of calls, messages and subscriptions, and of AORs whose messages arrive on this object's sockets. */
  readonly #peers: UserPeers;
  readonly #trace: UserTraceRecorder;
  /** Source addresses of this object's sockets that are blocked for failed authentications (memory only). */
  readonly #addressBlocks: AddressBlocks;
  /** Sending on the user's flows, and what goes to a flow while a request from it is handled with `collectSends` (`receiveRequest`). */
  readonly #flows: UserFlows;
  /** The attachments of this object's sockets, once read. */
  readonly #attachments = new WeakMap<WebSocket, UserSocketAttachment>();
  /** Which PbxLink registers this user to its PBX (`pbx-proxy.ts`). */
  readonly #pbxProxy: PbxProxy;
  /** WebSocket registration mode (`websocket-mode.ts`), and the relays of this object's sockets when in it. */
  readonly #webSocketMode: WebSocketMode;
  readonly #relays: SocketRelays;
  /** How a relay opens its PBX side (`pbx-relay.ts`). */
  relayOpener: PbxSocketOpener = openPbxSocket;
  /** The user's domain: the host of the AOR that names this object. */
  readonly domain: string;
  /** The domain's aliases, and with SIPEDGE_REGISTRAR_ALIASES the registrar's other names, as last read. */
  #domainAliases: readonly string[] = [];
  #registrarNames: readonly string[];
  /** The domain's retention, as last applied to the trace (JSON), and when the domain was last read. */
  #retentionApplied = '';
  #domainReadAt = Number.NEGATIVE_INFINITY;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new UserStore(ctx.storage.sql);
    // The object is named by its AOR (`user@domain`); an object reached by id alone finds it in its account.
    const aor = ctx.id.name ?? this.store.loadAccount()?.aor;
    this.domain = aor === undefined ? env.SIPEDGE_DOMAIN.toLowerCase() : domainOfAor(aor);
    this.#registrarNames = registrarAliases(env);
    // RFC 5626 §4.4.1 on the sockets this object holds (`/sip/<user>`): the runtime answers a
    // CRLFCRLF ping with CRLF without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(KEEPALIVE_PING, KEEPALIVE_PONG));
    this.#log = createLogger({ object: 'SipUser' });
    this.#peers = new UserPeers(env);
    this.#flows = new UserFlows(ctx, env, this.#log);
    this.#addressBlocks = new AddressBlocks({ log: this.#log, guard: (address) => addressGuard(env, address) });
    this.#webSocketMode = new WebSocketMode(ctx.storage.sql);
    this.#relays = new SocketRelays({
      mode: this.#webSocketMode,
      log: this.#log,
      linkView: (link) => env.PBX_LINK.get(env.PBX_LINK.idFromName(link)).getLink(),
      opener: () => this.relayOpener,
      record: (entries) => void this.recordRelayed(entries),
    });
    this.#pbxProxy = new PbxProxy({
      sql: ctx.storage.sql,
      log: this.#log,
      tell: (link, aor, registered) => env.PBX_LINK.get(env.PBX_LINK.idFromName(link)).userRegistered(aor, registered),
    });
    this.core = new UserCore({
      domain: this.domain,
      domainAliases: () => this.#domainAliases,
      registrarAliases: () => this.#registrarNames,
      log: this.#log,
      sql: ctx.storage.sql,
      store: this.store,
      now: () => this.clock.now(),
      nonceSecret: () => env.SIPEDGE_NONCE_SECRET,
      deliver: (connectionId, wire) => this.#flows.deliver(connectionId, wire),
      peer: (aor) => this.#peers.peer(aor),
      routing: () => routingFor(env, this.domain),
      registeredChanged: (registered) => void this.#registeredChanged(registered),
      presenceHub: (domain) => presenceHub(env, domain),
      alarm: {
        get: () => ctx.storage.getAlarm(),
        set: (at) => ctx.storage.setAlarm(at),
        clear: () => ctx.storage.deleteAlarm(),
      },
    });
    this.#trace = new UserTraceRecorder(this.core.trace, this.#log);
    // The domain's settings are read when the object starts (cached per isolate), then again now and then (`#readDomain`).
    void ctx.blockConcurrencyWhile(() => this.#readDomain());
  }

  /**
   * Reads the domain's settings (`servedDomain`, cached per isolate): its aliases name its users
   * too, and its retention bounds the user's trace. A failure keeps what was read before.
   */
  async #readDomain(): Promise<void> {
    this.#domainReadAt = Date.now();
    let record: DomainRecord | undefined;
    try {
      record = await servedDomain(this.env, this.domain);
    } catch (error) {
      this.#log.warn('sip-user.domain-read-failed', { domain: this.domain, ...errorFields(error) });
      return;
    }
    if (record === undefined || record.name !== this.domain) return;
    if (record.aliases.join(',') !== this.#domainAliases.join(',')) {
      this.#domainAliases = record.aliases;
      this.#registrarNames = [...record.aliases, ...registrarAliases(this.env)];
    }
    const retention = JSON.stringify(record.retention);
    if (retention !== this.#retentionApplied) {
      this.core.trace.usePolicy(tracePolicyFor(record.retention));
      this.#retentionApplied = retention;
    }
  }

  /**
   * A WebSocket on the per-user URL `/sip/<user>`, checked and passed on by the Worker
   * (`userSocketEntry`), which names this object's AOR in a header.
   */
  override async fetch(request: Request): Promise<Response> {
    const aor = request.headers.get(USER_SOCKET_AOR_HEADER);
    if (aor === null || request.headers.get('Upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('a SipUser object takes only WebSockets the Worker passes on', { status: 400 });
    }
    const pair = new WebSocketPair();
    const client = pair[0];
    const server = pair[1];
    const remoteAddress = request.headers.get('CF-Connecting-IP') ?? '';
    if (remoteAddress !== '') {
      // One RPC per socket: a source address blocked for failed authentications gets no socket.
      const block = await addressGuard(this.env, remoteAddress).admitAddress();
      if (block !== undefined) return upgradeRefusalResponse(block, Date.now());
    }
    const connectionId = userSocketFlowId(this.ctx.id.toString(), randomTag());
    const flow: Flow = {
      connectionId,
      transport: new URL(request.url).protocol === 'https:' ? 'WSS' : 'WS',
      remoteAddress,
      openedAt: Date.now(),
      host: webSocketHost(request),
    };
    // The tag finds the socket again by its flow (`UserFlows.deliver`); the attachment survives hibernation.
    this.ctx.acceptWebSocket(server, [connectionId]);
    const attachment: UserSocketAttachment = { flow, aor };
    server.serializeAttachment(attachment);
    this.#log.info('sip.flow.opened', { aor, flow: connectionId, transport: flow.transport, remote: flow.remoteAddress });
    // RFC 7118 §4.1: the server echoes the one subprotocol it picked.
    return new Response(null, { status: 101, webSocket: client, headers: { 'Sec-WebSocket-Protocol': 'sip' } });
  }

  /** A message on a socket this object holds: as a SipConnection does, but this AOR's requests stay here. */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    try {
      // The attachment is read once per socket and wake-up, not once per message.
      let attachment = this.#attachments.get(ws);
      if (attachment === undefined) {
        attachment = ws.deserializeAttachment() as UserSocketAttachment;
        this.#attachments.set(ws, attachment);
      }
      const { flow, aor: own } = attachment;
      const relay = await this.#relays.relayOf(ws, flow);
      if (relay !== undefined) {
        relay.fromBrowser(message);
        return;
      }
      await handleWebSocketMessage(message, {
        domainOf: (host) => servedDomain(this.env, host),
        nonceSecret: this.env.SIPEDGE_NONCE_SECRET,
        flow,
        log: this.#log,
        send: (data) => ws.send(data),
        answerLocally: (_aor, request, from) => {
          const refusal = this.#addressBlocks.refuse(request, from.remoteAddress);
          return refusal === undefined ? undefined : { response: refusal };
        },
        forwardRequest: async (aor, request, from) => (await (aor === own ? this.receiveRequest(aor, request, from) : this.#peers.user(aor).receiveRequest(aor, request, from))).response,
        forwardResponse: (aor, response, from) => (aor === own ? this.receiveResponse(aor, response, from) : this.#peers.user(aor).receiveResponse(aor, response, from)),
      });
    } catch (error) {
      this.#log.error('sip.connection.message-failed', errorFields(error));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string, wasClean: boolean): Promise<void> {
    // As on `/sip`: bindings over this flow stay until they expire or the device re-registers.
    this.#log.info('sip.flow.closed', { code, reason, wasClean });
    this.#relays.browserClosed(ws, code, reason);
    try {
      ws.close(code, reason);
    } catch {
      // Already closed by the runtime's automatic close reply.
    }
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    this.#log.warn('sip.flow.error', errorFields(error));
  }

  /**
   * RPC from another SipUser: sends `wire` on flow `connectionId`, a socket this object holds.
   * False when it is gone (RFC 5626 §5.3: the flow has failed).
   */
  async deliverOnFlow(connectionId: string, wire: string): Promise<boolean> {
    return this.#flows.sendOnOwnSocket(connectionId, wire);
  }

  /**
   * RPC from a SipConnection: a request of (or for) this AOR. Resolves to the response to send at
   * once, if any, and when asked, after a successful REGISTER or an authenticated INVITE or
   * MESSAGE, a challenge for the device's next request (`workers/registrar/prepared-challenge.ts`).
   * `earlier`: what the connection answered for this AOR by itself since its last call, for the
   * trace; `collectSends`: see `ReceiveOptions`.
   */
  async receiveRequest(aor: string, request: SipRequest, flow: Flow, options: ReceiveOptions = {}): Promise<UserAnswer> {
    if (Date.now() - this.#domainReadAt > DOMAIN_REFRESH_MS) await this.#readDomain();
    for (const entry of options.earlier ?? []) this.#trace.entry(entry);
    this.#trace.message('in', request, flow);
    let response: SipResponse | undefined;
    const report: RequestReport = {};
    // One request of a flow at a time collects; another one under way at once delivers as usual.
    const sent = options.collectSends === true ? this.#flows.collect(flow.connectionId) : undefined;
    try {
      response = await this.core.receiveRequest(aor, request, flow, report);
    } catch (error) {
      this.#log.error('sip-user.request-failed', { aor, method: request.method, ...errorFields(error) });
      response = request.method === 'ACK' ? undefined : createResponse(request, 500, undefined, { toTag: randomTag() });
    } finally {
      if (sent !== undefined) this.#flows.stopCollecting(flow.connectionId);
    }
    const addressBlock = report.authFailed === true ? await this.#addressBlocks.failed(flow.remoteAddress) : undefined;
    // The failure that started the block is answered as the block, like those after it.
    if (addressBlock !== undefined) response = refuseFromBlockedAddress(request, addressBlock, Date.now()) ?? response;
    if (response !== undefined) this.#trace.message('out', response, flow);
    const registered = request.method === 'REGISTER' && response !== undefined && response.status < 300;
    const challenge = options.prepareChallenge === true && (registered || report.authenticated === true) ? this.#prepareChallenge() : undefined;
    return { response, ...(challenge === undefined ? {} : { challenge }), ...(addressBlock === undefined ? {} : { addressBlock }), ...(sent === undefined || sent.length === 0 ? {} : { sent }) };
  }

  /** RPC from a SipConnection: a response from one of this user's devices. */
  async receiveResponse(aor: string, response: SipResponse, flow: Flow): Promise<void> {
    this.#trace.message('in', response, flow);
    try {
      await this.core.receiveResponse(response);
    } catch (error) {
      this.#log.error('sip-user.response-failed', { aor, status: response.status, ...errorFields(error) });
    }
  }

  /** RPC from the caller's SipUser: fork a call to this user's devices. */
  async offerCall(offer: CallOffer): Promise<OfferResult> {
    try {
      return this.core.offerCall(offer);
    } catch (error) {
      this.#log.error('sip-user.offer-failed', { call: offer.id, ...errorFields(error) });
      return { ok: false, status: 500, reason: 'Server Internal Error' };
    }
  }

  /** RPC from the other half of a call. */
  async callEvent(to: HalfAddress, event: PeerEvent): Promise<void> {
    try {
      this.core.callEvent(to, event);
    } catch (error) {
      this.#log.error('sip-user.call-event-failed', { call: to.id, type: event.type, ...errorFields(error) });
    }
  }

  /** RPC from the sender's SipUser: a MESSAGE for this user; resolves to 200 (delivered), 202 (stored) or a refusal. */
  async receiveMessage(page: PageMessage): Promise<MessageOutcome> {
    try {
      return await this.core.receiveMessage(page);
    } catch (error) {
      this.#log.error('sip-user.message-failed', { from: page.senderAor, ...errorFields(error) });
      return { status: 500, reason: 'Server Internal Error' };
    }
  }

  /** RPC from the watcher's SipUser: an authenticated SUBSCRIBE to this user (`workers/presence/`). */
  async subscribe(input: SubscribeInput): Promise<SubscribeAnswer> {
    try {
      return this.core.presence.accept(input);
    } catch (error) {
      this.#log.error('sip-user.subscribe-failed', { watcher: input.watcherAor, ...errorFields(error) });
      return { status: 500 };
    }
  }

  /** RPC from the watcher's SipUser: its device answered a NOTIFY of this user. */
  async notifyAnswered(answer: NotifyAnswer): Promise<void> {
    try {
      this.core.presence.notifyAnswered(answer);
    } catch (error) {
      this.#log.error('sip-user.notify-answer-failed', errorFields(error));
    }
  }

  /** RPC from a PbxLink: the PBX's message summary (RFC 3842) for this user's devices (`workers/presence/message-summary.ts`). */
  async messageSummary(body: string): Promise<SummaryOutcome | undefined> {
    try {
      return await this.core.presence.messageSummary(body);
    } catch (error) {
      this.#log.error('sip-user.message-summary-failed', errorFields(error));
      return { devices: 0, took: 0 };
    }
  }

  /** RPC from the API: the user's SIP trace, oldest first (`workers/trace/`). */
  async readTrace(query: TraceQuery = {}): Promise<TraceRecord[]> {
    return this.core.trace.read(query);
  }

  /** RPC from the API: the user's presence as watchers get it (`workers/presence/`); undefined without an account. */
  async readPresence(): Promise<PresenceSnapshot | undefined> {
    return this.core.presence.snapshot();
  }

  /** RPC from the API: presence set by the operator or the user's token, notified to watchers; `expires` 0 removes it. */
  async setPresence(basic: BasicStatus, note: string | undefined, expires: number): Promise<void> {
    this.core.presence.setFromApi(basic, note, expires);
  }

  /** RPC from the API: creates or replaces the account; true when it is new. */
  async putAccount(account: Account): Promise<{ created: boolean }> {
    return { created: this.core.putAccount(account) };
  }

  /** RPC from the API: the account, without its HA1s. */
  async getAccount(): Promise<AccountView | undefined> {
    const account = this.core.account();
    return account === undefined ? undefined : viewOf(account);
  }

  /** RPC from the API: forgets the user, its bindings, any lock-out and its stored messages; false when there was none. */
  async deleteAccount(): Promise<boolean> {
    this.#pbxProxy.setLink(undefined);
    this.#webSocketMode.set(undefined);
    return this.core.deleteAccount();
  }

  /**
   * RPC from the API: the PbxLink that registers this user to its PBX (proxy registration), which
   * is told at once when the user is registered; resolves to the link it replaces.
   */
  async setPbxLink(link: string | undefined): Promise<string | undefined> {
    const previous = this.#pbxProxy.link();
    this.#pbxProxy.setLink(link);
    if (link !== undefined && this.core.bindings().length > 0) await this.#registeredChanged(true);
    return previous;
  }

  /** RPC from the API: the id of the PbxLink that registers this user to its PBX, if any. */
  async getPbxLink(): Promise<string | undefined> {
    return this.#pbxProxy.link();
  }

  /** RPC from the API: WebSocket registration mode through a link, or proxy mode (undefined). */
  async setWebSocketMode(setting: WebSocketModeSetting | undefined): Promise<void> {
    this.#webSocketMode.set(setting);
  }

  /** RPC from the API: the user's WebSocket registration mode setting; undefined in proxy mode. */
  async getWebSocketMode(): Promise<WebSocketModeSetting | undefined> {
    return this.#webSocketMode.setting();
  }

  /** RPC from a socket's holder (`pbx-relay.ts`): where this user's sockets are relayed, or undefined in proxy mode. */
  async relayTarget(): Promise<RelayTarget | undefined> {
    return this.#relays.target();
  }

  /** RPC from a socket's holder: messages it relayed for this user, for the trace. */
  async recordRelayed(entries: TraceEntry[]): Promise<void> {
    for (const entry of entries) this.#trace.entry(entry);
  }

  async #registeredChanged(registered: boolean): Promise<void> {
    const aor = this.core.account()?.aor;
    if (aor !== undefined) await this.#pbxProxy.registeredChanged(aor, registered);
  }

  /** RPC from the API: when the runtime last answered a CRLF keep-alive on flow `connectionId`, a socket this object holds (ms); null if never. */
  async lastKeepaliveOnFlow(connectionId: string): Promise<number | null> {
    const ws = this.ctx.getWebSockets(connectionId)[0];
    return ws === undefined ? null : (this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? null);
  }

  /** The current (unexpired) bindings; for the API and tests. */
  async listBindings(): Promise<Binding[]> {
    return this.core.bindings();
  }

  /** The halves of calls this object holds; for the API and tests. */
  async listCalls(): Promise<HalfCall[]> {
    return this.core.calls.list();
  }

  override async alarm(): Promise<void> {
    try {
      await this.core.alarm();
    } catch (error) {
      this.#log.error('sip-user.alarm-failed', errorFields(error));
      // Rethrown so that the runtime retries the alarm.
      throw error;
    }
  }

  #prepareChallenge(): PreparedChallenge | undefined {
    try {
      return this.core.prepareChallenge();
    } catch (error) {
      this.#log.warn('sip-user.challenge-failed', errorFields(error));
      return undefined;
    }
  }
}
