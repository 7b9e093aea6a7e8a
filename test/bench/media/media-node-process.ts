/**
 * The media node under test, in a process of its own (`node media-node/main.ts`), configured
 * through its environment as an operator would, and stopped with SIGTERM by its pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { ControlClient } from '../../media-node/support/control-client.ts';
import type { RelayScrape } from './load-window.ts';
import { processCpuSecondsOf } from './proc-stat.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;

export interface MediaNodeProcessOptions {
  readonly controlPort: number;
  /** PBX legs' RTP/RTCP ports, inclusive. */
  readonly rtpPorts: readonly [number, number];
  /** Browser legs' ICE sockets, inclusive. */
  readonly icePorts: readonly [number, number];
  readonly secret: string;
  /** A command the node runs under (`chrt --fifo 10`), empty for none. */
  readonly launcher: readonly string[];
}

export class MediaNodeProcess {
  readonly child: ChildProcess;
  readonly client: ControlClient;
  readonly #baseUrl: string;
  #output = '';

  private constructor(child: ChildProcess, baseUrl: string, secret: string) {
    this.child = child;
    this.#baseUrl = baseUrl;
    this.client = new ControlClient(baseUrl, secret);
    // BENCH_NODE_LOG: a file that gets everything the node writes (with `--trace-gc`, its GC trace).
    const log = process.env['BENCH_NODE_LOG'];
    const keep = (chunk: Buffer): void => {
      this.#output = (this.#output + chunk.toString()).slice(-400_000);
      if (log !== undefined && log !== '') appendFileSync(log, chunk);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static async start(options: MediaNodeProcessOptions): Promise<MediaNodeProcess> {
    // BENCH_NODE_ARGS: extra Node flags for the node under test (`--cpu-prof`, `--trace-gc`, ...).
    const extra = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
    const command = [process.execPath, ...extra, 'media-node/main.ts'];
    const [binary, ...args] = [...options.launcher, ...command];
    const child = spawn(binary as string, args, {
      cwd: ROOT,
      env: {
        ...process.env,
        SIPEDGE_MEDIA_LOCAL: 'true',
        SIPEDGE_MEDIA_SECRET: options.secret,
        SIPEDGE_MEDIA_CONTROL_PORT: String(options.controlPort),
        SIPEDGE_MEDIA_RTP_PORT_MIN: String(options.rtpPorts[0]),
        SIPEDGE_MEDIA_RTP_PORT_MAX: String(options.rtpPorts[1]),
        SIPEDGE_MEDIA_ICE_PORT_MIN: String(options.icePorts[0]),
        SIPEDGE_MEDIA_ICE_PORT_MAX: String(options.icePorts[1]),
        SIPEDGE_MEDIA_MAX_SESSIONS: '5000',
        SIPEDGE_MEDIA_LOG_LEVEL: 'warn',
        SIPEDGE_MEDIA_NODE_ID: 'bench',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const node = new MediaNodeProcess(child, `http://127.0.0.1:${options.controlPort}`, options.secret);
    const deadline = performance.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the media node exited (${child.exitCode}): ${node.#output}`);
      const health = await fetch(`${node.#baseUrl}/health`).catch(() => undefined);
      if (health?.ok) return node;
      if (performance.now() > deadline) {
        await node.stop();
        throw new Error(`the media node did not come up: ${node.#output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  cpuSeconds(): number {
    return processCpuSecondsOf(this.pid);
  }

  /**
   * What the node's `/metrics` says: packets it dropped (all reasons), frames its clock skipped
   * after a stall, and its longest event-loop delay since the previous scrape.
   */
  async scrape(): Promise<RelayScrape> {
    const text = await (await fetch(`${this.#baseUrl}/metrics`)).text();
    let dropped = 0;
    const droppedBy: Record<string, number> = {};
    for (const match of text.matchAll(/^sipedge_media_dropped_packets_total\{([^}]*)\} (\S+)$/gm)) {
      const count = Number(match[2]);
      dropped += count;
      const labels = Object.fromEntries([...(match[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((label) => [label[1], label[2]]));
      droppedBy[`${labels['where'] ?? '?'}/${labels['reason'] ?? '?'}`] = count;
    }
    const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? Number.NaN);
    return {
      dropped,
      droppedBy,
      skippedFrames: value(/^sipedge_media_ticker_skipped_frames_total (\S+)$/m),
      loopDelayMaxMs: value(/^sipedge_media_event_loop_delay_seconds\{quantile="1"\} (\S+)$/m) * 1000,
    };
  }

  get output(): string {
    return this.#output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
