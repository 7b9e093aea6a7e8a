/**
 * A PBX in memory, behind the `Connector` seam of a PbxLink: every connection the link opens is a
 * `FakeConnection` that records what the link writes (framed and parsed as a PBX would) and lets
 * the test answer, send requests, ping, or drop the connection. Socket events are delivered
 * asynchronously, as the Workers socket API does.
 *
 * Calls that make the link react (`respond`, `send`, `drop`, ...) must run inside the object:
 * wrap them in `runInDurableObject`.
 */
import { StreamFramer } from '../../../shared/framing/index.ts';
import { createResponse, parseMessageBytes, serializeMessage, type HeaderField, type SipRequest, type SipResponse } from '../../../shared/message/index.ts';
import type { Connector, PbxTarget, SocketHandlers, StreamSocket } from '../../../workers/pbx/socket-connector.ts';

const encoder = new TextEncoder();

export class FakeConnection implements StreamSocket {
  readonly target: PbxTarget;
  readonly requests: SipRequest[] = [];
  readonly responses: SipResponse[] = [];
  /** Double-CRLF pings the link wrote. */
  pings = 0;
  /** Single-CRLF pongs the link wrote. */
  pongs = 0;
  closedByLink = false;
  readonly #handlers: SocketHandlers;
  readonly #framer = new StreamFramer();

  constructor(target: PbxTarget, handlers: SocketHandlers) {
    this.target = target;
    this.#handlers = handlers;
  }

  write(data: Uint8Array): void {
    for (const event of this.#framer.push(data)) {
      if (event.kind === 'keepalive') {
        if (event.ping) this.pings += 1;
        else this.pongs += 1;
      } else if (event.kind === 'message') {
        const message = parseMessageBytes(event.bytes);
        if (message.kind === 'request') this.requests.push(message);
        else this.responses.push(message);
      } else {
        throw new Error(`the link wrote something that cannot be framed: ${event.reason}`);
      }
    }
  }

  close(): void {
    this.closedByLink = true;
  }

  open(): void {
    this.#handlers.onOpen();
  }

  /** Octets from the PBX. */
  send(text: string): void {
    this.#handlers.onData(encoder.encode(text));
  }

  /** Answers `request` (the last one received by default) with `status` and extra header fields. */
  respond(status: number, headers: readonly HeaderField[] = [], request: SipRequest | undefined = this.requests.at(-1)): void {
    if (request === undefined) throw new Error('nothing to respond to');
    this.send(serializeMessage(createResponse(request, status, undefined, { toTag: 'fakepbx', headers })));
  }

  /** The PBX closes the connection (or it fails with `error`). */
  drop(error?: string): void {
    this.#handlers.onClose(error);
  }
}

export class FakePbx {
  readonly connections: FakeConnection[] = [];
  /** When set, connecting fails with this error, as an unreachable PBX or a bad certificate would. */
  refuse: string | undefined;

  readonly connector: Connector = (target, handlers) => {
    const connection = new FakeConnection(target, handlers);
    this.connections.push(connection);
    queueMicrotask(() => {
      if (this.refuse !== undefined) connection.drop(this.refuse);
      else connection.open();
    });
    return connection;
  };

  get last(): FakeConnection {
    const connection = this.connections.at(-1);
    if (connection === undefined) throw new Error('the link has not connected');
    return connection;
  }

  /** Every request the link sent, over every connection, in order. */
  get requests(): SipRequest[] {
    return this.connections.flatMap((connection) => connection.requests);
  }
}

/** A digest challenge as Kamailio's www_challenge sends it. */
export function challenge(realm: string, nonce: string, extra = ''): HeaderField {
  return { name: 'WWW-Authenticate', value: `Digest realm="${realm}", nonce="${nonce}", qop="auth"${extra}` };
}
