/**
 * Node-wide traffic figures, summed over sessions: what `/metrics` exports as counters. Sessions
 * that ended are folded into a running total once, with their final counters; live sessions are
 * added at each scrape, so the counters never go backwards.
 */
import type { MediaSessionStats } from '../relay/index.ts';

export interface TrafficTotals {
  /** RTP packets by leg and direction. */
  readonly packets: { browserIn: number; browserOut: number; pbxIn: number; pbxOut: number };
  readonly rtcp: { pbxIn: number; pbxOut: number };
  /** Dropped packets by where (`pbx-leg`, `browser-leg`, `browser-to-pbx`, `pbx-to-browser`) and why. */
  readonly dropped: Map<string, number>;
  /** Frames through each transcoder: Opus decoded (and concealed) to G.711, G.711 encoded to Opus. */
  readonly transcoded: { opusToG711: number; g711ToOpus: number };
  /** Frames made up by packet-loss concealment on the way to the PBX. */
  concealed: number;
  /** Exceptions caught inside sessions and their legs. */
  errors: number;
}

export function emptyTotals(): TrafficTotals {
  return {
    packets: { browserIn: 0, browserOut: 0, pbxIn: 0, pbxOut: 0 },
    rtcp: { pbxIn: 0, pbxOut: 0 },
    dropped: new Map(),
    transcoded: { opusToG711: 0, g711ToOpus: 0 },
    concealed: 0,
    errors: 0,
  };
}

/** The key of a `dropped` entry. */
export function dropKey(where: string, reason: string): string {
  return `${where}|${reason}`;
}

/** Adds one session's counters to `totals` (mutating it). */
export function addSession(totals: TrafficTotals, stats: MediaSessionStats): void {
  const { browserLeg, pbxLeg } = stats;
  totals.packets.browserIn += browserLeg.rtpIn;
  totals.packets.browserOut += browserLeg.rtpOut;
  totals.packets.pbxIn += pbxLeg.rtpIn;
  totals.packets.pbxOut += pbxLeg.rtpOut;
  totals.rtcp.pbxIn += pbxLeg.rtcpIn;
  totals.rtcp.pbxOut += pbxLeg.rtcpOut;
  for (const [reason, count] of Object.entries(pbxLeg.dropped)) addDrop(totals, 'pbx-leg', reason, count);
  addDrop(totals, 'browser-leg', 'not-connected', browserLeg.notConnected);
  addDrop(totals, 'browser-leg', 'unknown-payload-type', browserLeg.unknownPayloadType);
  addDrop(totals, 'browser-leg', 'send-error', browserLeg.sendErrors);
  addDrop(totals, 'browser-leg', 'srtp-refused', browserLeg.srtpRefused);
  addDrop(totals, 'pbx-leg', 'send-error', pbxLeg.sendErrors);
  addDrop(totals, 'session', 'before-answer', stats.beforeAnswer);
  for (const [where, direction] of [
    ['browser-to-pbx', stats.browserToPbx],
    ['pbx-to-browser', stats.pbxToBrowser],
  ] as const) {
    if (direction === undefined) continue;
    for (const [reason, count] of Object.entries(direction.dropped)) addDrop(totals, where, reason, count);
    const transcoder = direction.transcoder;
    if (transcoder !== undefined && 'decoded' in transcoder) {
      totals.transcoded.opusToG711 += transcoder.decoded + transcoder.concealed;
      totals.concealed += transcoder.concealed;
    }
    if (transcoder !== undefined && 'encoded' in transcoder) totals.transcoded.g711ToOpus += transcoder.encoded;
  }
  totals.errors += stats.errors + browserLeg.handlerErrors + pbxLeg.handlerErrors;
}

function addDrop(totals: TrafficTotals, where: string, reason: string, count: number): void {
  if (count === 0) return;
  const key = dropKey(where, reason);
  totals.dropped.set(key, (totals.dropped.get(key) ?? 0) + count);
}

/** A copy of `totals`, for adding live sessions to without touching the running total. */
export function copyTotals(totals: TrafficTotals): TrafficTotals {
  return {
    packets: { ...totals.packets },
    rtcp: { ...totals.rtcp },
    dropped: new Map(totals.dropped),
    transcoded: { ...totals.transcoded },
    concealed: totals.concealed,
    errors: totals.errors,
  };
}
