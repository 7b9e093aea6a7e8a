/**
 * The media node's control API over Node `http`, JSON in and out.
 *
 * `/health` and `/metrics` answer anyone (`/metrics` wants a bearer token when one is configured);
 * everything else must be signed by the edge (`../signing/`): an unsigned, wrongly signed, stale or
 * replayed request gets 401 before any route sees it, so a stranger cannot even learn which session
 * ids exist. WebSocket upgrades (the SIP gateway) are signed the same way, on the upgrade request
 * (`GET`, the path with its query, an empty body), and refused with a plain HTTP answer before
 * the handshake. Errors are RFC 9457 problem documents (`control-error.ts`). A request that throws
 * something unexpected gets a 500 and a log line; nothing a request does can reach another.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { silentLogger, type Logger } from '../logger.ts';
import { verifySignedRequest, type AuthFailureReason, type ReplayGuard, type RequestSigner } from '../signing/index.ts';
import { ControlError, PROBLEM_CONTENT_TYPE, sessionFailure } from './control-error.ts';
import type { Reply, Route } from './session-routes.ts';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface ControlServerOptions {
  readonly routes: readonly Route[];
  readonly signer: RequestSigner;
  readonly replayGuard: ReplayGuard;
  /** The body of `/health`. */
  readonly health: () => { readonly status: 'ok' | 'shutting-down' } & Readonly<Record<string, unknown>>;
  /** The Prometheus text of `/metrics`. */
  readonly metrics: () => string;
  readonly metricsToken?: string | undefined;
  /** WebSocket endpoints: a signed upgrade request whose path `pattern` matches goes to `accept`. */
  readonly upgrades?: readonly UpgradeRoute[];
  /** HTTPS with this PEM certificate chain and key; plain HTTP without. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** Default 256 KiB: a WebRTC offer is a few KiB. */
  readonly maxBodyOctets?: number;
  readonly logger?: Logger;
}

export interface UpgradeRoute {
  /** Named groups become `params`. */
  readonly pattern: RegExp;
  /** Returns why the request is not a WebSocket handshake (400), or undefined after taking the socket. */
  accept(request: IncomingMessage, socket: Duplex, head: Buffer, params: Readonly<Record<string, string>>): string | undefined;
}

export interface ControlServerCounters {
  /** Responses by status code. */
  readonly responses: Map<number, number>;
  /** Refused requests by why. */
  readonly refused: Map<AuthFailureReason, number>;
  /** Requests that threw something unexpected (500). */
  internalErrors: number;
}

export class ControlServer {
  readonly counters: ControlServerCounters = { responses: new Map(), refused: new Map(), internalErrors: 0 };
  readonly #options: ControlServerOptions;
  readonly #logger: Logger;
  readonly #server: Server;
  /** Sockets handed to WebSocket endpoints: `close` ends them, as the server no longer does. */
  readonly #upgraded = new Set<Duplex>();

  private constructor(options: ControlServerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    const handle = (request: IncomingMessage, response: ServerResponse): void => {
      this.#handle(request, response).catch((error: unknown) => {
        // Only a failure to write the response gets here.
        this.#logger.error('control response failed', { error: String(error) });
        response.destroy();
      });
    };
    this.#server = options.tls === undefined ? createServer(handle) : createTlsServer({ cert: options.tls.cert, key: options.tls.key }, handle);
    this.#server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.#upgrade(request, socket, head).catch((error: unknown) => {
        this.#logger.error('upgrade failed', { error: String(error) });
        socket.destroy();
      });
    });
  }

  static async listen(options: ControlServerOptions, host: string, port: number): Promise<ControlServer> {
    const server = new ControlServer(options);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(port, host, () => {
        server.#server.off('error', reject);
        resolve();
      });
    });
    server.#server.on('error', (error) => server.#logger.error('control server error', { error: String(error) }));
    return server;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get host(): string {
    return (this.#server.address() as AddressInfo).address;
  }

  /** Stops taking connections, and ends idle keep-alive ones and WebSockets; requests under way finish. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
      for (const socket of this.#upgraded) socket.destroy();
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = request.method ?? 'GET';
    const target = request.url ?? '/';
    const path = target.split('?')[0] ?? '/';
    let reply: Reply | ControlError;
    let contentType = 'application/json';
    try {
      if (path === '/health' && method === 'GET') reply = { status: 200, body: this.#options.health() };
      else if (path === '/metrics' && method === 'GET') {
        this.#checkMetricsToken(request);
        reply = { status: 200, body: this.#options.metrics() };
        contentType = PROMETHEUS_CONTENT_TYPE;
      } else reply = await this.#signedRequest(request, method, target, path);
    } catch (error) {
      reply = this.#asControlError(error, method, path);
    }
    this.#respond(response, reply, contentType);
    const status = reply instanceof ControlError ? reply.status : reply.status;
    this.counters.responses.set(status, (this.counters.responses.get(status) ?? 0) + 1);
    this.#logger.debug('control request', { method, path, status, ms: Math.round((performance.now() - started) * 10) / 10 });
  }

  async #signedRequest(request: IncomingMessage, method: string, target: string, path: string): Promise<Reply> {
    const body = await readBody(request, this.#options.maxBodyOctets ?? 256 * 1024);
    const refusal = await this.#verifySignature(request, method, target, body);
    if (refusal !== undefined) {
      this.#logger.warn('control request refused', { method, path, reason: refusal.reason, remote: request.socket.remoteAddress });
      throw refusal;
    }
    const match = matchRoute(this.#options.routes, method, path);
    if (match === undefined) throw new ControlError(404, 'not-found', 'Not found', `no resource at ${path}`);
    if (match === 'method-not-allowed') throw new ControlError(405, 'method-not-allowed', 'Method not allowed', `${method} is not allowed on ${path}`);
    return match.route.handle({ params: match.params, body: parseJson(body) });
  }

  /** Checks a request's `Sipedge-*` signature; a failure is counted and returned as the 401 to answer. */
  async #verifySignature(request: IncomingMessage, method: string, target: string, body: Uint8Array): Promise<ControlError | undefined> {
    const verdict = await verifySignedRequest(this.#options.signer, this.#options.replayGuard, {
      method,
      path: target,
      body,
      header: (name) => {
        const value = request.headers[name];
        return Array.isArray(value) ? value[0] : value;
      },
    });
    if (verdict.ok) return undefined;
    const { reason, detail } = verdict.error;
    this.counters.refused.set(reason, (this.counters.refused.get(reason) ?? 0) + 1);
    return new ControlError(401, reason, 'Unauthorized', detail, { headers: { 'WWW-Authenticate': 'Sipedge-HMAC-SHA256' } });
  }

  async #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    this.#upgraded.add(socket);
    socket.once('close', () => this.#upgraded.delete(socket));
    const target = request.url ?? '/';
    const path = target.split('?')[0] ?? '/';
    const refuse = (error: ControlError): void => {
      const body = JSON.stringify(error.toProblem());
      const headers = { 'Content-Type': PROBLEM_CONTENT_TYPE, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close', ...error.headers };
      const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
      socket.end(`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n${lines.join('\r\n')}\r\n\r\n${body}`);
      this.counters.responses.set(error.status, (this.counters.responses.get(error.status) ?? 0) + 1);
    };
    const refusal = await this.#verifySignature(request, request.method ?? 'GET', target, new Uint8Array(0));
    if (refusal !== undefined) {
      this.#logger.warn('upgrade refused', { path, reason: refusal.reason, remote: request.socket.remoteAddress });
      refuse(refusal);
      return;
    }
    for (const route of this.#options.upgrades ?? []) {
      const match = route.pattern.exec(path);
      if (match === null) continue;
      const problem = route.accept(request, socket, head, { ...match.groups });
      if (problem !== undefined) refuse(new ControlError(400, 'not-websocket', 'Bad request', problem));
      else this.counters.responses.set(101, (this.counters.responses.get(101) ?? 0) + 1);
      return;
    }
    refuse(new ControlError(404, 'not-found', 'Not found', `no WebSocket endpoint at ${path}`));
  }

  #checkMetricsToken(request: IncomingMessage): void {
    const token = this.#options.metricsToken;
    if (token === undefined) return;
    if (!sameSecret(request.headers.authorization ?? '', `Bearer ${token}`)) {
      throw new ControlError(401, 'unauthorized', 'Unauthorized', '/metrics wants the configured bearer token', { headers: { 'WWW-Authenticate': 'Bearer' } });
    }
  }

  #asControlError(error: unknown, method: string, path: string): ControlError {
    const known = sessionFailure(error);
    if (known !== undefined) {
      if (known.status >= 500) this.#logger.warn('control request failed', { method, path, status: known.status, reason: known.reason, detail: known.message });
      return known;
    }
    this.counters.internalErrors++;
    this.#logger.error('control request threw', { method, path, error: String(error), stack: error instanceof Error ? error.stack : undefined });
    return new ControlError(500, 'internal', 'Internal error', 'the media node failed to handle this request; see its log');
  }

  #respond(response: ServerResponse, reply: Reply | ControlError, contentType: string): void {
    if (reply instanceof ControlError) {
      response.writeHead(reply.status, { 'Content-Type': PROBLEM_CONTENT_TYPE, ...reply.headers });
      response.end(JSON.stringify(reply.toProblem()));
      return;
    }
    response.writeHead(reply.status, { 'Content-Type': contentType });
    response.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  }
}

/** Compares in constant time (hashes first, so lengths do not leak either). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function matchRoute(routes: readonly Route[], method: string, path: string): { route: Route; params: Record<string, string> } | 'method-not-allowed' | undefined {
  let pathMatched = false;
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (match === null) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(match.groups ?? {})) {
      try {
        params[name] = decodeURIComponent(value);
      } catch {
        params[name] = value;
      }
    }
    return { route, params };
  }
  return pathMatched ? 'method-not-allowed' : undefined;
}

function readBody(request: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        reject(new ControlError(413, 'body-too-large', 'Body too large', `the body is over ${limit} octets`));
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    request.on('error', reject);
  });
}

function parseJson(body: Uint8Array): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(body)) as unknown;
  } catch {
    throw new ControlError(400, 'invalid-json', 'Invalid JSON', 'the request body must be JSON');
  }
}
