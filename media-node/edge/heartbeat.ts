/**
 * The node's heartbeat to the edge: on start and every `intervalMs`, a signed POST with what the
 * edge needs to choose a node for a call (where to reach it, region, capacity, current load). The
 * edge stops using a node that misses heartbeats. A failed beat is logged, never fatal, and the
 * next beat is the retry; the log says so once per change of outcome rather than every beat.
 */
import { silentLogger, type Logger } from '../logger.ts';
import type { EdgeClient } from './edge-client.ts';

export interface HeartbeatBody {
  readonly nodeId: string;
  readonly region: string;
  /** 'stopping': the node takes no new calls (its last beat, at shutdown). */
  readonly state: 'up' | 'stopping';
  /** The control API's base URL, as the edge reaches it. */
  readonly controlUrl: string;
  /** The address the PBX legs use (in the PBX's SDP). */
  readonly pbxAddress: string;
  readonly capacity: number;
  readonly sessions: number;
  /** `sessions / capacity`. */
  readonly load: number;
  /** Fraction of one core the process used over the last minute, when known. */
  readonly cpu: number | undefined;
  readonly startedAt: string;
  readonly sentAt: string;
}

export interface HeartbeatOptions {
  readonly client: EdgeClient;
  readonly url: string;
  readonly intervalMs: number;
  readonly body: () => Omit<HeartbeatBody, 'sentAt'>;
  readonly logger?: Logger;
}

export interface HeartbeatCounters {
  sent: number;
  failed: number;
  /** The status of the last beat (0: no response). */
  lastStatus: number | undefined;
}

export class Heartbeat {
  readonly counters: HeartbeatCounters = { sent: 0, failed: 0, lastStatus: undefined };
  readonly #options: HeartbeatOptions;
  readonly #logger: Logger;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #beating: Promise<void> = Promise.resolve();

  constructor(options: HeartbeatOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#beat();
  }

  /** Stops beating and waits for a beat under way. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#beating;
  }

  /** One beat now, outside the schedule (the last one, at shutdown). */
  async beatOnce(): Promise<void> {
    await this.#send();
  }

  #beat(): void {
    this.#beating = this.#send().finally(() => {
      if (!this.#running) return;
      this.#timer = setTimeout(() => this.#beat(), this.#options.intervalMs);
      this.#timer.unref();
    });
  }

  async #send(): Promise<void> {
    let body: HeartbeatBody;
    try {
      body = { ...this.#options.body(), sentAt: new Date().toISOString() };
    } catch (error) {
      this.#logger.error('heartbeat body failed', { error: String(error) });
      return;
    }
    const response = await this.#options.client.post(this.#options.url, body);
    const changed = response.status !== this.counters.lastStatus;
    this.counters.lastStatus = response.status;
    if (response.ok) {
      this.counters.sent++;
      if (changed) this.#logger.info('heartbeat accepted by the edge', { status: response.status, url: this.#options.url });
      return;
    }
    this.counters.failed++;
    if (!changed) return;
    const fields = { status: response.status, url: this.#options.url, error: response.error };
    // The edge's side of heartbeats arrives later; until then it answers 404.
    if (response.status === 404) this.#logger.warn('heartbeat: the edge has no heartbeat endpoint yet (404); carrying on', fields);
    else this.#logger.warn('heartbeat failed; carrying on', fields);
  }
}
