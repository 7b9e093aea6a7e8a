/**
 * Tells the edge that a session ended: one it did not ask for (media timeout, browser gone, an
 * error, the node shutting down) so it can BYE both dialogs, and every one for the call's record.
 * The report names the session by the edge's own id and carries the final quality figures and the
 * quality samples of each direction. Each report is retried a few
 * times; shutdown waits for those under way, up to a deadline.
 */
import { silentLogger, type Logger } from '../logger.ts';
import type { SessionEndReport } from '../control/index.ts';
import type { EdgeClient } from './edge-client.ts';

export interface SessionEndReporterOptions {
  readonly client: EdgeClient;
  /** Where reports go; without one they are only logged. */
  readonly url: string | undefined;
  readonly nodeId: string;
  /** Default 0.25, 1 and 3 s: four attempts in about five seconds. */
  readonly retryDelaysMs?: readonly number[];
  readonly logger?: Logger;
}

export interface SessionEndReporterCounters {
  delivered: number;
  failed: number;
}

export class SessionEndReporter {
  readonly counters: SessionEndReporterCounters = { delivered: 0, failed: 0 };
  readonly #options: SessionEndReporterOptions;
  readonly #logger: Logger;
  readonly #pending = new Set<Promise<void>>();
  readonly #abort = new AbortController();

  constructor(options: SessionEndReporterOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  report(report: SessionEndReport): void {
    const url = this.#options.url;
    if (url === undefined) {
      this.#logger.warn('session ended with no edge to tell', { call: report.sessionId, reason: report.reason });
      return;
    }
    const body = { nodeId: this.#options.nodeId, ...report };
    const sending = this.#options.client
      .postWithRetries(url, body, { retryDelaysMs: this.#options.retryDelaysMs ?? [250, 1000, 3000], signal: this.#abort.signal })
      .then((response) => {
        if (response.ok) {
          this.counters.delivered++;
          this.#logger.info('session end reported to the edge', { call: report.sessionId, reason: report.reason, attempts: response.attempts });
        } else {
          this.counters.failed++;
          this.#logger.error('session end not reported to the edge', {
            call: report.sessionId,
            reason: report.reason,
            attempts: response.attempts,
            status: response.status,
            error: response.error,
          });
        }
      })
      .finally(() => this.#pending.delete(sending));
    this.#pending.add(sending);
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** Waits for the reports under way; past `deadlineMs`, stops retrying and waits for the last attempts. */
  async flush(deadlineMs: number): Promise<void> {
    const timer = setTimeout(() => this.#abort.abort(), deadlineMs);
    try {
      while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    } finally {
      clearTimeout(timer);
    }
  }
}
