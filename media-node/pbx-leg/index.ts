export { PortRange, PortRangeExhaustedError } from './port-range.ts';
export type { LatchDecision, SymmetricLatchOptions, TransportAddress } from './symmetric-latch.ts';
export { SymmetricLatch } from './symmetric-latch.ts';
export type { PbxLegCounters, PbxLegDropReason, PbxLegHandlers, PbxLegOptions, PbxRemote, PbxSrtp } from './pbx-leg.ts';
export { PbxLeg } from './pbx-leg.ts';
