/**
 * The local edge for the client compatibility tests: the edge of test/edge/support (workerd in
 * Miniflare on 127.0.0.1, restartable like a redeploy), plus what these tests read from it (the
 * operator API: a user's SIP trace and register log) and TCP relays in front of it, which stand
 * for two edge addresses a client can list and lose one of.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startEdge, type RunningEdge } from '../../../workers/local/edge-runner.ts';

export interface TraceMessage {
  readonly direction: 'in' | 'out';
  readonly flow: string;
  readonly summary: string;
  readonly message: string;
  readonly callId?: string;
}

/** An entry of `GET /api/v1/users/:u/registrations/log` (workers/trace/register-log.ts). */
export interface RegisterLogEntry {
  readonly status?: number;
  readonly userAgent?: string;
  readonly contact?: string;
  readonly requestedExpires?: number;
  readonly grantedExpires?: number;
}

/** A TCP relay on its own 127.0.0.1 port to the edge: a second edge address that can go away. */
export interface EdgeRelay {
  readonly webSocketUrl: string;
  /** Stops listening and drops every connection through it: that address is gone. */
  close(): Promise<void>;
}

export interface CompatEdge {
  readonly domain: string;
  readonly port: number;
  /** `ws://127.0.0.1:<port>/sip` */
  readonly webSocketUrl: string;
  createUser(username: string, password: string, displayName?: string): Promise<void>;
  /** GET /api/v1/<path> with the operator token: the JSON answer. */
  api<T>(path: string): Promise<T>;
  trace(username: string): Promise<readonly TraceMessage[]>;
  registerLog(username: string): Promise<readonly RegisterLogEntry[]>;
  relay(): Promise<EdgeRelay>;
  /** Stops workerd, dropping every WebSocket, and starts it again on the same port with the same state. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startCompatEdge(): Promise<CompatEdge> {
  const stateDir = mkdtempSync(join(tmpdir(), 'sipedge-compat-'));
  const token = randomBytes(18).toString('base64url');
  const vars = { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: token, SIPEDGE_MEDIA_SECRET: randomBytes(32).toString('base64url') };
  let edge: RunningEdge = await startEdge({ port: 0, persistTo: stateDir, vars });
  const port = Number(edge.url.port);
  const base = `http://127.0.0.1:${port}`;
  const health = (await (await fetch(`${base}/health`)).json()) as { domain: string };
  const relays: EdgeRelay[] = [];
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${base}/api/v1/${path}`, { headers: { Authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`GET /api/v1/${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  return {
    domain: health.domain,
    port,
    webSocketUrl: `ws://127.0.0.1:${port}/sip`,
    async createUser(username, password, displayName) {
      const response = await fetch(`${base}/api/v1/users/${username}`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ password, ...(displayName === undefined ? {} : { displayName }) }),
      });
      if (!response.ok) throw new Error(`PUT /api/v1/users/${username}: ${response.status} ${await response.text()}`);
    },
    api,
    async trace(username) {
      return (await api<{ records: TraceMessage[] }>(`users/${username}/trace?limit=2000`)).records;
    },
    async registerLog(username) {
      return (await api<{ entries: RegisterLogEntry[] }>(`users/${username}/registrations/log`)).entries;
    },
    async relay() {
      const relay = await startRelay(port);
      relays.push(relay);
      return relay;
    },
    async restart() {
      await edge.stop();
      edge = await startEdge({ port, persistTo: stateDir, vars });
    },
    async stop() {
      for (const relay of relays) await relay.close();
      await edge.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

function startRelay(edgePort: number): Promise<EdgeRelay> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(edgePort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      let closed: Promise<void> | undefined;
      resolve({
        webSocketUrl: `ws://127.0.0.1:${port}/sip`,
        close: () => {
          closed ??= new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
          });
          return closed;
        },
      });
    });
  });
}

/** What a compat test file shares: one edge for the file, fresh users, clients stopped after each test. */
export interface CompatSuite {
  /** The file's edge (started in `beforeAll`). */
  readonly edge: CompatEdge;
  /** A new user `<prefix><n>` with the password `<name> password`. */
  user(prefix: string): Promise<{ readonly name: string; readonly password: string }>;
  /** Stops `client` after the current test. */
  keep<T extends { stop(): unknown }>(client: T): T;
}

/** Registers the hooks: an edge for the file, and the clients of each test stopped after it. */
export function useCompatEdge(): CompatSuite {
  let edge: CompatEdge | undefined;
  let serial = 0;
  const running: { stop(): unknown }[] = [];
  beforeAll(async () => {
    edge = await startCompatEdge();
  }, 60_000);
  afterAll(async () => {
    await edge?.stop();
  });
  afterEach(async () => {
    for (const client of running.splice(0)) await client.stop();
  });
  const started = (): CompatEdge => {
    if (edge === undefined) throw new Error('the compat edge is not started yet (use it inside tests)');
    return edge;
  };
  return {
    get edge() {
      return started();
    },
    async user(prefix) {
      serial += 1;
      const name = `${prefix}${serial}`;
      await started().createUser(name, `${name} password`);
      return { name, password: `${name} password` };
    },
    keep(client) {
      running.push(client);
      return client;
    },
  };
}
