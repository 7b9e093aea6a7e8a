/**
 * Changing which codecs a media section offers or answers: removing some, or writing a new list.
 * Both keep the `m=` format list, `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` lines consistent, so no
 * attribute is left describing a payload type the `m=` line no longer lists.
 */

import { type Codec, type CodecInput, listCodecs, payloadTypesOf } from './codec.ts';
import { retransmittedPayloadType } from './codec-match.ts';
import { SdpError } from './sdp-error.ts';
import type { SdpMedia } from './session.ts';

/**
 * Keeps the codecs `keep` selects, in their order, and drops every line of the others. `keep` is a
 * predicate over the described codecs or a list of payload types. An RTX entry whose `apt` is
 * dropped (RFC 4588 §8) and a RED entry carrying a dropped payload type (RFC 2198 §5) go too:
 * they mean nothing without it. Keeping nothing is refused: reject the stream with `rejectMedia`
 * instead (RFC 3264 §6: a rejected stream keeps its formats and gets port zero).
 */
export function filterCodecs(media: SdpMedia, keep: ((codec: Codec) => boolean) | readonly number[]): SdpMedia {
  const codecs = listCodecs(media);
  const selected = new Set(
    typeof keep === 'function'
      ? codecs.filter((codec) => keep(codec)).map((codec) => codec.payloadType)
      : payloadTypesOf(media).filter((payloadType) => keep.includes(payloadType)),
  );
  for (const codec of codecs) {
    if (selected.has(codec.payloadType) && !dependenciesKept(codec, selected)) selected.delete(codec.payloadType);
  }
  if (selected.size === 0) {
    throw new SdpError('invalid-argument', 'filterCodecs would leave the media section without any codec; reject it instead');
  }
  return withPayloadTypes(media, (pt) => selected.has(pt));
}

/**
 * Replaces the codecs of a media section with `codecs`, in that order of preference. Wildcard
 * `a=rtcp-fb:*` lines are kept. Throws `SdpError` for an empty list or a repeated payload type.
 */
export function setCodecs(media: SdpMedia, codecs: readonly CodecInput[]): SdpMedia {
  assertCodecList(codecs);
  const listed = new Set(codecs.map((codec) => codec.payloadType));
  const rtcpFb = [
    ...(media.rtcpFb ?? []).filter((entry) => entry.payload === '*'),
    ...codecs.flatMap((codec) => (codec.rtcpFb ?? []).map((feedback) => ({ payload: codec.payloadType, ...feedback }))),
  ];
  const trrInt = (media.rtcpFbTrrInt ?? []).filter((entry) => entry.payload === '*' || listed.has(Number(entry.payload)));
  const { rtcpFb: _rtcpFb, rtcpFbTrrInt: _trrInt, ...rest } = media;
  return {
    ...rest,
    payloads: codecs.map((codec) => String(codec.payloadType)).join(' '),
    rtp: codecs.map((codec) => {
      const rtpmap = { payload: codec.payloadType, codec: codec.name, rate: codec.clockRate };
      // RFC 8866 §6.6: the channel count may be omitted when it is one.
      const channels = codec.channels ?? 1;
      return channels === 1 ? rtpmap : { ...rtpmap, encoding: channels };
    }),
    fmtp: codecs.flatMap((codec) => (codec.fmtp === undefined ? [] : [{ payload: codec.payloadType, config: codec.fmtp }])),
    ...(rtcpFb.length > 0 ? { rtcpFb } : {}),
    ...(trrInt.length > 0 ? { rtcpFbTrrInt: trrInt } : {}),
  };
}

/**
 * Marks a media section rejected (RFC 3264 §6: port zero, formats kept because the `m=` line must
 * list at least one) and drops its ICE candidates, which no longer lead anywhere.
 */
export function rejectMedia(media: SdpMedia): SdpMedia {
  const { candidates: _candidates, endOfCandidates: _end, ...rest } = media;
  return { ...rest, port: 0 };
}

/** Throws `SdpError` unless the list is non-empty with distinct payload types in 0-127 (RFC 3550 §5.1: 7 bits). */
export function assertCodecList(codecs: readonly CodecInput[]): void {
  if (codecs.length === 0) throw new SdpError('invalid-argument', 'a media section needs at least one codec');
  const seen = new Set<number>();
  for (const codec of codecs) {
    if (!Number.isInteger(codec.payloadType) || codec.payloadType < 0 || codec.payloadType > 127 || seen.has(codec.payloadType)) {
      throw new SdpError('invalid-argument', `payload type ${String(codec.payloadType)} is out of range or repeated`);
    }
    seen.add(codec.payloadType);
  }
}

/** RTX needs its `apt`, RED the payload types it carries (fmtp `111/111`). */
function dependenciesKept(codec: Codec, selected: ReadonlySet<number>): boolean {
  const apt = retransmittedPayloadType(codec);
  if (apt !== undefined) return selected.has(apt);
  if (codec.name.toLowerCase() === 'red' && codec.fmtp !== undefined && /^\d+(\/\d+)*$/.test(codec.fmtp)) {
    return codec.fmtp.split('/').every((pt) => selected.has(Number(pt)));
  }
  return true;
}

function withPayloadTypes(media: SdpMedia, keep: (payloadType: number) => boolean): SdpMedia {
  const rtcpFb = (media.rtcpFb ?? []).filter((entry) => entry.payload === '*' || keep(Number(entry.payload)));
  const trrInt = (media.rtcpFbTrrInt ?? []).filter((entry) => entry.payload === '*' || keep(Number(entry.payload)));
  const { rtcpFb: _rtcpFb, rtcpFbTrrInt: _trrInt, ...rest } = media;
  return {
    ...rest,
    payloads: payloadTypesOf(media).filter(keep).map(String).join(' '),
    rtp: media.rtp.filter((entry) => keep(entry.payload)),
    fmtp: media.fmtp.filter((entry) => keep(entry.payload)),
    ...(rtcpFb.length > 0 ? { rtcpFb } : {}),
    ...(trrInt.length > 0 ? { rtcpFbTrrInt: trrInt } : {}),
  };
}
