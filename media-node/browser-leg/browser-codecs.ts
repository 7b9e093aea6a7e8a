/**
 * Which codecs the browser leg answers with, and how werift is told about them.
 *
 * The leg carries one audio format plus, when offered, RFC 4733 telephone-event at the same clock
 * rate: RFC 4733 §2.1 has events share the timestamp clock of the audio they accompany, so Opus
 * (48 kHz RTP clock, RFC 7587 §4.1) pairs with telephone-event/48000 and G.711 with /8000. Browsers
 * offer both rates (Chrome: `110 telephone-event/48000`, `126 telephone-event/8000`). Payload type
 * numbers are the browser's own (RFC 3264 §6.1: the answer SHOULD reuse them), so both directions of
 * the leg use one numbering.
 */
import { RTCRtpCodecParameters } from 'werift';
import { negotiateCodecs, type Codec, type CodecFormat, type CodecInput, type SdpMedia } from '../../shared/sdp/index.ts';

/**
 * The default preference: Opus first (what browsers send best, with their own loss concealment
 * and FEC), then G.711, which passes through untouched to a G.711 PBX.
 */
export const DEFAULT_BROWSER_CODECS: readonly CodecFormat[] = [
  // RFC 7587 §7: always written opus/48000/2; without `stereo=1` the browser sends mono.
  { name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' },
  { name: 'PCMU', clockRate: 8000 },
  { name: 'PCMA', clockRate: 8000 },
  { name: 'telephone-event', clockRate: 48000 },
  { name: 'telephone-event', clockRate: 8000 },
];

/** The formats one browser leg carries. */
export interface BrowserCodecs {
  readonly audio: Codec;
  readonly telephoneEvent: Codec | undefined;
}

export function isTelephoneEvent(codec: CodecFormat): boolean {
  return codec.name.toLowerCase() === 'telephone-event';
}

/**
 * The answer's formats for an offered audio section (RFC 3264 §6.1), or undefined when nothing the
 * leg supports was offered (the caller then answers 488 Not Acceptable Here).
 */
export function chooseBrowserCodecs(offered: SdpMedia | readonly Codec[], supported: readonly CodecFormat[]): BrowserCodecs | undefined {
  const negotiated = negotiateCodecs(offered, supported);
  const audio = negotiated.find((codec) => !isTelephoneEvent(codec));
  if (audio === undefined) return undefined;
  const telephoneEvent = negotiated.find((codec) => isTelephoneEvent(codec) && codec.clockRate === audio.clockRate);
  return { audio, telephoneEvent };
}

export function codecList(codecs: BrowserCodecs): Codec[] {
  return codecs.telephoneEvent === undefined ? [codecs.audio] : [codecs.audio, codecs.telephoneEvent];
}

/** The same format in werift's terms (its negotiation matches on MIME type and keeps our number). */
export function toWeriftCodec(codec: CodecInput): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: `audio/${codec.name}`,
    clockRate: codec.clockRate,
    ...(codec.channels !== undefined && codec.channels > 1 ? { channels: codec.channels } : {}),
    payloadType: codec.payloadType,
    ...(codec.fmtp === undefined ? {} : { parameters: codec.fmtp }),
    rtcpFeedback: (codec.rtcpFb ?? []).map((feedback) => ({
      type: feedback.type,
      ...(feedback.subtype === undefined ? {} : { parameter: feedback.subtype }),
    })),
  });
}
