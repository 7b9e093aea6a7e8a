/**
 * SipConnection: one Durable Object per WebSocket accepted on the shared `/sip` URL (RFC 7118).
 *
 * A client that connects to `/sip` has not said who it is yet, and one socket may carry requests
 * of several users, so the socket cannot live in a user's object. This object holds it with the
 * Hibernation API (an idle socket costs nothing), frames and parses each message, and hands it to
 * the SipUser object of its address-of-record over RPC. SipUser objects reach the socket back
 * through `deliver`, by this object's id: that id is the RFC 5626 flow token.
 *
 * Thin by design (STYLE.md): each handler decodes, delegates to `connection-handler.ts`, and
 * catches and logs.
 */
import { DurableObject } from 'cloudflare:workers';
import { KEEPALIVE_PING, KEEPALIVE_PONG } from '../../shared/framing/index.ts';
import type { SipMessage } from '../../shared/message/index.ts';
import { createLogger, errorFields, type Logger } from '../logger.ts';
import type { Flow } from '../sip/flow.ts';
import type { SipUser } from '../user/sip-user.ts';
import { encodeForWebSocket } from '../sip/wire.ts';
import { handleWebSocketMessage } from './connection-handler.ts';

export class SipConnection extends DurableObject<Env> {
  readonly #log: Logger;
  /** The SipUser stubs this socket talks to (usually one): `idFromName` hashes the name, so once per AOR, not per message. */
  readonly #users = new Map<string, DurableObjectStub<SipUser>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // RFC 5626 §4.4.1: a CRLFCRLF ping is answered with CRLF. The runtime answers it without waking
    // the object, so a browser's 30-second keep-alives cost neither duration nor a request.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(KEEPALIVE_PING, KEEPALIVE_PONG));
    this.#log = createLogger({ object: 'SipConnection', connection: ctx.id.toString() });
  }

  /** Accepts the WebSocket the Worker checked (`checkSipUpgrade`) and passed on. */
  override async fetch(request: Request): Promise<Response> {
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
      remoteAddress: request.headers.get('CF-Connecting-IP') ?? '',
      openedAt: Date.now(),
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
      const flow = ws.deserializeAttachment() as Flow;
      await handleWebSocketMessage(message, {
        domain: this.env.SIPEDGE_DOMAIN,
        flow,
        log: this.#log,
        send: (data) => ws.send(data),
        forwardRequest: (aor, request, from) => this.#user(aor).receiveRequest(aor, request, from),
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

  #user(aor: string): DurableObjectStub<SipUser> {
    let stub = this.#users.get(aor);
    if (stub === undefined) {
      stub = this.env.SIP_USER.get(this.env.SIP_USER.idFromName(aor));
      this.#users.set(aor, stub);
    }
    return stub;
  }
}
