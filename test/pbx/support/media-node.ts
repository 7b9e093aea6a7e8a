/**
 * A real media node (`node media-node/main.ts`, local mode: 127.0.0.1 ICE candidates and RTP),
 * heartbeating to the test's edge with the shared secret, as `npm start` runs one. `sessions()`
 * reads the node's own list through its signed control API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { RequestSigner } from '../../../shared/signing/index.ts';
import { ROOT } from '../../../workers/local/edge-runner.ts';
import { freePort, waitForPort } from './net.ts';

export interface RunningMediaNode {
  readonly controlUrl: string;
  /** The node's sessions now, as its control API lists them. */
  sessions(): Promise<readonly { readonly id: string; readonly state: string }[]>;
  /** One session's view (`GET /v1/sessions/:id`): its state and each direction's figures. */
  view(id: string): Promise<{ readonly state: string; readonly stats: { readonly directions?: { readonly browser: string; readonly pbx: string }; readonly browserToPbx?: { readonly forwarded: number; readonly telephoneEvents: number } } }>;
  log(): string;
  stop(): Promise<void>;
}

export async function startMediaNode(edgeUrl: string, secret: string, heartbeatMs: number): Promise<RunningMediaNode> {
  const port = await freePort();
  let log = '';
  const child: ChildProcess = spawn(process.execPath, [`${ROOT}media-node/main.ts`], {
    env: {
      ...process.env,
      SIPEDGE_MEDIA_SECRET: secret,
      SIPEDGE_MEDIA_LOCAL: 'true',
      SIPEDGE_MEDIA_NODE_ID: 'pbx-calls-node',
      SIPEDGE_MEDIA_REGION: 'local',
      SIPEDGE_MEDIA_CONTROL_PORT: String(port),
      SIPEDGE_MEDIA_EDGE_URL: edgeUrl.replace(/\/$/, ''),
      SIPEDGE_MEDIA_HEARTBEAT_MS: String(heartbeatMs),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (log += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (log += text));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, 20_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`the media node did not start: ${String(error)}\n${log}`);
  }
  const controlUrl = `http://127.0.0.1:${port}`;
  const signer = new RequestSigner(secret);
  return {
    controlUrl,
    async sessions() {
      const headers = await signer.sign({ method: 'GET', path: '/v1/sessions' });
      const response = await fetch(`${controlUrl}/v1/sessions`, { headers, signal: AbortSignal.timeout(5_000) });
      if (response.status !== 200) throw new Error(`GET /v1/sessions: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { sessions: { id: string; state: string }[] }).sessions;
    },
    async view(id) {
      const path = `/v1/sessions/${encodeURIComponent(id)}`;
      const headers = await signer.sign({ method: 'GET', path });
      const response = await fetch(`${controlUrl}${path}`, { headers, signal: AbortSignal.timeout(5_000) });
      if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as Awaited<ReturnType<RunningMediaNode['view']>>;
    },
    log: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
