/**
 * A PbxLink's flow over an outgoing WebSocket, for the two transports Workers cannot open a socket
 * for themselves:
 * - `wss`: SIP over WebSocket (RFC 7118), the client side: one SIP message per text frame, on a
 *   WebSocket opened with the `sip` subprotocol (§4); the platform verifies the server's TLS
 *   certificate.
 * - `udp`: through a media node's SIP/UDP gateway (`media-node/README.md`, "SIP gateway for
 *   PbxLinks"): JSON frames, `open` first with the PBX's address, then `send` per message; the
 *   gateway answers `opened` with the UDP address it bound for the link, which the link's Via and
 *   Contact then name (`sent-by.ts`). The gateway retransmits over UDP (RFC 3261 Timers A, E, G)
 *   and absorbs the PBX's retransmissions, so the link's transactions on this flow run as over a
 *   reliable transport: no retransmission of their own, Timers B, F and H kept.
 *
 * Messages written before the flow is open wait for it, and get their Via and Contact then.
 * Neither transport has a keep-alive of the link's own: the WebSocket's close is the signal, and
 * over UDP the gateway keeps the link's port for 120 s, so a reconnect finds it again.
 */
import { parseMessage, SipParseError, type SipMessage } from '../../shared/message/index.ts';
import type { ConnectionEvent, ConnectionState, PbxFlow } from './link-connection.ts';
import { wireWithSentBy, type SentBy } from './sent-by.ts';
import type { PbxTarget } from './socket-connector.ts';

/** Opens the WebSocket for `target` (the gateway's, for UDP) and resolves once it is accepted. */
export type WebSocketOpener = (target: PbxTarget, linkId: string) => Promise<WebSocket>;

/** The gateway's frames this flow reads (`media-node/sip-gateway/gateway-protocol.ts`). */
type GatewayFrame =
  | { readonly type: 'opened'; readonly local: { readonly address: string; readonly port: number }; readonly resumed: boolean }
  | { readonly type: 'received'; readonly message: string }
  | { readonly type: 'timeout' | 'ack-timeout' | 'send-failed' | 'error'; readonly [field: string]: unknown };

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isGatewayFrame(value: unknown): value is GatewayFrame {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

/** RFC 3986 §3.2.2: an IPv6 address in a URL (and in a SIP URI) is written in brackets. */
function hostForUri(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export class WebSocketFlow implements PbxFlow {
  readonly flow: string;
  readonly target: PbxTarget;
  readonly #onEvent: (flow: WebSocketFlow, event: ConnectionEvent) => void;
  readonly #gateway: boolean;
  #state: ConnectionState = 'connecting';
  #socket: WebSocket | undefined;
  #sentBy: SentBy | undefined;
  /** Messages written before the flow opened. */
  #waiting: string[] = [];

  constructor(opener: WebSocketOpener, target: PbxTarget, linkId: string, flow: string, onEvent: (flow: WebSocketFlow, event: ConnectionEvent) => void) {
    this.flow = flow;
    this.target = target;
    this.#onEvent = onEvent;
    this.#gateway = target.transport === 'udp';
    opener(target, linkId).then(
      (socket) => this.#attach(socket),
      (error: unknown) => this.#ended(describe(error)),
    );
  }

  get state(): ConnectionState {
    return this.#state;
  }

  send(wire: string): boolean {
    if (this.#state === 'closed') return false;
    if (this.#state === 'connecting' || this.#sentBy === undefined) this.#waiting.push(wire);
    else this.#write(wire, this.#sentBy);
    return true;
  }

  ping(): void {
    // The WebSocket's own close (and, for UDP, the gateway's hold of the port) stands in for it.
  }

  close(reason: string): void {
    if (this.#state === 'closed') return;
    const socket = this.#socket;
    if (socket !== undefined) {
      try {
        // The gateway releases the link's UDP socket at once instead of holding it for a reconnect.
        if (this.#gateway) socket.send(JSON.stringify({ type: 'close' }));
        socket.close(1000, 'closed by the link');
      } catch {
        // Already closing: nothing more to tell the peer.
      }
    }
    this.#ended(reason);
  }

  #attach(socket: WebSocket): void {
    if (this.#state === 'closed') {
      socket.close(1000, 'closed by the link');
      return;
    }
    this.#socket = socket;
    socket.addEventListener('message', (event) => this.#receive(event.data));
    socket.addEventListener('close', (event) => this.#ended(`the WebSocket closed (${event.code}${event.reason === '' ? '' : ` ${event.reason}`})`));
    socket.addEventListener('error', (event) => this.#ended(`the WebSocket failed: ${(event as ErrorEvent).message ?? 'error'}`));
    if (this.#gateway) {
      socket.send(JSON.stringify({ type: 'open', pbx: { host: this.target.host, port: this.target.port } }));
      return;
    }
    this.#opened({ via: 'WSS', uriTransport: 'ws' });
  }

  #opened(sentBy: SentBy): void {
    this.#sentBy = sentBy;
    const first = this.#state === 'connecting';
    this.#state = 'open';
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const wire of waiting) this.#write(wire, sentBy);
    if (first) this.#onEvent(this, { kind: 'open' });
  }

  #write(wire: string, sentBy: SentBy): void {
    let rewritten: string;
    try {
      rewritten = wireWithSentBy(wire, sentBy);
    } catch (error) {
      if (!(error instanceof SipParseError)) throw error;
      rewritten = wire;
    }
    try {
      this.#socket?.send(this.#gateway ? JSON.stringify({ type: 'send', message: rewritten }) : rewritten);
    } catch (error) {
      this.#ended(`the WebSocket failed: ${describe(error)}`);
      return;
    }
    this.#onEvent(this, { kind: 'sent', wire: rewritten });
  }

  #receive(data: unknown): void {
    if (this.#state === 'closed') return;
    const text = typeof data === 'string' ? data : data instanceof ArrayBuffer ? new TextDecoder().decode(data) : undefined;
    if (text === undefined) return;
    if (!this.#gateway) {
      this.#deliver(text);
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.#onEvent(this, { kind: 'unparsable', detail: 'a gateway frame that is not JSON' });
      return;
    }
    if (!isGatewayFrame(frame)) {
      this.#onEvent(this, { kind: 'unparsable', detail: 'a gateway frame without a type' });
      return;
    }
    switch (frame.type) {
      case 'opened': {
        const local = (frame as Extract<GatewayFrame, { type: 'opened' }>).local;
        this.#opened({ via: 'UDP', uriTransport: 'udp', address: { host: hostForUri(local.address), port: local.port } });
        return;
      }
      case 'received':
        this.#deliver(String((frame as Extract<GatewayFrame, { type: 'received' }>).message));
        return;
      default:
        // Timers B, F and H run in the link's own transactions too; a failed send ends in Timer F or B.
        this.#onEvent(this, { kind: 'notice', detail: `gateway ${frame.type}: ${JSON.stringify(frame)}` });
    }
  }

  #deliver(text: string): void {
    if (text.trim() === '') return;
    let message: SipMessage;
    try {
      message = parseMessage(text);
    } catch (error) {
      if (!(error instanceof SipParseError)) throw error;
      this.#onEvent(this, { kind: 'unparsable', detail: error.message });
      return;
    }
    this.#onEvent(this, { kind: 'message', message });
  }

  #ended(error: string | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#waiting = [];
    this.#onEvent(this, { kind: 'closed', error });
  }
}
