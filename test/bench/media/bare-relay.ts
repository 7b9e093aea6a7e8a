/**
 * The bare Node relay (`bare-relay-main.ts`) in a process of its own, under the same launcher as
 * the media node, set up and torn down call by call over its stdin and stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const MAIN = new URL('./bare-relay-main.ts', import.meta.url).pathname;

export interface RelayPorts {
  readonly towardBrowser: number;
  readonly towardPbx: number;
}

export class BareRelay {
  readonly process: ChildProcess;
  readonly #waiting = new Map<string, (reply: { towardBrowser?: number; towardPbx?: number; error?: string }) => void>();

  private constructor(child: ChildProcess) {
    this.process = child;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const reply = JSON.parse(line) as { id: string; towardBrowser?: number; towardPbx?: number; error?: string };
      this.#waiting.get(reply.id)?.(reply);
      this.#waiting.delete(reply.id);
    });
  }

  static start(options: { readonly ports: readonly [number, number]; readonly launcher: readonly string[] }): BareRelay {
    const [program, ...args] = [...options.launcher, process.execPath, MAIN];
    const child = spawn(program as string, args, {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, BARE_RELAY_PORT_MIN: String(options.ports[0]), BARE_RELAY_PORT_MAX: String(options.ports[1]) },
    });
    return new BareRelay(child);
  }

  get pid(): number {
    return this.process.pid ?? 0;
  }

  async open(id: string): Promise<RelayPorts> {
    const reply = await this.#command(id, { open: id });
    if (reply.towardBrowser === undefined || reply.towardPbx === undefined) throw new Error(`bare relay: ${reply.error ?? 'no ports'}`);
    return { towardBrowser: reply.towardBrowser, towardPbx: reply.towardPbx };
  }

  async close(id: string): Promise<void> {
    await this.#command(id, { close: id });
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.stdin?.end();
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  #command(id: string, command: Record<string, string>): Promise<{ towardBrowser?: number; towardPbx?: number; error?: string }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`bare relay: no reply for ${id}`));
      }, 5000);
      this.#waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.process.stdin?.write(`${JSON.stringify(command)}\n`);
    });
  }
}
