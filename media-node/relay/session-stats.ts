/**
 * The figures of one call, per direction, as the control layer reports them to the edge (at the
 * end of the call and on request) to attach to the call's trace.
 *
 * Each direction is measured where it enters the node: packets, loss and jitter of what the sending
 * leg delivered (RFC 3550 A.3, A.8), what the path forwarded or dropped and why, the coder and jitter
 * buffer counters on a transcoding path, and an E-model MOS (G.107) for the sending leg's network
 * with the node's own buffering included.
 */
import type { Direction } from '../../shared/sdp/index.ts';
import type { BrowserLegCounters } from '../browser-leg/index.ts';
import type { G711ToOpusCounters, OpusToG711Counters } from '../codec/index.ts';
import type { JitterBufferCounters } from '../jitter/index.ts';
import type { PbxLegCounters } from '../pbx-leg/index.ts';
import { CODEC_IMPAIRMENTS, directionQuality, type CodecImpairment, type DirectionQuality, type ReceiveStatistics } from '../quality/index.ts';
import { G711ToOpusPath } from './g711-to-opus-path.ts';
import type { MediaPath, MediaPathKind, PathDropReason } from './media-path.ts';
import type { LegName } from './media-watchdog.ts';
import { OpusToG711Path } from './opus-to-g711-path.ts';

export type SessionState = 'awaiting-pbx-answer' | 'awaiting-browser-answer' | 'awaiting-answers' | 'relaying' | 'ended';

export interface DirectionStats {
  readonly path: MediaPathKind;
  /** What arrived from the sending leg. */
  readonly received: DirectionQuality;
  /** Packets RFC 3550 A.1 did not count (probation, restarts). */
  readonly refused: number;
  readonly forwarded: number;
  readonly telephoneEvents: number;
  readonly dropped: Readonly<Record<PathDropReason, number>>;
  readonly transcoder?: Readonly<OpusToG711Counters | G711ToOpusCounters>;
  readonly jitterBuffer?: Readonly<JitterBufferCounters> & { readonly delayMs: number };
}

export interface MediaSessionStats {
  readonly id: string;
  readonly state: SessionState;
  /** `name/clockRate` of each leg's audio. */
  readonly codecs: { readonly browser: string | undefined; readonly pbx: string | undefined };
  /** Each party's direction as its latest SDP declared it. */
  readonly directions: Readonly<Record<LegName, Direction>>;
  readonly browserToPbx: DirectionStats | undefined;
  readonly pbxToBrowser: DirectionStats | undefined;
  readonly browserLeg: Readonly<BrowserLegCounters>;
  readonly pbxLeg: Readonly<PbxLegCounters>;
  /** Packets that arrived before the PBX answered, with nowhere to go yet. */
  readonly beforeAnswer: number;
  /** Exceptions caught inside the session. */
  readonly errors: number;
}

export function codecImpairment(codecName: string): CodecImpairment {
  switch (codecName.toLowerCase()) {
    case 'pcmu':
      return CODEC_IMPAIRMENTS.pcmu;
    case 'pcma':
      return CODEC_IMPAIRMENTS.pcma;
    default:
      return CODEC_IMPAIRMENTS.opus;
  }
}

export function directionStats(path: MediaPath, receive: ReceiveStatistics, sendingCodec: string, roundTripMs: number | undefined): DirectionStats {
  const snapshot = receive.snapshot();
  const received = directionQuality(snapshot, codecImpairment(sendingCodec), {
    ...(roundTripMs === undefined ? {} : { roundTripMs }),
    ...(path.bufferDelayMs > 0 ? { jitterBufferMs: path.bufferDelayMs } : {}),
  });
  const base = {
    path: path.kind,
    received,
    refused: snapshot.refused,
    forwarded: path.counters.forwarded,
    telephoneEvents: path.counters.telephoneEvents,
    dropped: { ...path.counters.dropped },
  };
  if (path instanceof OpusToG711Path) {
    return {
      ...base,
      transcoder: { ...path.transcoder.counters },
      jitterBuffer: { ...path.jitterBuffer.counters, delayMs: path.jitterBuffer.delayMs },
    };
  }
  if (path instanceof G711ToOpusPath) return { ...base, transcoder: { ...path.transcoder.counters } };
  return base;
}
