/**
 * SipConnection: one Durable Object per WebSocket accepted on the shared `/sip` URL (RFC 7118).
 *
 * A client that connects to `/sip` has not said who it is yet, and one socket may carry requests
 * of several users, so the socket cannot live in a user's object. This object holds it with the
 * Hibernation API (an idle socket costs nothing), frames and parses each message, and hands it to
 * the SipUser object of its address-of-record over RPC. SipUser objects reach the socket back
 * through `deliver`, by this object's id: that id is the RFC 5626 flow token.
 *
 * It answers by itself: a REGISTER, INVITE or MESSAGE without credentials for which the user's
 * object prepared a challenge with its last answer, and the ACK of such a 407
 * (`workers/registrar/prepared-challenge.ts`: one RPC per registration instead of two, two fewer per
 * call set-up, one fewer per MESSAGE), and credentials from a source address that is blocked for
 * failed authentications.
 *
 * A call's request also brings back what its object sends on this flow while handling it (the 100
 * Trying to an INVITE, the 200 to a BYE: `ReceiveOptions.collectSends`), sent here in order before
 * the response, so those cost no `deliver` RPC.
 *
 * Thin by design (STYLE.md): each handler decodes, delegates to `connection-handler.ts`, and
 * catches and logs.
 */
import { DurableObject } from 'cloudflare:workers';
import { KEEPALIVE_PING, KEEPALIVE_PONG } from '../../shared/framing/index.ts';
import { getCallId, serializeMessage, type SipMessage, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { answerWithPrepared, challengedInviteKey, PREPARED_CHALLENGE_TTL_MS, takesPreparedChallenge, type PreparedChallenge } from '../registrar/prepared-challenge.ts';
import { servedDomain } from '../domains/served-domains.ts';
import type { TraceEntry } from '../trace/trace-record.ts';
import { refuseFromBlockedAddress, upgradeRefusalResponse, type AddressBlock } from '../registrar/address-guard.ts';
import { addressGuard } from '../registrar/address-guard-object.ts';
import { createLogger, errorFields, type Logger } from '../logger.ts';
import type { Flow } from '../sip/flow.ts';
import type { SipUser } from '../user/sip-user.ts';
import { encodeForWebSocket } from '../sip/wire.ts';
import { handleWebSocketMessage, type LocalAnswer } from './connection-handler.ts';
import { openPbxSocket, relayOnFirstMessage, type PbxRelay, type PbxSocketOpener } from './pbx-relay.ts';
import { webSocketHost } from './websocket-upgrade.ts';

/** Trace entries kept per AOR until its next request goes to its object. */
const MAX_UNTRACED = 16;
/** INVITEs answered here with a 407 whose ACK has not come yet: a device sends it at once, so a few suffice. */
const MAX_CHALLENGED_INVITES = 16;
/** The requests whose answer from the user's object may bring a prepared challenge. */
const PREPARING_METHODS = new Set(['REGISTER', 'INVITE', 'MESSAGE']);
/**
 * The requests whose own flow's messages come back with the answer (`ReceiveOptions.collectSends`):
 * a call's, where the object answers on the flow as it goes (100 Trying, the 200 to a BYE).
 * Registrations and subscriptions keep their order of a response first, then what follows it.
 */
const COLLECTING_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'UPDATE', 'INFO', 'PRACK', 'REFER']);

export class SipConnection extends DurableObject<Env> {
  readonly #log: Logger;
  /** The SipUser stubs this socket talks to (usually one): `idFromName` hashes the name, so once per AOR, not per message. */
  readonly #users = new Map<string, DurableObjectStub<SipUser>>();
  /** Per AOR: a challenge its object prepared for the device's next REGISTER, INVITE or MESSAGE without credentials. */
  readonly #challenges = new Map<string, { readonly challenge: PreparedChallenge; readonly receivedAt: number }>();
  /** INVITEs answered here with a 407 (`challengedInviteKey`), by AOR: their ACKs end here too. */
  readonly #challengedInvites = new Map<string, string>();
  /** Per AOR: trace entries of what this object answered by itself, sent with the next request to that AOR's object. */
  readonly #untraced = new Map<string, TraceEntry[]>();
  /** The block on this socket's source address, as its guard object last reported it (memory only). */
  #addressBlock: AddressBlock | undefined;
  /** The socket's flow, as its attachment says (this object holds one socket). */
  #flow: Flow | undefined;
  /** Whether the socket is relayed to a PBX, once its first message decided it (memory only: a relayed socket never hibernates). */
  #relay: Promise<PbxRelay | undefined> | undefined;
  /** How a relay opens its PBX side (`pbx-relay.ts`). */
  relayOpener: PbxSocketOpener = openPbxSocket;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // RFC 5626 §4.4.1: a CRLFCRLF ping is answered with CRLF. The runtime answers it without waking
    // the object, so a browser's 30-second keep-alives cost neither duration nor a request.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(KEEPALIVE_PING, KEEPALIVE_PONG));
    this.#log = createLogger({ object: 'SipConnection', connection: ctx.id.toString() });
  }

  /** Accepts the WebSocket the Worker checked (`checkSipUpgrade`) and passed on. */
  override async fetch(request: Request): Promise<Response> {
    const remoteAddress = request.headers.get('CF-Connecting-IP') ?? '';
    if (remoteAddress !== '') {
      // One RPC per socket: a source address blocked for failed authentications gets no socket.
      const block = await addressGuard(this.env, remoteAddress).admitAddress();
      if (block !== undefined) return upgradeRefusalResponse(block, Date.now());
    }
    if (this.ctx.getWebSockets().length > 0) {
      // Each connection gets a fresh unique id, so a second socket here is a routing bug.
      return new Response('this connection object already holds a WebSocket', { status: 409 });
    }
    const pair = new WebSocketPair();
    const client = pair[0];
    const server = pair[1];
    const flow: Flow = {
      connectionId: this.ctx.id.toString(),
      transport: new URL(request.url).protocol === 'https:' ? 'WSS' : 'WS',
      remoteAddress,
      openedAt: Date.now(),
      host: webSocketHost(request),
    };
    this.ctx.acceptWebSocket(server);
    // The attachment survives hibernation; the flow is all this object needs to remember.
    server.serializeAttachment(flow);
    this.#log.info('sip.flow.opened', { transport: flow.transport, remote: flow.remoteAddress });
    // RFC 7118 §4.1: the server echoes the one subprotocol it picked.
    return new Response(null, { status: 101, webSocket: client, headers: { 'Sec-WebSocket-Protocol': 'sip' } });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    try {
      // The attachment is read once per wake-up, not once per message.
      this.#flow ??= ws.deserializeAttachment() as Flow;
      const flow = this.#flow;
      const relay = await (this.#relay ?? this.#relayOf(ws, flow, message));
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
        answerLocally: (aor, request, from) => this.#answerLocally(aor, request, from),
        forwardRequest: (aor, request, from) => this.#forwardRequest(aor, request, from, ws),
        forwardResponse: (aor, response, from) => this.#user(aor).receiveResponse(aor, response, from),
      });
    } catch (error) {
      this.#log.error('sip.connection.message-failed', errorFields(error));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string, wasClean: boolean): Promise<void> {
    // Bindings over this flow stay: a redeploy drops every socket, and clients that come back
    // re-register over a new flow (RFC 5626 §4.2). Until then `deliver` reports the flow failed.
    this.#log.info('sip.flow.closed', { code, reason, wasClean });
    void this.#relay?.then((relay) => relay?.browserClosed(code, reason));
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
   * RPC from a SipUser object: sends `message` (a message, or one already serialised as UTF-8 text)
   * on this flow. False when the WebSocket is gone, which RFC 5626 §5.3 calls a failed flow (a
   * proxy answers 430 Flow Failed).
   */
  async deliver(message: SipMessage | string): Promise<boolean> {
    const ws = this.ctx.getWebSockets()[0];
    if (ws === undefined || ws.readyState !== WebSocket.READY_STATE_OPEN) return false;
    try {
      ws.send(typeof message === 'string' ? message : encodeForWebSocket(message));
      return true;
    } catch (error) {
      this.#log.info('sip.flow.send-failed', errorFields(error));
      return false;
    }
  }

  /** RPC from the API: when the runtime last answered a CRLF keep-alive on this socket (ms), null if never. */
  async lastKeepalive(): Promise<number | null> {
    const ws = this.ctx.getWebSockets()[0];
    return ws === undefined ? null : (this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? null);
  }

  /** Whether this socket is relayed to a PBX (WebSocket registration mode, `pbx-relay.ts`): decided by its first message. */
  #relayOf(ws: WebSocket, flow: Flow, first: string | ArrayBuffer): Promise<PbxRelay | undefined> {
    const relaying = relayOnFirstMessage(first, { installation: this.env.SIPEDGE_DOMAIN, served: async (host) => (await servedDomain(this.env, host)) !== undefined }, (aor) => this.#user(aor), this.relayOpener, {
      flow,
      log: this.#log,
      toBrowser: (data) => ws.send(data),
      closeBrowser: (code, reason) => ws.close(code, reason),
    });
    if (relaying === undefined) return Promise.resolve(undefined);
    this.#relay = relaying;
    return relaying;
  }

  async #forwardRequest(aor: string, request: SipRequest, flow: Flow, ws: WebSocket): Promise<SipResponse | undefined> {
    const earlier = this.#untraced.get(aor);
    if (earlier !== undefined) this.#untraced.delete(aor);
    const answer = await this.#user(aor).receiveRequest(aor, request, flow, { earlier, prepareChallenge: PREPARING_METHODS.has(request.method), collectSends: COLLECTING_METHODS.has(request.method) });
    for (const wire of answer.sent ?? []) {
      try {
        ws.send(wire);
      } catch (error) {
        this.#log.info('sip.flow.send-failed', errorFields(error));
      }
    }
    if (answer.challenge !== undefined) this.#challenges.set(aor, { challenge: answer.challenge, receivedAt: Date.now() });
    if (answer.addressBlock !== undefined) this.#addressBlock = answer.addressBlock;
    return answer.response;
  }

  /** What this object answers by itself: credentials from a blocked address, a request it holds a prepared challenge for, or that challenge's ACK. */
  #answerLocally(aor: string, request: SipRequest, flow: Flow): LocalAnswer | undefined {
    const refusal = refuseFromBlockedAddress(request, this.#addressBlock, Date.now());
    if (refusal !== undefined) return { response: refusal };
    if (request.method === 'ACK') return this.#absorbChallengeAck(aor, request, flow);
    const response = this.#answerWithPrepared(aor, request, flow);
    return response === undefined ? undefined : { response };
  }

  /** The 401 or 407 for a request without credentials, from a challenge the user's object prepared; undefined to forward it. */
  #answerWithPrepared(aor: string, request: SipRequest, flow: Flow): SipResponse | undefined {
    if (!takesPreparedChallenge(request)) return undefined;
    const held = this.#challenges.get(aor);
    if (held === undefined) return undefined;
    // One request per prepared challenge; an old one is dropped, a refused one too.
    this.#challenges.delete(aor);
    if (Date.now() - held.receivedAt > PREPARED_CHALLENGE_TTL_MS) return undefined;
    const response = answerWithPrepared(request, held.challenge, flow.host);
    if (response === undefined) return undefined;
    const key = request.method === 'INVITE' ? challengedInviteKey(request) : undefined;
    if (key !== undefined) {
      this.#challengedInvites.set(key, aor);
      if (this.#challengedInvites.size > MAX_CHALLENGED_INVITES) this.#challengedInvites.delete(this.#challengedInvites.keys().next().value ?? key);
    }
    this.#untrace(aor, flow, request, response);
    return response;
  }

  /** RFC 3261 §17.2.1: the ACK of a 407 answered here ends here (the INVITE server transaction was this object's); undefined for any other ACK. */
  #absorbChallengeAck(aor: string, request: SipRequest, flow: Flow): LocalAnswer | undefined {
    const key = challengedInviteKey(request);
    if (key === undefined || this.#challengedInvites.get(key) !== aor) return undefined;
    this.#challengedInvites.delete(key);
    this.#untrace(aor, flow, request);
    return { response: undefined };
  }

  /** Keeps what this object answered for `aor` by itself, for that AOR's trace with its next request. */
  #untrace(aor: string, flow: Flow, request: SipRequest, response?: SipResponse): void {
    const entries = this.#untraced.get(aor) ?? [];
    const common = { transport: flow.transport, flow: flow.connectionId, remote: flow.remoteAddress, callId: getCallId(request), cseqMethod: request.method, at: Date.now() };
    entries.push({ ...common, direction: 'in', wire: serializeMessage(request) });
    if (response !== undefined) entries.push({ ...common, direction: 'out', wire: serializeMessage(response) });
    // A device that never answers its challenges: keep the newest few (traces are best-effort, `workers/trace/`).
    if (entries.length > MAX_UNTRACED) entries.splice(0, entries.length - MAX_UNTRACED);
    this.#untraced.set(aor, entries);
  }

  #user(aor: string): DurableObjectStub<SipUser> {
    let stub = this.#users.get(aor);
    if (stub === undefined) {
      stub = this.env.SIP_USER.get(this.env.SIP_USER.idFromName(aor));
      this.#users.set(aor, stub);
    }
    return stub;
  }
}
