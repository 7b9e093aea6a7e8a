/**
 * What one leg has been sent so far, so that a path built to replace another (a re-INVITE that
 * changes a codec or its payload type numbers) carries the same RTP stream on: the same SSRC, the
 * next sequence number, and a timestamp moved on by the time that passed (RFC 3550 §5.1: a jump in
 * either makes receivers count loss or flush their jitter buffer; §8.2: a translator keeps its
 * own SSRC whatever feeds it).
 *
 * Every packet a path hands its outgoing leg passes through `through`, which notes the last
 * sequence number and the newest timestamp sent (an RFC 4733 event carries its start timestamp,
 * older than the audio around it, so the newest one counts) with the time it was sent.
 */
import { addSequence, addTimestamp, randomStreamStart, timestampDelta } from '../rtp/index.ts';
import type { OutboundLeg } from './media-path.ts';

export interface StreamStart {
  readonly ssrc: number;
  readonly firstSequenceNumber: number;
  readonly firstTimestamp: number;
}

export class OutgoingStream {
  readonly ssrc: number;
  readonly #start: StreamStart;
  #sequenceNumber: number | undefined;
  /** The newest timestamp sent, when and at which clock rate (fields rather than an object per packet). */
  #timestamp: { value: number; atMs: number; clockRate: number } | undefined;

  constructor(start: StreamStart = randomStreamStart()) {
    this.ssrc = start.ssrc >>> 0;
    this.#start = { ...start, ssrc: this.ssrc };
  }

  /** `out`, noting each packet it sends; `clockRate` is the outgoing format's, `now` in ms. */
  through(out: OutboundLeg, clockRate: number, now: () => number): OutboundLeg {
    return {
      send: (header, payload) => {
        if (!out.send(header, payload)) return false;
        this.#sequenceNumber = header.sequenceNumber;
        const last = this.#timestamp;
        if (last === undefined) this.#timestamp = { value: header.timestamp, atMs: now(), clockRate };
        else if (last.clockRate !== clockRate || timestampDelta(header.timestamp, last.value) > 0) {
          last.value = header.timestamp;
          last.atMs = now();
          last.clockRate = clockRate;
        }
        return true;
      },
    };
  }

  /**
   * Where a path built at `nowMs` for a format of `clockRate` starts: right after the last packet
   * sent, its timestamp at least one 20 ms frame past the newest one sent, more if more time has
   * passed; the stream's first values if nothing was sent yet.
   */
  continuation(nowMs: number, clockRate: number): StreamStart {
    const sequenceNumber = this.#sequenceNumber;
    const timestamp = this.#timestamp;
    if (sequenceNumber === undefined || timestamp === undefined) return this.#start;
    const frameTicks = Math.round(clockRate / 50);
    const elapsedTicks = Math.round(((nowMs - timestamp.atMs) * clockRate) / 1000);
    // A change of clock rate cannot carry the old timestamp's meaning over; it still moves forward.
    return {
      ssrc: this.ssrc,
      firstSequenceNumber: addSequence(sequenceNumber, 1),
      firstTimestamp: addTimestamp(timestamp.value, Math.max(frameTicks, elapsedTicks)),
    };
  }
}
