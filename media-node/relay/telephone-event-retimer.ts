/**
 * RFC 4733 events across a transcoding path, where the two legs' streams have different clocks and
 * unrelated timestamps. An event's packets all carry the timestamp of the event's start and a
 * growing duration (§2.5.1.2, §2.5.1.3); the end packet is sent three times (§2.5.1.4). So each new
 * event start seen on the incoming leg is anchored to the outgoing stream's current timestamp, every
 * packet of that event reuses the anchor, and the duration is rescaled from the incoming clock to the
 * outgoing one (§2.3.5: it counts timestamp units). The payload is copied, never edited in place.
 */
import { rescaleTelephoneEventDuration, TELEPHONE_EVENT_SIZE } from '../rtp/index.ts';

export interface RetimedEvent {
  readonly timestamp: number;
  readonly payload: Uint8Array;
}

export class TelephoneEventRetimer {
  readonly #fromClockRate: number;
  readonly #toClockRate: number;
  #sourceTimestamp: number | undefined;
  #anchor = 0;

  constructor(fromClockRate: number, toClockRate: number) {
    this.#fromClockRate = fromClockRate;
    this.#toClockRate = toClockRate;
  }

  /** Retimes one event packet; `outgoingTimestamp` is where the outgoing stream is now. Undefined for a runt. */
  retime(sourceTimestamp: number, payload: Uint8Array, outgoingTimestamp: number): RetimedEvent | undefined {
    if (payload.length < TELEPHONE_EVENT_SIZE) return undefined;
    if (sourceTimestamp !== this.#sourceTimestamp) {
      this.#sourceTimestamp = sourceTimestamp;
      this.#anchor = outgoingTimestamp;
    }
    const copy = payload.slice();
    if (this.#fromClockRate !== this.#toClockRate) rescaleTelephoneEventDuration(copy, this.#fromClockRate, this.#toClockRate);
    return { timestamp: this.#anchor, payload: copy };
  }
}
