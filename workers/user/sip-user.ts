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
 * Thin by design (STYLE.md): each handler delegates to `UserCore` and catches and logs. Time comes
 * from `clock`, which tests replace.
 */
import { DurableObject } from 'cloudflare:workers';
import { systemClock, type Clock } from '../../shared/clock/index.ts';
import { KEEPALIVE_PING, KEEPALIVE_PONG } from '../../shared/framing/index.ts';
import { createResponse, serializeMessage, type SipMessage, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import type { HalfCall } from '../call/call-half.ts';
import { handleWebSocketMessage } from '../connection/connection-handler.ts';
import { USER_SOCKET_AOR_HEADER, userSocketFlowId, userSocketHolder, type UserSocketAttachment } from '../connection/user-socket.ts';
import type { CallOffer, HalfAddress, OfferResult, PeerEvent } from '../call/peer-event.ts';
import { createLogger, errorFields, type Logger } from '../logger.ts';
import type { MessageOutcome, PageMessage } from '../message/page-message.ts';
import type { NotifyAnswer, SubscribeAnswer, SubscribeInput } from '../presence/subscription.ts';
import type { Binding } from '../registrar/binding.ts';
import type { Flow } from '../sip/flow.ts';
import { randomTag } from '../sip/wire.ts';
import type { TraceQuery } from '../trace/sip-trace.ts';
import type { TraceRecord } from '../trace/trace-record.ts';
import { viewOf, type Account, type AccountView } from './account.ts';
import { UserCore, type UserPeer } from './user-core.ts';
import { UserStore } from './user-store.ts';

export class SipUser extends DurableObject<Env> {
  /** The object's time source; tests put a fake clock here with `runInDurableObject`. */
  clock: Clock = systemClock;
  readonly store: UserStore;
  readonly core: UserCore;
  readonly #log: Logger;
  /** One stub per peer: calls on one stub arrive in the order they were made. */
  readonly #peers = new Map<string, UserPeer>();
  /** Stubs of other AORs whose messages arrive on this object's sockets. */
  readonly #users = new Map<string, DurableObjectStub<SipUser>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // RFC 5626 §4.4.1 on the sockets this object holds (`/sip/<user>`): the runtime answers a
    // CRLFCRLF ping with CRLF without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(KEEPALIVE_PING, KEEPALIVE_PONG));
    this.store = new UserStore(ctx.storage.sql);
    this.#log = createLogger({ object: 'SipUser' });
    this.core = new UserCore({
      domain: env.SIPEDGE_DOMAIN,
      log: this.#log,
      sql: ctx.storage.sql,
      store: this.store,
      now: () => this.clock.now(),
      nonceSecret: () => env.SIPEDGE_NONCE_SECRET,
      deliver: (connectionId, wire) => this.#deliver(connectionId, wire),
      peer: (aor) => this.#peer(aor),
      alarm: {
        get: () => ctx.storage.getAlarm(),
        set: (at) => ctx.storage.setAlarm(at),
        clear: () => ctx.storage.deleteAlarm(),
      },
    });
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
    const connectionId = userSocketFlowId(this.ctx.id.toString(), randomTag());
    const flow: Flow = {
      connectionId,
      transport: new URL(request.url).protocol === 'https:' ? 'WSS' : 'WS',
      remoteAddress: request.headers.get('CF-Connecting-IP') ?? '',
      openedAt: Date.now(),
    };
    // The tag finds the socket again by its flow (`#deliver`); the attachment survives hibernation.
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
      const { flow, aor: own } = ws.deserializeAttachment() as UserSocketAttachment;
      await handleWebSocketMessage(message, {
        domain: this.env.SIPEDGE_DOMAIN,
        flow,
        log: this.#log,
        send: (data) => ws.send(data),
        forwardRequest: (aor, request, from) => (aor === own ? this.receiveRequest(aor, request, from) : this.#userStub(aor).receiveRequest(aor, request, from)),
        forwardResponse: (aor, response, from) => (aor === own ? this.receiveResponse(aor, response, from) : this.#userStub(aor).receiveResponse(aor, response, from)),
      });
    } catch (error) {
      this.#log.error('sip.connection.message-failed', errorFields(error));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string, wasClean: boolean): Promise<void> {
    // As on `/sip`: bindings over this flow stay until they expire or the device re-registers.
    this.#log.info('sip.flow.closed', { code, reason, wasClean });
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
    return this.#sendOnOwnSocket(connectionId, wire);
  }

  /** RPC from a SipConnection: a request of (or for) this AOR. Resolves to the response to send at once, if any. */
  async receiveRequest(aor: string, request: SipRequest, flow: Flow): Promise<SipResponse | undefined> {
    this.#record('in', request, flow);
    let response: SipResponse | undefined;
    try {
      response = await this.core.receiveRequest(aor, request, flow);
    } catch (error) {
      this.#log.error('sip-user.request-failed', { aor, method: request.method, ...errorFields(error) });
      response = request.method === 'ACK' ? undefined : createResponse(request, 500, undefined, { toTag: randomTag() });
    }
    if (response !== undefined) this.#record('out', response, flow);
    return response;
  }

  /** RPC from a SipConnection: a response from one of this user's devices. */
  async receiveResponse(aor: string, response: SipResponse, flow: Flow): Promise<void> {
    this.#record('in', response, flow);
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

  /** RPC from the API: the user's SIP trace, oldest first (`workers/trace/`). */
  async readTrace(query: TraceQuery = {}): Promise<TraceRecord[]> {
    return this.core.trace.read(query);
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
    return this.core.deleteAccount();
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

  /** Records a message in the user's trace; the trace never fails the message. */
  #record(direction: 'in' | 'out', message: SipMessage, flow: Flow): void {
    try {
      this.core.trace.record({ direction, transport: flow.transport, flow: flow.connectionId, remote: flow.remoteAddress, wire: serializeMessage(message) });
    } catch (error) {
      this.#log.warn('sip-user.trace-failed', errorFields(error));
    }
  }

  /** Sends on a flow: a socket of this object, one another SipUser holds, or a SipConnection's. */
  #deliver(connectionId: string, wire: string): Promise<boolean> {
    const holder = userSocketHolder(connectionId);
    if (holder === undefined) return this.env.SIP_CONNECTION.get(this.env.SIP_CONNECTION.idFromString(connectionId)).deliver(wire);
    if (holder === this.ctx.id.toString()) return Promise.resolve(this.#sendOnOwnSocket(connectionId, wire));
    return this.env.SIP_USER.get(this.env.SIP_USER.idFromString(holder)).deliverOnFlow(connectionId, wire);
  }

  #sendOnOwnSocket(connectionId: string, wire: string): boolean {
    const ws = this.ctx.getWebSockets(connectionId)[0];
    if (ws === undefined || ws.readyState !== WebSocket.READY_STATE_OPEN) return false;
    try {
      ws.send(wire);
      return true;
    } catch (error) {
      this.#log.info('sip.flow.send-failed', errorFields(error));
      return false;
    }
  }

  /** The object of another AOR, for messages of that AOR on a socket of this object. */
  #userStub(aor: string): DurableObjectStub<SipUser> {
    let stub = this.#users.get(aor);
    if (stub === undefined) {
      stub = this.env.SIP_USER.get(this.env.SIP_USER.idFromName(aor));
      this.#users.set(aor, stub);
    }
    return stub;
  }

  #peer(aor: string): UserPeer {
    let peer = this.#peers.get(aor);
    if (peer === undefined) {
      const stub = this.env.SIP_USER.get(this.env.SIP_USER.idFromName(aor));
      peer = {
        offerCall: (offer) => stub.offerCall(offer),
        callEvent: (to, event) => stub.callEvent(to, event),
        receiveMessage: (page) => stub.receiveMessage(page),
        subscribe: (input) => stub.subscribe(input),
        notifyAnswered: (answer) => stub.notifyAnswered(answer),
      };
      this.#peers.set(aor, peer);
    }
    return peer;
  }
}
