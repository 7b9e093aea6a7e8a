/**
 * An estimated MOS from the ITU-T G.107 E-model, simplified for what a media node can measure.
 *
 *   R = Ro - Is - Id - Ie,eff + A                           (G.107 §7, eq. 7-1)
 *
 * - Ro - Is is 93.2, its value when every other parameter has its G.107 default value: a relay
 *   cannot know the handsets' loudness ratings, room noise or sidetone.
 * - Id, the delay impairment, uses the fit of Cole and Rosenbluth ("Voice over IP performance
 *   monitoring", ACM SIGCOMM CCR 31(2), 2001) to G.107 with default echo parameters:
 *   Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3), d the one-way mouth-to-ear delay in ms.
 * - Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl)     (G.107 §7, equipment impairment)
 *   with Ie and Bpl per codec from ITU-T G.113 Appendix I where tabulated.
 * - A, the advantage factor, is 0, as G.107 gives for conventional wired access.
 * MOS from R by G.107 Annex B.
 */

export interface CodecImpairment {
  /** Equipment impairment factor Ie. */
  readonly ie: number;
  /** Packet-loss robustness factor Bpl. */
  readonly bpl: number;
}

/**
 * G.113 Appendix I: G.711 has Ie 0; with the packet-loss concealment of G.711 Appendix I its Bpl
 * is 25.1 for random loss (4.3 without concealment). Opus is not tabulated for the narrowband
 * E-model: the media node assumes it is as transparent as G.711 and as robust as G.711 with
 * concealment, which its bit rates and built-in PLC support but no ITU table states.
 */
export const CODEC_IMPAIRMENTS = {
  pcmu: { ie: 0, bpl: 25.1 },
  pcma: { ie: 0, bpl: 25.1 },
  pcmuWithoutConcealment: { ie: 0, bpl: 4.3 },
  opus: { ie: 0, bpl: 25.1 },
} as const satisfies Record<string, CodecImpairment>;

export interface EModelInput {
  readonly codec: CodecImpairment;
  /** Packet loss in percent, 0-100 (Ppl). */
  readonly packetLossPercent: number;
  /** One-way mouth-to-ear delay in ms (network, jitter buffer, packetisation, codec). */
  readonly oneWayDelayMs: number;
  /** G.107 BurstR: 1 for random loss, above 1 for bursty loss. Default 1. */
  readonly burstRatio?: number;
}

/** G.107 default Ro - Is (with every other parameter at its default). */
export const DEFAULT_BASIC_RATING = 93.2;

export function delayImpairment(oneWayDelayMs: number): number {
  const d = Math.max(0, oneWayDelayMs);
  return 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
}

export function effectiveEquipmentImpairment(codec: CodecImpairment, packetLossPercent: number, burstRatio = 1): number {
  const ppl = Math.min(100, Math.max(0, packetLossPercent));
  return codec.ie + ((95 - codec.ie) * ppl) / (ppl / burstRatio + codec.bpl);
}

export function rating(input: EModelInput): number {
  return (
    DEFAULT_BASIC_RATING -
    delayImpairment(input.oneWayDelayMs) -
    effectiveEquipmentImpairment(input.codec, input.packetLossPercent, input.burstRatio ?? 1)
  );
}

/** G.107 Annex B: the estimated conversational MOS (MOS-CQE) for a rating R. */
export function mosFromRating(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

export function estimateMos(input: EModelInput): number {
  return mosFromRating(rating(input));
}
