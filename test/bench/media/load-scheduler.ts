/**
 * Paces every generated call at 50 packets a second each way with one timer for all of them,
 * the calls' slots spread evenly over the 20 ms frame so the load is smooth rather than a burst
 * every frame. A late timer is caught up (packets go late, as a loaded phone's would), and sends
 * more than `lateSendMs` behind their slot are counted: that is the generator failing to keep up,
 * which must be told apart from the relay failing.
 */
import type { LoadCall } from './load-call.ts';

interface Slot {
  readonly call: LoadCall;
  nextAtMs: number;
  index: number;
}

export class LoadScheduler {
  readonly lateSendMs: number;
  readonly #slots: Slot[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sends = 0;
  #lateSends = 0;
  #errors = 0;

  constructor(lateSendMs = 10) {
    this.lateSendMs = lateSendMs;
  }

  get calls(): readonly LoadCall[] {
    return this.#slots.map((slot) => slot.call);
  }

  add(call: LoadCall): void {
    // The golden ratio spreads any number of calls evenly over the frame.
    const offset = ((this.#slots.length * 0.618034) % 1) * 20;
    this.#slots.push({ call, nextAtMs: performance.now() + offset, index: 0 });
    this.#start();
  }

  remove(call: LoadCall): void {
    const at = this.#slots.findIndex((slot) => slot.call === call);
    if (at >= 0) this.#slots.splice(at, 1);
  }

  /** Sends and late sends since the last call. */
  takeCounts(): { sends: number; lateSends: number; errors: number } {
    const counts = { sends: this.#sends, lateSends: this.#lateSends, errors: this.#errors };
    this.#sends = 0;
    this.#lateSends = 0;
    this.#errors = 0;
    return counts;
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #start(): void {
    if (this.#timer === undefined) this.#timer = setTimeout(() => this.#tick(), 0);
  }

  #tick(): void {
    const now = performance.now();
    let earliest = Infinity;
    for (const slot of this.#slots) {
      while (slot.nextAtMs <= now) {
        this.#sends += 2;
        if (now - slot.nextAtMs > this.lateSendMs) this.#lateSends += 2;
        try {
          slot.call.sendFromBrowser(slot.index, now);
          slot.call.sendFromPbx(slot.index, now);
        } catch {
          this.#errors++;
        }
        slot.index++;
        slot.nextAtMs += 20;
      }
      if (slot.nextAtMs < earliest) earliest = slot.nextAtMs;
    }
    if (this.#slots.length === 0) {
      this.#timer = undefined;
      return;
    }
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, earliest - performance.now()));
  }
}
