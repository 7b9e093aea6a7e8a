/**
 * The codecs of a media section: the `m=` format list read together with `a=rtpmap`, `a=fmtp` and
 * `a=rtcp-fb` (RFC 8866 §6.6, RFC 4585 §4.2), and the static payload types of RFC 3551.
 */

import type { SdpMedia } from './session.ts';
import { staticPayloadType } from './static-payload-types.ts';

/** One `a=rtcp-fb` value for a payload type (RFC 4585 §4.2): `nack`, `nack pli`, `ccm fir`, `transport-cc`. */
export interface RtcpFeedback {
  readonly type: string;
  readonly subtype?: string;
}

/**
 * What a codec is, independent of the payload type number a given leg gives it: encoding name,
 * clock rate, channels, and format parameters. An answerer's capabilities are a list of these.
 */
export interface CodecFormat {
  /** The encoding name as written; compared case-insensitively (RFC 4855 §3). */
  readonly name: string;
  /** The RTP timestamp clock rate (`opus` 48000, `PCMU` 8000, `G722` 8000, video 90000). */
  readonly clockRate: number;
  /** Audio channels; 1 when the rtpmap omits them (RFC 8866 §6.6). */
  readonly channels?: number;
  /** The `a=fmtp` value as written: `minptime=10;useinbandfec=1`, `0-16`, `apt=96`. */
  readonly fmtp?: string;
  readonly rtcpFb?: readonly RtcpFeedback[];
}

/** A codec as a builder or `setCodecs` takes it: a format bound to a payload type. */
export interface CodecInput extends CodecFormat {
  readonly payloadType: number;
}

/** A codec as read from a media section. */
export interface Codec extends CodecInput {
  readonly channels: number;
  /** Feedback listed for this payload type; wildcard (`a=rtcp-fb:*`) lines stay on the media section. */
  readonly rtcpFb: readonly RtcpFeedback[];
  /** The fmtp split into `name=value` pairs; a bare token such as `0-16` maps to `''`. */
  readonly parameters: Readonly<Record<string, string>>;
}

/** True for the RTP profiles (RTP/AVP, RTP/SAVP, RTP/AVPF, UDP/TLS/RTP/SAVPF, ...), whose formats are payload types. */
export function isRtpProtocol(protocol: string): boolean {
  return /(^|\/)RTP\//i.test(protocol);
}

/** The payload types of the `m=` line, in its (preference) order; empty for non-RTP sections. */
export function payloadTypesOf(media: SdpMedia): number[] {
  if (!isRtpProtocol(media.protocol)) return [];
  return media.payloads
    .split(/\s+/)
    .filter((token) => /^\d{1,3}$/.test(token))
    .map(Number);
}

/**
 * Lists the codecs of a media section in `m=` line order. A static payload type without rtpmap is
 * described from RFC 3551; a dynamic one without rtpmap cannot be described and is left out (RFC
 * 8866 §6.6 requires its rtpmap). G.722 always reports clock rate 8000, even when a broken peer
 * writes `G722/16000` (RFC 3551 §4.5.2).
 */
export function listCodecs(media: SdpMedia): Codec[] {
  const codecs: Codec[] = [];
  for (const payloadType of payloadTypesOf(media)) {
    const rtpmap = media.rtp.find((entry) => entry.payload === payloadType);
    const known = staticPayloadType(payloadType);
    const name = rtpmap?.codec ?? known?.name;
    const clockRate = rtpmap?.rate ?? known?.clockRate;
    if (name === undefined || clockRate === undefined) continue;
    const fmtp = media.fmtp.find((entry) => entry.payload === payloadType)?.config;
    const rtcpFb = (media.rtcpFb ?? [])
      .filter((entry) => entry.payload === payloadType)
      .map((entry): RtcpFeedback => (entry.subtype === undefined ? { type: entry.type } : { type: entry.type, subtype: entry.subtype }));
    codecs.push({
      payloadType,
      name,
      clockRate: name.toUpperCase() === 'G722' ? 8000 : clockRate,
      channels: rtpmap?.encoding ?? known?.channels ?? 1,
      ...(fmtp === undefined ? {} : { fmtp }),
      rtcpFb,
      parameters: parseFormatParameters(fmtp),
    });
  }
  return codecs;
}

/** Every codec of the section with this encoding name (case-insensitive), optionally at one clock rate. */
export function findCodecs(media: SdpMedia, name: string, clockRate?: number): Codec[] {
  const wanted = name.toLowerCase();
  return listCodecs(media).filter((codec) => codec.name.toLowerCase() === wanted && (clockRate === undefined || codec.clockRate === clockRate));
}

/** The first (most preferred) codec of the section with this encoding name, if any. */
export function findCodec(media: SdpMedia, name: string, clockRate?: number): Codec | undefined {
  return findCodecs(media, name, clockRate)[0];
}

/**
 * The audio sample rate a codec's decoder produces, which differs from the RTP clock rate only for
 * G.722: 16 kHz audio on an 8 kHz RTP clock (RFC 3551 §4.5.2).
 */
export function audioSampleRate(codec: CodecFormat): number {
  return codec.name.toUpperCase() === 'G722' ? 16000 : codec.clockRate;
}

/** Splits an fmtp value on `;` (RFC 8866 §6.15 leaves the format to each codec; all common ones use `;`). */
export function parseFormatParameters(fmtp: string | undefined): Record<string, string> {
  const parameters: Record<string, string> = {};
  if (fmtp === undefined) return parameters;
  for (const part of fmtp.split(';')) {
    const item = part.trim();
    if (item === '') continue;
    const equals = item.indexOf('=');
    if (equals === -1) parameters[item] = '';
    else parameters[item.slice(0, equals).trim()] = item.slice(equals + 1).trim();
  }
  return parameters;
}
