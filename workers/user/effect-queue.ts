/**
 * The order in which a SipUser object performs I/O: one queue of tasks (deliveries to devices, RPC
 * to other users' objects), each run after the ones queued before it. A step decides synchronously
 * and stores its result before anything is sent, so the queue never holds state; it keeps the
 * messages of one object in the order its steps produced them.
 *
 * No entry point that other objects call waits for this queue: two objects that wait for each
 * other's queues would deadlock when their users call each other at once.
 */
import { errorFields, type Logger } from '../logger.ts';

export class EffectQueue {
  #tail: Promise<void> = Promise.resolve();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Runs `task` after every task queued before it; a failure is logged, never thrown. */
  push(task: () => Promise<void>): void {
    this.#tail = this.#tail.then(task).catch((error: unknown) => this.#log.error('effects.failed', errorFields(error)));
  }

  /** Resolves once every task queued so far, and every task they queued, has run. */
  async drain(): Promise<void> {
    for (;;) {
      const tail = this.#tail;
      await tail;
      if (tail === this.#tail) return;
    }
  }
}
