/**
 * The set of generated calls a scheduler runs, grown and shrunk between measurement windows:
 * new calls are set up a few at a time (as an edge would, concurrently but not all at once) and
 * join the pacing as each connects; surplus calls leave the pacing first, then hang up.
 */
import type { LoadCall } from './load-call.ts';
import type { LoadScheduler } from './load-scheduler.ts';

export class CallPool<T extends LoadCall> {
  readonly #open: (serial: number) => Promise<T>;
  readonly #scheduler: LoadScheduler;
  readonly #calls: T[] = [];
  readonly #parallel: number;
  #serial = 0;
  setupFailures = 0;

  constructor(scheduler: LoadScheduler, open: (serial: number) => Promise<T>, parallel = 6) {
    this.#scheduler = scheduler;
    this.#open = open;
    this.#parallel = parallel;
  }

  get size(): number {
    return this.#calls.length;
  }

  async resize(target: number): Promise<void> {
    while (this.#calls.length > target) {
      const call = this.#calls.pop() as T;
      this.#scheduler.remove(call);
      await call.close();
    }
    let failuresInARow = 0;
    while (this.#calls.length < target) {
      const batch = Math.min(this.#parallel, target - this.#calls.length);
      const opened = await Promise.allSettled(Array.from({ length: batch }, () => this.#open(++this.#serial)));
      for (const result of opened) {
        if (result.status === 'fulfilled') {
          this.#calls.push(result.value);
          this.#scheduler.add(result.value);
          failuresInARow = 0;
        } else {
          this.setupFailures++;
          failuresInARow++;
          if (failuresInARow > 10) throw new Error(`call set-up keeps failing: ${String(result.reason)}`);
        }
      }
    }
  }
}
