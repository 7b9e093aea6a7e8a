/**
 * The quality of one call direction over time: a sample every interval (5 s by default) of what
 * arrived in that interval (packets, loss, as RFC 3550 A.3 counts them between two snapshots), the
 * interarrival jitter and the RTCP round trip at that moment, and an E-model MOS (G.107) for the
 * interval's loss. The newest `limit` samples are kept (720: an hour at 5 s), oldest dropped first.
 * Time is passed in; nothing reads a clock.
 */
import { estimateMos, type CodecImpairment } from './e-model.ts';
import type { ReceiveSnapshot } from './receive-statistics.ts';

export interface QualitySample {
  /** Seconds from the start of the series to the end of the interval. */
  readonly t: number;
  /** Packets counted in the interval. */
  readonly packets: number;
  /** Packets the interval's sequence numbers say were sent and did not arrive. */
  readonly lost: number;
  /** Lost as a percentage of expected in the interval, 0-100. */
  readonly lossPercent: number;
  readonly jitterMs: number;
  /** Null until an RTCP report has carried it. */
  readonly roundTripMs: number | null;
  /** Null for an interval without media (hold, silence suppression, a stalled sender). */
  readonly mos: number | null;
}

export interface SampleDelay {
  readonly roundTripMs: number | undefined;
  /** Playout delay on this path; default twice the measured jitter. */
  readonly jitterBufferMs?: number;
}

export const DEFAULT_SAMPLE_INTERVAL_MS = 5_000;
export const DEFAULT_SAMPLE_LIMIT = 720;

export class QualitySeries {
  readonly intervalMs: number;
  readonly limit: number;
  readonly #startMs: number;
  readonly #samples: QualitySample[] = [];
  #lastMs: number;
  #packets = 0;
  #expected = 0;

  constructor(startMs: number, intervalMs = DEFAULT_SAMPLE_INTERVAL_MS, limit = DEFAULT_SAMPLE_LIMIT) {
    this.#startMs = startMs;
    this.#lastMs = startMs;
    this.intervalMs = intervalMs;
    this.limit = limit;
  }

  /** Milliseconds since the last sample (or the start). */
  elapsedMs(nowMs: number): number {
    return nowMs - this.#lastMs;
  }

  /** Closes the interval ending at `nowMs` with the receiver's cumulative snapshot. */
  sample(snapshot: ReceiveSnapshot, codec: CodecImpairment, delay: SampleDelay, nowMs: number): QualitySample {
    const packets = Math.max(0, snapshot.packets - this.#packets);
    const expected = Math.max(0, snapshot.expected - this.#expected);
    this.#packets = snapshot.packets;
    this.#expected = snapshot.expected;
    this.#lastMs = nowMs;
    const lost = Math.max(0, expected - packets);
    const lossPercent = expected > 0 ? (100 * lost) / expected : 0;
    const oneWayDelayMs = (delay.roundTripMs ?? 0) / 2 + (delay.jitterBufferMs ?? 2 * snapshot.jitterMs) + 20;
    const sample: QualitySample = {
      t: round((nowMs - this.#startMs) / 1000),
      packets,
      lost,
      lossPercent: round(lossPercent),
      jitterMs: round(snapshot.jitterMs),
      roundTripMs: delay.roundTripMs === undefined ? null : round(delay.roundTripMs),
      mos: packets === 0 ? null : round(estimateMos({ codec, packetLossPercent: lossPercent, oneWayDelayMs })),
    };
    this.#samples.push(sample);
    if (this.#samples.length > this.limit) this.#samples.splice(0, this.#samples.length - this.limit);
    return sample;
  }

  /** The samples kept, oldest first (a copy). */
  samples(): QualitySample[] {
    return [...this.#samples];
  }
}

/** Two decimals: the figures travel as JSON, and a chart needs no more. */
function round(value: number): number {
  return Math.round(value * 100) / 100;
}
