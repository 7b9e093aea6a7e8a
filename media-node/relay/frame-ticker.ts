/**
 * The media node's frame clock: one real timer for every call on the node, beating every 20 ms
 * (one G.711 or Opus frame). Paths that time their own output (the jitter buffer on the transcoding
 * path) and per-call housekeeping (media timeouts, RTCP) run on it; nothing in the relay schedules
 * per packet or per call.
 *
 * Frames are counted from when the ticker started, so a late timer (a busy event loop, a shared
 * core) is caught up with back-to-back frames and the beat does not drift; after a stall longer than
 * `maxCatchUpFrames`, the oldest frames are skipped and counted instead of being played in a burst.
 * A listener that throws is logged and counted, and the other listeners still get their frame: one
 * failing call must never stall another.
 */
import type { Clock } from '../../shared/clock/index.ts';
import { systemClock } from '../../shared/clock/index.ts';
import { silentLogger, type Logger } from '../logger.ts';

export interface FrameListener {
  /** One frame is due; `nowMs` is its nominal time on the ticker's clock. */
  onFrame(nowMs: number): void;
  /** Told when its own `onFrame` threw, after the ticker has logged and counted it. */
  onFrameError?(error: unknown): void;
}

export interface FrameTickerOptions {
  /** Default 20 ms. */
  readonly frameMs?: number;
  /** Frames played back to back after a late timer before the rest are skipped; default 10 (200 ms, the jitter buffer's default ceiling). */
  readonly maxCatchUpFrames?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface FrameTickerCounters {
  frames: number;
  skippedFrames: number;
  listenerErrors: number;
}

export class FrameTicker {
  readonly frameMs: number;
  readonly counters: FrameTickerCounters = { frames: 0, skippedFrames: 0, listenerErrors: 0 };
  readonly #maxCatchUp: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #listeners = new Set<FrameListener>();
  #origin = 0;
  /** Index of the next frame to run, counted from the origin. */
  #next = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: FrameTickerOptions = {}) {
    this.frameMs = options.frameMs ?? 20;
    this.#maxCatchUp = options.maxCatchUpFrames ?? 10;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Starts the beat with the first listener. */
  add(listener: FrameListener): void {
    this.#listeners.add(listener);
    if (this.#timer === undefined) {
      this.#origin = this.#clock.now();
      this.#next = 1;
      this.#schedule();
    }
  }

  /** Stops the beat with the last listener. */
  remove(listener: FrameListener): void {
    this.#listeners.delete(listener);
    if (this.#listeners.size === 0) this.stop();
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    const due = this.#origin + this.#next * this.frameMs;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, due - this.#clock.now()));
    // The ticker never keeps the process alive on its own: sockets and the service do.
    this.#timer.unref();
  }

  #fire(): void {
    const now = this.#clock.now();
    const latest = Math.floor((now - this.#origin) / this.frameMs);
    if (latest - this.#next + 1 > this.#maxCatchUp) {
      const skip = latest - this.#next + 1 - this.#maxCatchUp;
      this.counters.skippedFrames += skip;
      this.#next += skip;
    }
    while (this.#next <= latest && this.#listeners.size > 0) {
      this.#runFrame(this.#origin + this.#next * this.frameMs);
      this.#next++;
    }
    if (this.#listeners.size > 0) this.#schedule();
    else this.#timer = undefined;
  }

  #runFrame(nowMs: number): void {
    this.counters.frames++;
    for (const listener of this.#listeners) {
      try {
        listener.onFrame(nowMs);
      } catch (error) {
        this.counters.listenerErrors++;
        this.#logger.error('frame listener threw', { error: String(error) });
        try {
          listener.onFrameError?.(error);
        } catch {
          // A listener's error handler failing must not reach the others either.
        }
      }
    }
  }
}
