/**
 * A stand-in for the edge's media-node endpoints: a small HTTP server on 127.0.0.1 that checks each
 * request's signature with the node's own verifier (the edge will use the same module), records it,
 * and answers with whatever status the test chooses. Every wait has a deadline.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReplayGuard, RequestSigner, verifySignedRequest, type AuthFailureReason } from '../../../media-node/signing/index.ts';

export interface EdgeRequest {
  readonly path: string;
  readonly body: Record<string, unknown>;
  /** Undefined when the signature verified. */
  readonly refused: AuthFailureReason | undefined;
}

export interface EdgeDouble {
  readonly url: string;
  readonly requests: readonly EdgeRequest[];
  /** The status for the next request to `path`; default 200. `nth` counts requests to that path from 1. */
  respond(status: (path: string, nth: number) => number): void;
  /** Resolves with the `count`-th request to `path` (counting from 1), waiting up to `timeoutMs`. */
  waitFor(path: string, count?: number, timeoutMs?: number): Promise<EdgeRequest>;
  close(): Promise<void>;
}

export async function startEdgeDouble(secret: string): Promise<EdgeDouble> {
  const signer = new RequestSigner(secret);
  const guard = new ReplayGuard();
  const requests: EdgeRequest[] = [];
  const counts = new Map<string, number>();
  let status: (path: string, nth: number) => number = () => 200;
  const waiters = new Set<() => void>();
  const server = createServer((request, response) => {
    void read(request).then(async (body) => {
      const path = request.url ?? '/';
      const verdict = await verifySignedRequest(signer, guard, {
        method: request.method ?? 'POST',
        path,
        body,
        header: (name) => {
          const value = request.headers[name];
          return Array.isArray(value) ? value[0] : value;
        },
      });
      const nth = (counts.get(path) ?? 0) + 1;
      counts.set(path, nth);
      requests.push({ path, body: JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>, refused: verdict.ok ? undefined : verdict.error.reason });
      response.writeHead(verdict.ok ? status(path, nth) : 401, { 'Content-Type': 'application/json' });
      response.end('{}');
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    respond: (chosen) => {
      status = chosen;
    },
    waitFor: (path, count = 1, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = requests.filter((request) => request.path === path)[count - 1];
          if (found === undefined) return false;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(found);
          return true;
        };
        const wake = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`the edge double got no request #${count} to ${path} within ${timeoutMs} ms (got: ${requests.map((r) => r.path).join(', ')})`));
        }, timeoutMs);
        if (!check()) waiters.add(wake);
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function read(request: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    request.on('error', reject);
  });
}
