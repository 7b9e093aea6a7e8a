/**
 * CPU per call: how much of one core a relaying call costs, measured on the live node. Every
 * `intervalMs` the sampler reads the process's CPU time and the seconds sessions have spent
 * relaying; over the last `windowMs` the estimate is CPU seconds spent per session-second
 * (0.015 is 1.5 % of a core per call). The node's idle cost is included, so the figure is a little
 * high at low load and converges as calls are added.
 */

export interface CpuSamplerOptions {
  /** Cumulative CPU seconds (user + system) of the process; default `process.cpuUsage()`. */
  readonly cpuSeconds?: () => number;
  /** Cumulative seconds sessions have spent relaying. */
  readonly sessionSeconds: () => number;
  /** Milliseconds, monotonic; default `performance.now()`. */
  readonly now?: () => number;
  /** Default 5 s. */
  readonly intervalMs?: number;
  /** Default 60 s. */
  readonly windowMs?: number;
}

interface CpuSample {
  readonly atMs: number;
  readonly cpuSeconds: number;
  readonly sessionSeconds: number;
}

export function processCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

export class CpuSampler {
  readonly #cpuSeconds: () => number;
  readonly #sessionSeconds: () => number;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #windowMs: number;
  #samples: CpuSample[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: CpuSamplerOptions) {
    this.#cpuSeconds = options.cpuSeconds ?? processCpuSeconds;
    this.#sessionSeconds = options.sessionSeconds;
    this.#now = options.now ?? (() => performance.now());
    this.#intervalMs = options.intervalMs ?? 5000;
    this.#windowMs = options.windowMs ?? 60_000;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Takes one sample (the timer does this; tests call it directly). */
  sample(): void {
    const sample = { atMs: this.#now(), cpuSeconds: this.#cpuSeconds(), sessionSeconds: this.#sessionSeconds() };
    this.#samples.push(sample);
    const oldest = sample.atMs - this.#windowMs;
    while (this.#samples.length > 2 && (this.#samples[1] as CpuSample).atMs <= oldest) this.#samples.shift();
  }

  /** Fraction of one core per relaying call over the window; undefined until calls have relayed in it. */
  get perCall(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (first === undefined || last === undefined || first === last) return undefined;
    const sessionSeconds = last.sessionSeconds - first.sessionSeconds;
    if (sessionSeconds <= 0) return undefined;
    return (last.cpuSeconds - first.cpuSeconds) / sessionSeconds;
  }

  /** Fraction of one core the whole process used over the window. */
  get utilisation(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (first === undefined || last === undefined || last.atMs <= first.atMs) return undefined;
    return (last.cpuSeconds - first.cpuSeconds) / ((last.atMs - first.atMs) / 1000);
  }
}
