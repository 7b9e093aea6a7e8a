/**
 * DTMF the node sends toward the PBX on the edge's request (a browser's SIP INFO turned into RFC 4733
 * events): one digit at a time, on the frame clock, in the PBX leg's RTP stream.
 *
 * RFC 4733 §2.5.1: every packet of an event carries the event's start timestamp and the duration so
 * far; the first has the marker bit (§2.5.1.2), the duration grows by one packet's time per packet
 * (§2.5.1.3), and the end is sent three times with the E bit (§2.5.1.4). Digits queued behind one
 * another are three frames apart, so a receiver sees separate events with separate timestamps.
 * Durations beyond 16 bits of the event's clock are held at 65,535 units (no §2.5.1.3 segments).
 */
import { DTMF_KEYS, type TelephoneEvent } from '../rtp/index.ts';

/** Volume of the events sent, in -dBm0 (RFC 4733 §2.3.4; 10 is what most PBXs send). */
const VOLUME = 10;
const END_REPEATS = 3;
const GAP_FRAMES = 3;
const FRAME_MS = 20;
const QUEUE_LIMIT = 32;

/** Where the events go: the PBX-bound path, which numbers and stamps them in its stream. */
export interface TelephoneEventSink {
  /** Sends one event packet; `start` for the first packet of an event (a new start timestamp, the marker bit). */
  sendTelephoneEvent(event: TelephoneEvent, start: boolean, nowMs: number): boolean;
}

interface QueuedDigit {
  readonly event: number;
  /** In units of the event clock. */
  readonly durationTicks: number;
  readonly frameTicks: number;
}

interface Playing extends QueuedDigit {
  sent: number;
  ends: number;
}

export class DtmfQueueFullError extends Error {
  override readonly name = 'DtmfQueueFullError';
}

export class DtmfSender {
  readonly #queue: QueuedDigit[] = [];
  #playing: Playing | undefined;
  #gap = 0;

  /** Digits waiting, the one being sent included. */
  get pending(): number {
    return this.#queue.length + (this.#playing === undefined ? 0 : 1);
  }

  /** Queues `digit` (one of `0-9 * # A-D`) for `durationMs` at the event clock `clockRate`. */
  enqueue(digit: string, durationMs: number, clockRate: number): void {
    const event = DTMF_KEYS.indexOf(digit.toUpperCase());
    if (digit.length !== 1 || event < 0) throw new RangeError(`not a DTMF digit: ${digit}`);
    if (this.pending >= QUEUE_LIMIT) throw new DtmfQueueFullError(`${QUEUE_LIMIT} digits are already waiting`);
    const frameTicks = Math.round((clockRate * FRAME_MS) / 1000);
    const durationTicks = Math.min(0xffff, Math.max(frameTicks, Math.round((durationMs * clockRate) / 1000)));
    this.#queue.push({ event, durationTicks, frameTicks });
  }

  /** One frame of the clock: at most one packet. */
  onFrame(sink: TelephoneEventSink, nowMs: number): void {
    if (this.#gap > 0) {
      this.#gap--;
      return;
    }
    let playing = this.#playing;
    if (playing === undefined) {
      const next = this.#queue.shift();
      if (next === undefined) return;
      playing = { ...next, sent: 0, ends: 0 };
      this.#playing = playing;
    }
    const start = playing.sent === 0;
    if (playing.sent < playing.durationTicks) {
      playing.sent = Math.min(playing.durationTicks, playing.sent + playing.frameTicks);
      // The last step of the duration is the first end packet.
      const end = playing.sent >= playing.durationTicks;
      if (end) playing.ends = 1;
      sink.sendTelephoneEvent({ event: playing.event, end, volume: VOLUME, duration: playing.sent }, start, nowMs);
    } else {
      playing.ends++;
      sink.sendTelephoneEvent({ event: playing.event, end: true, volume: VOLUME, duration: playing.sent }, false, nowMs);
    }
    if (playing.ends >= END_REPEATS) {
      this.#playing = undefined;
      this.#gap = GAP_FRAMES;
    }
  }
}
