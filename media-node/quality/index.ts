export type { ReceivedPacket, ReceiveSnapshot } from './receive-statistics.ts';
export { ReceiveStatistics } from './receive-statistics.ts';
export { RoundTripTracker, roundTripMs } from './round-trip.ts';
export type { CodecImpairment, EModelInput } from './e-model.ts';
export {
  CODEC_IMPAIRMENTS,
  DEFAULT_BASIC_RATING,
  delayImpairment,
  effectiveEquipmentImpairment,
  estimateMos,
  mosFromRating,
  rating,
} from './e-model.ts';
export type { DelayBudget, DirectionQuality } from './direction-quality.ts';
export { directionQuality } from './direction-quality.ts';
export type { QualitySample, SampleDelay } from './quality-series.ts';
export { DEFAULT_SAMPLE_INTERVAL_MS, DEFAULT_SAMPLE_LIMIT, QualitySeries } from './quality-series.ts';
