/**
 * A new offer from the PBX in a live call (re-INVITE, RFC 3264 §8), read against what the call
 * has settled: what changes, and the answer. Pure: the session applies the plan.
 *
 * - Address (§8.3.1): a new `c=`/`m=` address or port is where media goes now; the symmetric latch
 *   opens again. The RFC 2543 hold form `c=0.0.0.0` is a direction, not an address: the latch stays.
 * - Direction (§8.4): `sendonly`, `inactive` or `c=0.0.0.0` put the browser on hold.
 * - Codec (§8.3.2): the codec in use is kept while the offer still has it; otherwise the first the
 *   node prefers among those it can relay to and from the browser's, and both paths are rebuilt.
 *   Payload type numbers are the offer's (§6.1); a renumbering rebuilds the paths too.
 * - SRTP (RFC 4568 §7.1.4): RTP/SAVP or RTP/AVP as the offer says; the node keeps its own key,
 *   answered under the offer's tag, and a new key from the PBX needs a new receiving context.
 * - The answer keeps the origin of the node's previous SDP, its version moved on when it changed.
 */
import { Buffer } from 'node:buffer';
import { answerDirection, reviseSdp, sameCodecFormat, type CodecFormat, type CodecInput, type Direction, type SdpSession } from '../../shared/sdp/index.ts';
import type { PbxRemote } from '../pbx-leg/index.ts';
import type { MasterKey } from '../srtp/index.ts';
import type { LegFormats } from './leg-formats.ts';
import { newPbxSrtp, type PbxSrtpState } from './pbx-srtp-state.ts';
import { answerCodecs, readPbxOffer, type PbxSdes } from './session-negotiation.ts';
import { nodePbxSdp, parsePbxSdp } from './session-setup.ts';

/** What the call has settled on its PBX side, and what the node answers with. */
export interface PbxSide {
  readonly browserAudio: CodecFormat;
  readonly formats: LegFormats;
  /** Payload types the PBX may send, to the leg's canonical ones. */
  readonly aliases: ReadonlyMap<number, number>;
  readonly signalled: PbxRemote | undefined;
  readonly srtp: PbxSrtpState | undefined;
  /** The node's previous SDP toward the PBX. */
  readonly description: SdpSession;
  readonly address: string;
  readonly port: number;
  /** The PBX-side codec preferences. */
  readonly preferences: readonly CodecInput[];
}

export interface PbxReofferPlan {
  readonly formats: LegFormats;
  readonly aliases: ReadonlyMap<number, number>;
  /** The formats or their numbers changed: both paths must be rebuilt. */
  readonly rebuild: boolean;
  /** The PBX's new address, when it moved. */
  readonly moved: PbxRemote | undefined;
  readonly srtp: PbxSrtpState | undefined;
  /** The PBX leg needs new SRTP contexts (started, stopped or rekeyed). */
  readonly srtpChanged: boolean;
  readonly direction: Direction;
  readonly answer: SdpSession;
}

/** Throws `MediaSessionError` for an offer the call cannot take (it then goes on unchanged). */
export function planPbxReoffer(offer: string, side: PbxSide): PbxReofferPlan {
  const current = side.formats;
  const preferences = [current.audio, ...side.preferences.filter((codec) => !sameCodecFormat(codec, current.audio))];
  const settled = readPbxOffer(parsePbxSdp(offer), preferences, [side.browserAudio]);
  const answered = answerCodecs(settled);
  const formats: LegFormats = { audio: settled.audio, telephoneEvent: settled.telephoneEvent };
  const aliases = new Map(answered.map((codec) => [codec.payloadType, codec.payloadType]));
  const renumbered = aliases.size !== side.aliases.size || [...aliases.keys()].some((payloadType) => side.aliases.get(payloadType) !== payloadType);
  const moved = !settled.legacyHold && (side.signalled === undefined || !samePbxRemote(side.signalled, settled.remote));
  const srtp = nextSrtp(side.srtp, settled.sdes);
  const answer = reviseSdp(
    side.description,
    nodePbxSdp({
      origin: side.description.origin,
      address: side.address,
      port: side.port,
      codecs: answered,
      srtp: srtp.state,
      direction: answerDirection(settled.direction),
    }),
  );
  return {
    formats,
    aliases,
    rebuild: renumbered || !sameLegFormats(formats, current),
    moved: moved ? settled.remote : undefined,
    srtp: srtp.state,
    srtpChanged: srtp.changed,
    direction: settled.direction,
    answer,
  };
}

/** Same formats under the same payload type numbers. */
export function sameLegFormats(a: LegFormats, b: LegFormats | undefined): boolean {
  if (b === undefined) return false;
  const sameCodec = (x: CodecInput | undefined, y: CodecInput | undefined): boolean =>
    x === undefined || y === undefined ? x === y : x.payloadType === y.payloadType && sameCodecFormat(x, y);
  return sameCodec(a.audio, b.audio) && sameCodec(a.telephoneEvent, b.telephoneEvent);
}

function nextSrtp(current: PbxSrtpState | undefined, sdes: PbxSdes | undefined): { readonly state: PbxSrtpState | undefined; readonly changed: boolean } {
  if (sdes === undefined) return { state: undefined, changed: current !== undefined };
  if (current === undefined) return { state: newPbxSrtp(sdes.tag, sdes.key), changed: true };
  const rekeyed = current.remote === undefined || !sameMasterKey(current.remote, sdes.key);
  return { state: { ...current, tag: sdes.tag, remote: sdes.key }, changed: rekeyed };
}

function sameMasterKey(a: MasterKey, b: MasterKey): boolean {
  return Buffer.compare(a.key, b.key) === 0 && Buffer.compare(a.salt, b.salt) === 0;
}

function samePbxRemote(a: PbxRemote, b: PbxRemote): boolean {
  return a.address === b.address && a.rtpPort === b.rtpPort && (a.rtcpPort ?? a.rtpPort + 1) === (b.rtcpPort ?? b.rtpPort + 1);
}
