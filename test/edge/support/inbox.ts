/** Things that arrive (calls, messages, session states), taken in order; every wait has a timeout. */
export class Inbox<T> {
  readonly #queue: T[] = [];
  readonly #waiters: ((item: T) => void)[] = [];
  readonly #what: string;

  constructor(what: string) {
    this.#what = what;
  }

  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#queue.push(item);
  }

  next(timeoutMs = 10_000): Promise<T> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new Error(`${this.#what}: nothing within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (item: T): void => {
        clearTimeout(timer);
        resolve(item);
      };
      this.#waiters.push(waiter);
    });
  }

  /** The next item for which `matches` holds; the ones skipped are dropped. */
  async until(matches: (item: T) => boolean, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const item = await this.next(Math.max(1, deadline - Date.now()));
      if (matches(item)) return item;
    }
  }
}
