/**
 * rtpengine as the reference (`../shared/reference/kamailio-rig/`): started with the rig's
 * `rtpengine.conf` (userspace, loopback), driven over its ng control protocol (bencode over UDP,
 * each message prefixed by a cookie), stopped by its pid. The ng port and media range are moved
 * off the rig's defaults so a rig someone else is running is not disturbed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { bdecode, bencode, type BValue } from './bencode.ts';

export const RIG_CONFIG = new URL('../../../../shared/reference/kamailio-rig/rtpengine.conf', import.meta.url).pathname;

export interface RtpengineOptions {
  readonly ngPort: number;
  readonly portMin: number;
  readonly portMax: number;
  /** A command it runs under (the media node's), empty for none. */
  readonly launcher: readonly string[];
}

export class Rtpengine {
  readonly process: ChildProcess;
  readonly #ng: Socket;
  readonly #ngPort: number;
  readonly #waiting = new Map<string, (reply: Record<string, BValue>) => void>();
  #cookie = 0;
  #log = '';

  private constructor(child: ChildProcess, ng: Socket, ngPort: number) {
    this.process = child;
    this.#ng = ng;
    this.#ngPort = ngPort;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString()).slice(-4000);
    });
    ng.on('message', (message) => {
      const space = message.indexOf(0x20);
      const cookie = message.toString('latin1', 0, space);
      const waiter = this.#waiting.get(cookie);
      if (waiter === undefined) return;
      this.#waiting.delete(cookie);
      waiter(bdecode(message.subarray(space + 1)) as Record<string, BValue>);
    });
  }

  /** Where rtpengine is, or why it is not usable. */
  static available(): { ok: true; binary: string } | { ok: false; why: string } {
    const which = spawnSync('sh', ['-c', 'command -v rtpengine'], { encoding: 'utf8' });
    const binary = (which.stdout ?? '').trim();
    if (which.status !== 0 || binary === '') return { ok: false, why: 'rtpengine is not installed (apt-get install -y --no-install-recommends rtpengine-daemon)' };
    if (!existsSync(RIG_CONFIG)) return { ok: false, why: `the rig's config ${RIG_CONFIG} is missing` };
    return { ok: true, binary };
  }

  static async start(binary: string, options: RtpengineOptions): Promise<Rtpengine> {
    const command = [
      binary,
      `--config-file=${RIG_CONFIG}`,
      '--config-section=rtpengine',
      '--foreground',
      '--log-stderr',
      '--log-level=4',
      `--listen-ng=127.0.0.1:${options.ngPort}`,
      `--port-min=${options.portMin}`,
      `--port-max=${options.portMax}`,
    ];
    const [program, ...args] = [...options.launcher, ...command];
    const child = spawn(program as string, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const ng = createSocket('udp4');
    await new Promise<void>((resolve) => ng.bind(0, '127.0.0.1', resolve));
    const engine = new Rtpengine(child, ng, options.ngPort);
    const deadline = performance.now() + 8000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`rtpengine exited (${child.exitCode}): ${engine.#log}`);
      const pong = await engine.command({ command: 'ping' }, 300).catch(() => undefined);
      if (pong?.['result'] === 'pong') return engine;
      if (performance.now() > deadline) {
        await engine.stop();
        throw new Error(`rtpengine did not answer ng ping: ${engine.#log}`);
      }
    }
  }

  command(message: Readonly<Record<string, BValue>>, timeoutMs = 3000): Promise<Record<string, BValue>> {
    const cookie = `c${++this.#cookie}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(cookie);
        reject(new Error(`rtpengine: no reply to ${String(message['command'])} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(cookie, (reply) => {
        clearTimeout(timer);
        if (reply['result'] === 'error') reject(new Error(`rtpengine: ${String(reply['error-reason'])}`));
        else resolve(reply);
      });
      this.#ng.send(`${cookie} ${bencode(message)}`, this.#ngPort, '127.0.0.1');
    });
  }

  get pid(): number {
    return this.process.pid ?? 0;
  }

  get log(): string {
    return this.#log;
  }

  async stop(): Promise<void> {
    this.#ng.close();
    if (this.process.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
