/**
 * The quality figures of one call direction, as the edge attaches them to the call's trace:
 * counts and loss and jitter from the receiver (RFC 3550 A.3, A.8), the round trip from RTCP
 * (RFC 3550 §6.4.1), and an E-model MOS (G.107) from loss and the estimated mouth-to-ear delay.
 */
import { estimateMos, type CodecImpairment } from './e-model.ts';
import type { ReceiveSnapshot } from './receive-statistics.ts';

export interface DirectionQuality {
  readonly packets: number;
  readonly octets: number;
  readonly expected: number;
  readonly lost: number;
  readonly lossPercent: number;
  readonly jitterMs: number;
  /** Undefined until an RTCP report has carried it. */
  readonly roundTripMs: number | undefined;
  /** The one-way delay the MOS assumed. */
  readonly oneWayDelayMs: number;
  readonly mos: number;
}

export interface DelayBudget {
  /** Round trip of the network path, from RTCP; half of it counts as one-way delay. */
  readonly roundTripMs?: number;
  /** Playout delay of the jitter buffer on this path; default twice the measured jitter. */
  readonly jitterBufferMs?: number;
  /** Packetisation: one packet's worth of audio; default 20 ms. */
  readonly packetMs?: number;
  /** Codec algorithmic delay (Opus 6.5 ms look-ahead at 20 ms frames, G.711 none); default 0. */
  readonly codecDelayMs?: number;
}

export function directionQuality(receive: ReceiveSnapshot, codec: CodecImpairment, delay: DelayBudget = {}): DirectionQuality {
  const oneWayDelayMs =
    (delay.roundTripMs ?? 0) / 2 + (delay.jitterBufferMs ?? 2 * receive.jitterMs) + (delay.packetMs ?? 20) + (delay.codecDelayMs ?? 0);
  return {
    packets: receive.packets,
    octets: receive.octets,
    expected: receive.expected,
    lost: receive.lost,
    lossPercent: receive.lossPercent,
    jitterMs: receive.jitterMs,
    roundTripMs: delay.roundTripMs,
    oneWayDelayMs,
    mos: estimateMos({ codec, packetLossPercent: receive.lossPercent, oneWayDelayMs }),
  };
}
