/**
 * The byte stream under a PbxLink: TCP or TLS from the Workers socket API (`connect()` from
 * `cloudflare:sockets`). TLS verifies the server's certificate against the platform's trust store
 * (locally, workerd adds NODE_EXTRA_CA_CERTS); there is no switch to turn that off.
 *
 * `Connector` is the seam tests replace with a fake: a PbxLink never calls `connect()` itself.
 */
import { connect } from 'cloudflare:sockets';
import type { PbxTransport } from './link-config.ts';

export interface PbxTarget {
  readonly host: string;
  readonly port: number;
  readonly transport: PbxTransport;
  /** The WebSocket URL's path, for `wss`. */
  readonly path?: string;
}

export interface SocketHandlers {
  /** The connection (and TLS handshake) is up. */
  onOpen(): void;
  onData(chunk: Uint8Array): void;
  /** The connection ended, by the peer or by an error (its text); never after `close()`. */
  onClose(error: string | undefined): void;
}

export interface StreamSocket {
  /** Writes in order; octets written before the connection is up wait for it. A failure ends in `onClose`. */
  write(data: Uint8Array): void;
  /** Closes without calling `onClose`: the caller knows. */
  close(): void;
}

export type Connector = (target: PbxTarget, handlers: SocketHandlers) => StreamSocket;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function asBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new TypeError('a socket produced something other than octets');
}

export const socketConnector: Connector = (target, handlers) => {
  const socket = connect(
    { hostname: target.host, port: target.port },
    { secureTransport: target.transport === 'tls' ? 'on' : 'off', allowHalfOpen: false },
  );
  let ended = false;
  const end = (error: string | undefined): void => {
    if (ended) return;
    ended = true;
    handlers.onClose(error);
  };
  socket.opened.then(
    () => {
      if (!ended) handlers.onOpen();
    },
    (error: unknown) => end(describe(error)),
  );
  const writer = socket.writable.getWriter();
  const reader = socket.readable.getReader();
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (ended) return;
        handlers.onData(asBytes(value));
      }
      end(undefined);
    } catch (error) {
      end(describe(error));
    }
  })();
  return {
    write(data) {
      writer.write(data).catch((error: unknown) => {
        end(describe(error));
        socket.close().catch(() => undefined);
      });
    },
    close() {
      ended = true;
      socket.close().catch(() => undefined);
    },
  };
};
