/**
 * One generated call's two ends: what the browser side and the PBX side send every 20 ms, and the
 * meters of what each receives. Implemented once through the media node (`node-call.ts`: a werift
 * peer with DTLS-SRTP, a plain UDP socket) and once through rtpengine (`rtpengine-call.ts`: plain
 * RTP both sides), so the two carry the same load.
 */
import { opusTone, pcmuTone } from '../../media-node/support/call-rig.ts';
import type { RelayDirection } from './relay-transit.ts';
import { StreamMeter, markedPayload } from './stream-meter.ts';

/** Transcoding: the browser side talks Opus and the PBX side PCMU. Pass-through: PCMU both sides. */
export type LoadMode = 'transcoding' | 'pass-through';

export interface LoadCall {
  readonly mode: LoadMode;
  /** What the PBX side received (from the browser side, through the relay). */
  readonly atPbx: StreamMeter;
  /** What the browser side received. */
  readonly atBrowser: StreamMeter;
  /** Sends packet `index` (one 20 ms frame) from the browser side. */
  sendFromBrowser(index: number, nowMs: number): void;
  sendFromPbx(index: number, nowMs: number): void;
  /** The UDP ports of the call's two sides, once connected; undefined when no relay is in between. */
  ports(): CallPorts | undefined;
  close(): Promise<void>;
}

/** Per side, the generator's socket and the relay's socket facing it (all on 127.0.0.1). */
export interface CallPorts {
  readonly browser: { readonly generator: number; readonly relay: number };
  readonly pbx: { readonly generator: number; readonly relay: number };
}

/** The two directions through the relay as flows in and out of it, for `relay-transit.ts`. */
export function relayDirections(ports: CallPorts): { browserToPbx: RelayDirection; pbxToBrowser: RelayDirection } {
  const { browser, pbx } = ports;
  return {
    browserToPbx: { into: { from: browser.generator, to: browser.relay }, out: { from: pbx.relay, to: pbx.generator } },
    pbxToBrowser: { into: { from: pbx.generator, to: pbx.relay }, out: { from: browser.relay, to: browser.generator } },
  };
}

const TONE_FRAMES = 50;
let opusFrames: Uint8Array[] | undefined;
let pcmuFrames: Uint8Array[] | undefined;

/** The browser side's payload for packet `index`: a 1 kHz tone in Opus, or a marked PCMU frame. */
export function browserPayload(mode: LoadMode, index: number, nowMs: number): Uint8Array {
  if (mode === 'pass-through') return markedPayload(index, nowMs);
  opusFrames ??= opusTone(1000, -10, TONE_FRAMES);
  return opusFrames[index % TONE_FRAMES] as Uint8Array;
}

/** The PBX side's payload: a 1 kHz tone in PCMU (whole cycles per frame, so it loops cleanly), or a marked frame. */
export function pbxPayload(mode: LoadMode, index: number, nowMs: number): Uint8Array {
  if (mode === 'pass-through') return markedPayload(index, nowMs);
  pcmuFrames ??= pcmuTone(1000, -10, TONE_FRAMES);
  return pcmuFrames[index % TONE_FRAMES] as Uint8Array;
}

export function browserClockRate(mode: LoadMode): number {
  return mode === 'transcoding' ? 48000 : 8000;
}

/** A packet arriving more than this behind the best-placed one of the last second is late. */
export const LATE_MS = 50;

export function meters(mode: LoadMode): { atPbx: StreamMeter; atBrowser: StreamMeter } {
  return { atPbx: new StreamMeter(8000, LATE_MS), atBrowser: new StreamMeter(browserClockRate(mode), LATE_MS) };
}
