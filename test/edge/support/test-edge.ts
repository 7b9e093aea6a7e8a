/**
 * The edge as integration tests see it: workerd on a real 127.0.0.1 port (started with the same
 * runner as `npm start`), fresh secrets, users created through the operator API.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEdge, type RunningEdge } from '../../../workers/local/edge-runner.ts';

export interface TestEdge {
  readonly edge: RunningEdge;
  readonly domain: string;
  readonly webSocketUrl: string;
  /** The installation's operator token (SIPEDGE_OPERATOR_TOKEN). */
  readonly operatorToken: string;
  createUser(username: string, password: string): Promise<void>;
  /**
   * Stops workerd, dropping every WebSocket, and starts it again on the same port with the same
   * state: a redeploy. `whileDown` runs in between (what clients do while the edge is away).
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestEdge(): Promise<TestEdge> {
  const stateDir = mkdtempSync(join(tmpdir(), 'sipedge-edge-test-'));
  const vars = { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: randomBytes(18).toString('base64url'), SIPEDGE_MEDIA_SECRET: randomBytes(32).toString('base64url') };
  let edge = await startEdge({ port: 0, persistTo: stateDir, vars });
  const port = Number(edge.url.port);
  const health = (await (await fetch(new URL('/health', edge.url))).json()) as { domain: string };
  const webSocketUrl = `ws://127.0.0.1:${port}/sip`;
  return {
    get edge() {
      return edge;
    },
    domain: health.domain,
    webSocketUrl,
    operatorToken: vars.SIPEDGE_OPERATOR_TOKEN,
    async createUser(username, password) {
      const response = await fetch(new URL(`/api/v1/users/${username}`, edge.url), {
        method: 'PUT',
        headers: { Authorization: `Bearer ${vars.SIPEDGE_OPERATOR_TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ password }),
      });
      if (!response.ok) throw new Error(`PUT /api/v1/users/${username}: ${response.status} ${await response.text()}`);
    },
    async restart(whileDown) {
      await edge.stop();
      await whileDown?.();
      edge = await startEdge({ port, persistTo: stateDir, vars });
    },
    async stop() {
      await edge.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** `promise`, or a rejection naming `what` after `ms`. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
