/**
 * The platform's floor: what workerd itself costs to carry a SIP-sized WebSocket message into a
 * Durable Object and a reply back, with no SIP work at all. It bounds what the edge can reach on one
 * machine whatever the project's code does, and so says how far the registration figures are from
 * the platform rather than from sipedge.
 *
 * Two shapes, as the edge's two URLs are built (workers/index.ts):
 * - `direct`: the socket is accepted by one object with the Hibernation API and each message is
 *   answered from `webSocketMessage` (the per-user URL `/sip/<user>`, where the user's object holds
 *   the socket);
 * - `relayed`: the same, plus one RPC per message to a second object that returns the reply (the
 *   shared URL `/sip`: a SipConnection object hands each message to the SipUser object).
 * A registration is two such exchanges (REGISTER -> 401, REGISTER -> 200), so twice these figures
 * is the least workerd can spend per registration.
 *
 * Run with `SIPEDGE_BENCH_PARTS=floor npm run bench:edge` (part of the default run too).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { cpuSeconds, descendants, processName } from './proc.ts';

const WORKER = `
import { DurableObject } from 'cloudflare:workers';
export class Holder extends DurableObject {
  async fetch(request) {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], [new URL(request.url).pathname]);
    return new Response(null, { status: 101, webSocket: pair[0], headers: { 'Sec-WebSocket-Protocol': 'sip' } });
  }
  async webSocketMessage(socket, message) {
    const [path] = this.ctx.getTags(socket);
    if (path === '/relayed') {
      const peer = this.env.PEER.get(this.env.PEER.idFromName('peer'));
      socket.send(await peer.answer(message));
    } else {
      socket.send(message);
    }
  }
}
export class Peer extends DurableObject {
  answer(message) { return message; }
}
export default {
  fetch(request, env) {
    const url = new URL(request.url);
    return env.HOLDER.get(env.HOLDER.idFromName(url.searchParams.get('n') ?? '0')).fetch(request);
  },
};
`;

/** A REGISTER of the size browsers send (~700 bytes with credentials). */
const MESSAGE = `REGISTER sip:demo.sipedge.local SIP/2.0\r\n${'X-Filler: '.concat('a'.repeat(60), '\r\n').repeat(9)}Content-Length: 0\r\n\r\n`;

export interface FloorShape {
  readonly shape: 'direct' | 'relayed';
  readonly connections: number;
  readonly exchanges: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** workerd CPU per exchange, µs. */
  readonly cpuUs: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

function workerdPids(): number[] {
  return descendants(process.pid).filter((pid) => processName(pid) === 'workerd');
}

async function openSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url, 'sip');
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`could not open ${url}`)), { once: true });
  });
  return socket;
}

/** `exchanges` request/reply round trips on each of `connections` sockets, one at a time per socket. */
async function runShape(base: string, shape: FloorShape['shape'], connections: number, exchanges: number): Promise<FloorShape> {
  const sockets = await Promise.all(Array.from({ length: connections }, (_, n) => openSocket(`${base}/${shape}?n=${shape}-${n}`)));
  const exchange = (socket: WebSocket): Promise<void> =>
    new Promise((resolve) => {
      socket.addEventListener('message', () => resolve(), { once: true });
      socket.send(MESSAGE);
    });
  // Warm up V8 and the objects before measuring.
  for (const socket of sockets) for (let n = 0; n < 200; n += 1) await exchange(socket);
  const pids = workerdPids();
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    sockets.map(async (socket) => {
      for (let n = 0; n < exchanges; n += 1) {
        const sent = performance.now();
        await exchange(socket);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - cpuBefore;
  for (const socket of sockets) socket.close();
  latencies.sort((a, b) => a - b);
  const total = latencies.length;
  return {
    shape,
    connections,
    exchanges: total,
    perSecond: Math.round(total / elapsed),
    p50Ms: Number(percentile(latencies, 0.5).toFixed(3)),
    p99Ms: Number(percentile(latencies, 0.99).toFixed(3)),
    cpuUs: Math.round((cpu / total) * 1e6),
  };
}

/** Both shapes at 1 and 10 connections, in a workerd of their own. */
export async function measurePlatformFloor(progress: (line: string) => void): Promise<FloorShape[]> {
  // Persisted to disk as the edge's objects are (SQLite files), in a folder of its own.
  const stateDir = mkdtempSync(join(tmpdir(), 'sipedge-floor-'));
  const mf = new Miniflare(convertV4MiniflareOptions({
    cf: false,
    telemetry: { enabled: false },
    resourcePersistencePath: stateDir,
    workers: [
      {
        name: 'floor',
        modules: true,
        script: WORKER,
        compatibilityDate: '2026-11-01',
        durableObjects: { HOLDER: { className: 'Holder', useSQLite: true }, PEER: { className: 'Peer', useSQLite: true } },
      },
    ],
    host: '127.0.0.1',
    port: 0,
  }));
  try {
    const url = await mf.ready;
    const base = `ws://127.0.0.1:${url.port}`;
    const results: FloorShape[] = [];
    for (const shape of ['direct', 'relayed'] as const) {
      for (const connections of [1, 10]) {
        const result = await runShape(base, shape, connections, connections === 1 ? 3_000 : 600);
        progress(`floor ${shape} x${connections}: ${result.perSecond}/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.cpuUs} µs CPU per exchange`);
        results.push(result);
      }
    }
    return results;
  } finally {
    await mf.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** The floor as a table, with what it means for a registration (two exchanges). */
export function renderFloor(shapes: readonly FloorShape[]): string {
  const rows = shapes.map(
    (shape) =>
      `| ${shape.shape} | ${shape.connections} | ${shape.perSecond} | ${shape.p50Ms} / ${shape.p99Ms} | ${shape.cpuUs} | ${Math.round(shape.perSecond / 2)} | ${(2 * shape.p50Ms).toFixed(2)} | ${2 * shape.cpuUs} |`,
  );
  return [
    'Platform floor: workerd answering SIP-sized WebSocket messages from a Durable Object, no SIP work',
    '| shape | connections | exchanges/s | p50 / p99 ms | CPU µs/exchange | at most reg/s | least reg p50 ms | least CPU µs/reg |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
