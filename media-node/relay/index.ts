export type { FrameListener, FrameTickerCounters, FrameTickerOptions } from './frame-ticker.ts';
export { FrameTicker } from './frame-ticker.ts';
export type { FrameHeader, FrameTimelineOptions } from './frame-timeline.ts';
export { FrameTimeline } from './frame-timeline.ts';
export type { LegFormats } from './leg-formats.ts';
export type { InboundPacket, MediaPath, MediaPathKind, OutboundLeg, PathCounters, PathDropReason } from './media-path.ts';
export type { LegName, MediaSilence } from './media-watchdog.ts';
export { MediaWatchdog } from './media-watchdog.ts';
export { PassThroughPath, type PassThroughPathOptions } from './pass-through-path.ts';
export { OpusToG711Path, type OpusToG711PathOptions } from './opus-to-g711-path.ts';
export { G711ToOpusPath, type G711ToOpusPathOptions } from './g711-to-opus-path.ts';
export { TelephoneEventRetimer, type RetimedEvent } from './telephone-event-retimer.ts';
export { DtmfQueueFullError, DtmfSender, type TelephoneEventSink } from './dtmf-sender.ts';
export { PbxRtcpReporter, type PbxRtcpReporterOptions } from './pbx-rtcp-reporter.ts';
export { createPath, type PathSpec } from './path-factory.ts';
export type { PbxAnswer, SessionErrorReason } from './session-negotiation.ts';
export { DEFAULT_PBX_CODECS, MediaSessionError, browserOfferCodecs, g711Law, pathKind, pbxOfferCodecs, readPbxAnswer, readPbxOffer } from './session-negotiation.ts';
export type { DirectionStats, MediaSessionStats, SessionState } from './session-stats.ts';
export { OutgoingStream, type StreamStart } from './outgoing-stream.ts';
export type {
  BothOffersCallOptions,
  BrowserCallOptions,
  CreatedBothSession,
  CreatedOfferingSession,
  CreatedPbxSession,
  CreatedSession,
  MediaSessionOptions,
  PbxCallOptions,
  PbxSideOptions,
  SessionEnd,
} from './media-session-options.ts';
export { MediaSession } from './media-session.ts';
export type { QualitySamples, SamplingOptions } from './session-relay.ts';
