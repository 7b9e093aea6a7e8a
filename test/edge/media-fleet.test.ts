/**
 * The edge and real media nodes, each in its own process as in production: `node
 * media-node/main.ts` in local mode, heartbeating to the edge (workerd on a real port) with
 * requests signed by the shared secret. The operator's listing shows them healthy; a node shut
 * down says it is stopping, and a node killed goes stale after three missed heartbeats.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestSigner } from '../../shared/signing/index.ts';
import { ROOT, startEdge, type RunningEdge } from '../../workers/local/edge-runner.ts';
import type { MediaNodeView } from '../../workers/media/media-node-record.ts';

/** The node's shortest, so staleness (three intervals) shows within a few seconds. */
const HEARTBEAT_MS = 1000;
const SECRET = randomBytes(32).toString('base64url');
const OPERATOR_TOKEN = randomBytes(18).toString('base64url');

interface RunningNode {
  readonly id: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Its JSON log lines so far (shown when a test fails). */
  readonly output: string[];
}

let edge: RunningEdge;
const nodes: RunningNode[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function startNode(id: string, region: string): Promise<RunningNode> {
  const port = await freePort();
  const child = spawn(process.execPath, [`${ROOT}media-node/main.ts`], {
    env: {
      ...process.env,
      SIPEDGE_MEDIA_SECRET: SECRET,
      SIPEDGE_MEDIA_LOCAL: 'true',
      SIPEDGE_MEDIA_NODE_ID: id,
      SIPEDGE_MEDIA_REGION: region,
      SIPEDGE_MEDIA_CONTROL_PORT: String(port),
      SIPEDGE_MEDIA_EDGE_URL: edge.url.href.replace(/\/$/, ''),
      SIPEDGE_MEDIA_HEARTBEAT_MS: String(HEARTBEAT_MS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const node = { id, port, child, output: [] as string[] };
  child.stdout?.setEncoding('utf8').on('data', (text: string) => node.output.push(text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => node.output.push(text));
  nodes.push(node);
  return node;
}

async function stopNode(node: RunningNode, signal: NodeJS.Signals): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const exited = new Promise((resolve) => node.child.once('exit', resolve));
  node.child.kill(signal);
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
}

async function listed(): Promise<MediaNodeView[]> {
  const response = await fetch(new URL('/api/v1/media-nodes', edge.url), { headers: { Authorization: `Bearer ${OPERATOR_TOKEN}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { nodes: MediaNodeView[] }).nodes;
}

/** Polls the listing until `node` has `health`; fails with the last listing and the node's log after `ms`. */
async function untilHealth(node: RunningNode, health: MediaNodeView['health'], ms: number): Promise<MediaNodeView> {
  const deadline = Date.now() + ms;
  let last: MediaNodeView[] = [];
  while (Date.now() < deadline) {
    last = await listed();
    const found = last.find((each) => each.nodeId === node.id);
    if (found?.health === health) return found;
    if (health === 'healthy' && node.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${node.id} not ${health} within ${ms} ms; listing: ${JSON.stringify(last)}\nits log:\n${node.output.join('')}`);
}

beforeAll(async () => {
  edge = await startEdge({
    port: 0,
    vars: {
      SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'),
      SIPEDGE_OPERATOR_TOKEN: OPERATOR_TOKEN,
      SIPEDGE_MEDIA_SECRET: SECRET,
      SIPEDGE_MEDIA_HEARTBEAT_MS: String(HEARTBEAT_MS),
    },
  });
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => stopNode(node, 'SIGKILL')));
  await edge?.stop();
});

describe('media nodes heartbeating to the edge', () => {
  it('are listed healthy; a node shut down is stopping, a node killed goes stale', async () => {
    const calm = await startNode('media-calm', 'test-east');
    const doomed = await startNode('media-doomed', 'test-west');

    const first = await untilHealth(calm, 'healthy', 20_000);
    expect(first).toMatchObject({ region: 'test-east', state: 'up', controlUrl: `http://127.0.0.1:${calm.port}`, sessions: 0 });
    expect(first.capacity).toBeGreaterThan(0);
    expect((await untilHealth(doomed, 'healthy', 20_000)).region).toBe('test-west');
    expect(calm.output.join('')).toContain('heartbeat accepted by the edge');

    // SIGTERM: the node's last heartbeat says it is stopping; it takes no new calls at once.
    await stopNode(calm, 'SIGTERM');
    expect(calm.child.exitCode).toBe(0);
    await untilHealth(calm, 'stopping', 2_000);

    // SIGKILL: no goodbye; three missed heartbeats later it is stale.
    await stopNode(doomed, 'SIGKILL');
    const stale = await untilHealth(doomed, 'stale', 3 * HEARTBEAT_MS + 2_000);
    expect(stale.silentMs).toBeGreaterThan(3 * HEARTBEAT_MS);
  });

  it('accepts a session-ended report signed with the shared secret, once per nonce', async () => {
    const path = '/api/v1/media-nodes/session-ended';
    const body = JSON.stringify({ nodeId: 'media-calm', sessionId: 'call-1', reason: 'media-timeout', endedAt: new Date().toISOString(), stats: {} });
    const headers = await new RequestSigner(SECRET).sign({ method: 'POST', path, body });
    const post = (): Promise<Response> => fetch(new URL(path, edge.url), { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
    const first = await post();
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ accepted: true, duplicate: false });
    const replay = await post();
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ reason: 'replayed' });
  });
});
