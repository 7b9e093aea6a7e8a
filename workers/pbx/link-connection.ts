/**
 * One connection from a PbxLink to its PBX: SIP messages framed out of the stream (RFC 3261 §18.3,
 * `StreamFramer`), keep-alives answered and sent (RFC 5626 §4.4.1), and everything reported to
 * the link as events. The same connection carries the link's requests and the requests the PBX
 * sends back (RFC 5626 §3.1: a flow is reused in both directions), so each connection is a flow,
 * named by `flow` in the transactions sent over it.
 */
import { KEEPALIVE_PING, KEEPALIVE_PONG, StreamFramer } from '../../shared/framing/index.ts';
import { parseMessageBytes, SipParseError, type SipMessage } from '../../shared/message/index.ts';
import type { Connector, PbxTarget, StreamSocket } from './socket-connector.ts';

export type ConnectionEvent =
  | { readonly kind: 'open' }
  | { readonly kind: 'message'; readonly message: SipMessage }
  | { readonly kind: 'pong' }
  /** The connection is gone; `error` says why when it did not close cleanly. */
  | { readonly kind: 'closed'; readonly error: string | undefined }
  /** Octets that were not a SIP message; dropped (the log says which). */
  | { readonly kind: 'unparsable'; readonly detail: string }
  /** A message written toward the PBX, as written (for the link's trace). */
  | { readonly kind: 'sent'; readonly wire: string }
  /** Something the transport reports for the log only (a gateway's timer or send failure). */
  | { readonly kind: 'notice'; readonly detail: string };

export type ConnectionState = 'connecting' | 'open' | 'closed';

/**
 * What the link's engine holds of a flow to its PBX, whatever carries it: a TCP or TLS stream
 * (`LinkConnection`), or a WebSocket (`websocket-flow.ts`: SIP over WebSocket, or UDP through a
 * media node's gateway).
 */
export interface PbxFlow {
  readonly flow: string;
  readonly target: PbxTarget;
  readonly state: ConnectionState;
  /** Writes one message; false when the flow is already closed. */
  send(wire: string): boolean;
  /** A keep-alive probe, where the transport has one. */
  ping(): void;
  /** Closes on the link's behalf and reports `closed` with `reason`. */
  close(reason: string): void;
}

const encoder = new TextEncoder();

export class LinkConnection implements PbxFlow {
  readonly flow: string;
  readonly target: PbxTarget;
  readonly #framer = new StreamFramer();
  readonly #socket: StreamSocket;
  readonly #onEvent: (connection: LinkConnection, event: ConnectionEvent) => void;
  #state: ConnectionState = 'connecting';

  constructor(connector: Connector, target: PbxTarget, flow: string, onEvent: (connection: LinkConnection, event: ConnectionEvent) => void) {
    this.flow = flow;
    this.target = target;
    this.#onEvent = onEvent;
    this.#socket = connector(target, {
      onOpen: () => {
        if (this.#state !== 'connecting') return;
        this.#state = 'open';
        this.#onEvent(this, { kind: 'open' });
      },
      onData: (chunk) => this.#receive(chunk),
      onClose: (error) => this.#ended(error),
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Writes one message; false when the connection is already closed. */
  send(wire: string): boolean {
    if (this.#state === 'closed') return false;
    this.#socket.write(encoder.encode(wire));
    this.#onEvent(this, { kind: 'sent', wire });
    return true;
  }

  /** RFC 5626 §4.4.1: a client probes its flow with a double CRLF. */
  ping(): void {
    if (this.#state === 'open') this.#socket.write(encoder.encode(KEEPALIVE_PING));
  }

  /** Closes on the link's behalf and reports `closed` with `reason`. */
  close(reason: string): void {
    if (this.#state === 'closed') return;
    this.#socket.close();
    this.#ended(reason);
  }

  #ended(error: string | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#onEvent(this, { kind: 'closed', error });
  }

  #receive(chunk: Uint8Array): void {
    for (const event of this.#framer.push(chunk)) {
      if (this.#state === 'closed') return;
      switch (event.kind) {
        case 'keepalive':
          // RFC 5626 §4.4.1: a ping is answered with a pong at once.
          if (event.ping) this.#socket.write(encoder.encode(KEEPALIVE_PONG));
          else this.#onEvent(this, { kind: 'pong' });
          break;
        case 'message':
          this.#deliver(event.bytes);
          break;
        case 'error':
          // RFC 3261 §18.3: without a message boundary the stream cannot be read further.
          this.close(`framing: ${event.reason}`);
          return;
      }
    }
  }

  #deliver(bytes: Uint8Array): void {
    let message: SipMessage;
    try {
      message = parseMessageBytes(bytes);
    } catch (error) {
      if (!(error instanceof SipParseError)) throw error;
      this.#onEvent(this, { kind: 'unparsable', detail: error.message });
      return;
    }
    this.#onEvent(this, { kind: 'message', message });
  }
}
