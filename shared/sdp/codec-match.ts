/**
 * When two codec descriptions, from two offers or from an offer and a capability list, name the
 * same payload format.
 *
 * The base rule is RFC 3264 §6.1's: same encoding name (case-insensitive, RFC 4855 §3), clock rate
 * and channels. A few formats add parameters that must also agree, because peers offer several
 * entries of one name that are not interchangeable; other fmtp differences (Opus `useinbandfec`,
 * telephone-event ranges) are declarative and do not stop a match.
 */

import { type Codec, type CodecFormat, parseFormatParameters } from './codec.ts';

/** Format parameters that must be equal for two entries to be the same format, with their defaults. */
const IDENTIFYING_PARAMETERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // RFC 6184 §8.2.2: packetization-mode must agree; profile_idc and profile-iop (first four hex
  // digits of profile-level-id, default 42 00 10) say which profile, the level may differ.
  h264: { 'packetization-mode': '0', 'profile-level-id': '420010' },
  // The VP9 payload format (RFC 9628): profile-id defaults to 0.
  vp9: { 'profile-id': '0' },
  // The AV1 RTP payload specification (AOMedia): profile defaults to 0 (Main).
  av1: { profile: '0' },
};

/** True when `a` and `b` describe the same payload format. RTX is matched through `apt` by `pairCodecs`. */
export function sameCodecFormat(a: CodecFormat, b: CodecFormat): boolean {
  const name = a.name.toLowerCase();
  if (name !== b.name.toLowerCase()) return false;
  if (rtpClockRate(a) !== rtpClockRate(b)) return false;
  if ((a.channels ?? 1) !== (b.channels ?? 1)) return false;
  const identifying = IDENTIFYING_PARAMETERS[name];
  if (identifying === undefined) return true;
  const left = parseFormatParameters(a.fmtp);
  const right = parseFormatParameters(b.fmtp);
  return Object.entries(identifying).every(([parameter, fallback]) => {
    const l = (left[parameter] ?? fallback).toLowerCase();
    const r = (right[parameter] ?? fallback).toLowerCase();
    return parameter === 'profile-level-id' ? l.slice(0, 4) === r.slice(0, 4) : l === r;
  });
}

/** RFC 4588 §8: an RTX entry retransmits the payload type its `apt` parameter names. */
export function retransmittedPayloadType(codec: Codec): number | undefined {
  if (!isRtx(codec)) return undefined;
  const apt = codec.parameters['apt'];
  return apt !== undefined && /^\d{1,3}$/.test(apt) ? Number(apt) : undefined;
}

/**
 * Pairs each codec of `from` with the first unpaired codec of `to` of the same format. RTX entries
 * pair when the payload types they retransmit are themselves paired. Codecs of `from` without a
 * counterpart are left out.
 */
export function pairCodecs(from: readonly Codec[], to: readonly Codec[]): [Codec, Codec][] {
  const pairs: [Codec, Codec][] = [];
  const used = new Set<number>();
  for (const source of from) {
    if (isRtx(source)) continue;
    const target = to.find((candidate) => !used.has(candidate.payloadType) && sameCodecFormat(source, candidate));
    if (target === undefined) continue;
    used.add(target.payloadType);
    pairs.push([source, target]);
  }
  for (const source of from) {
    const apt = retransmittedPayloadType(source);
    if (apt === undefined) continue;
    const pairedApt = pairs.find(([left]) => left.payloadType === apt)?.[1].payloadType;
    if (pairedApt === undefined) continue;
    const target = to.find(
      (candidate) => !used.has(candidate.payloadType) && retransmittedPayloadType(candidate) === pairedApt && candidate.clockRate === source.clockRate,
    );
    if (target === undefined) continue;
    used.add(target.payloadType);
    pairs.push([source, target]);
  }
  return pairs;
}

function isRtx(codec: CodecFormat): boolean {
  return codec.name.toLowerCase() === 'rtx';
}

/** G.722's RTP clock is 8000 even when written as 16000 (RFC 3551 §4.5.2). */
function rtpClockRate(codec: CodecFormat): number {
  return codec.name.toUpperCase() === 'G722' ? 8000 : codec.clockRate;
}
