/**
 * Which codecs each leg of a call may use, and which path carries each direction.
 *
 * The browser leg is negotiated first (its offer is answered at once); the PBX is then offered only
 * the codecs the media node can relay to and from the browser's: the same codec, passed through, or
 * Opus against PCMU/PCMA, transcoded. The PBX's answer picks one (RFC 3264 §6.1), and that fixes
 * the paths. Pure functions over parsed SDP.
 */
import {
  connectionOf,
  isRejected,
  isRtpProtocol,
  listCodecs,
  mediaDirection,
  negotiateCodecs,
  sameCodecFormat,
  SdpError,
  type Codec,
  type CodecFormat,
  type CodecInput,
  type Direction,
  type SdpMedia,
  type SdpSession,
} from '../../shared/sdp/index.ts';
import type { G711Law } from '../codec/index.ts';
import type { PbxRemote } from '../pbx-leg/index.ts';
import { SDES_SUITE, chooseSdesKey, isSavp, type MasterKey } from '../srtp/index.ts';
import type { MediaPathKind } from './media-path.ts';

/** What a G.711 PBX is offered by default: PCMU, PCMA, and RFC 4733 DTMF at their 8 kHz clock. */
export const DEFAULT_PBX_CODECS: readonly CodecInput[] = [
  { payloadType: 0, name: 'PCMU', clockRate: 8000 },
  { payloadType: 8, name: 'PCMA', clockRate: 8000 },
  // RFC 4733 §7.1.1: events 0-15 are the DTMF keys.
  { payloadType: 101, name: 'telephone-event', clockRate: 8000, fmtp: '0-16' },
];

export type SessionErrorReason = 'no-common-codec' | 'no-common-crypto' | 'bad-pbx-sdp' | 'pbx-rejected-media' | 'wrong-state' | 'no-telephone-event';

export class MediaSessionError extends Error {
  override readonly name = 'MediaSessionError';
  readonly reason: SessionErrorReason;

  constructor(reason: SessionErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

export function g711Law(codec: CodecFormat): G711Law | undefined {
  const name = codec.name.toUpperCase();
  if (codec.clockRate !== 8000) return undefined;
  return name === 'PCMU' ? 'pcmu' : name === 'PCMA' ? 'pcma' : undefined;
}

function isOpus(codec: CodecFormat): boolean {
  return codec.name.toLowerCase() === 'opus' && codec.clockRate === 48000;
}

function isTelephoneEvent(codec: CodecFormat): boolean {
  return codec.name.toLowerCase() === 'telephone-event';
}

/** The path that carries audio from a leg using `from` to a leg using `to`, if the node has one. */
export function pathKind(from: CodecFormat, to: CodecFormat): MediaPathKind | undefined {
  if (sameCodecFormat(from, to)) return 'pass-through';
  if (isOpus(from) && g711Law(to) !== undefined) return 'opus-to-g711';
  if (g711Law(from) !== undefined && isOpus(to)) return 'g711-to-opus';
  return undefined;
}

/**
 * The PBX offer's codecs: those of `preferences` relayable to and from the browser's (or, when the
 * node offers both legs, from any browser codec it offers), and the events.
 */
export function pbxOfferCodecs(browserAudio: CodecFormat | readonly CodecFormat[], preferences: readonly CodecInput[]): CodecInput[] {
  const browserCandidates: readonly CodecFormat[] = (Array.isArray(browserAudio) ? browserAudio : [browserAudio as CodecFormat]).filter((codec) => !isTelephoneEvent(codec));
  const audio = preferences.filter((codec) => !isTelephoneEvent(codec) && browserCandidates.some((browser) => pathKind(browser, codec) !== undefined));
  if (audio.length === 0) return [];
  return [...audio, ...preferences.filter(isTelephoneEvent)];
}

/** The PBX's SDES key (RFC 4568) and the tag of the `a=crypto` line it came on. */
export interface PbxSdes {
  readonly tag: number;
  readonly key: MasterKey;
}

/**
 * The PBX's key for an RTP/SAVP section; undefined for RTP/AVP. Throws `MediaSessionError` when an
 * RTP/SAVP section has no `a=crypto` line the node can honour (RFC 4568 §5.1.3: 488).
 */
export function readPbxSdes(media: SdpMedia): PbxSdes | undefined {
  if (!isSavp(media)) return undefined;
  let chosen: PbxSdes | undefined;
  try {
    chosen = chooseSdesKey(media);
  } catch (error) {
    if (error instanceof SdpError) throw new MediaSessionError('bad-pbx-sdp', error.message, { cause: error });
    throw error;
  }
  if (chosen === undefined) {
    throw new MediaSessionError('no-common-crypto', `the PBX's RTP/SAVP stream has no a=crypto line the media node can use (${SDES_SUITE}, one inline key, no MKI or session parameters)`);
  }
  return chosen;
}

/** What the PBX's answer settles. */
export interface PbxAnswer {
  readonly audio: Codec;
  readonly telephoneEvent: Codec | undefined;
  readonly remote: PbxRemote;
  /** The PBX's direction for the stream (RFC 3264 §6.1), with `c=0.0.0.0` read as hold. */
  readonly direction: Direction;
  /** Payload types the PBX may send: those of its answer and, where it renumbered, those we offered. */
  readonly aliases: ReadonlyMap<number, number>;
  /** The PBX's key, when it answered RTP/SAVP. */
  readonly sdes: PbxSdes | undefined;
}

/**
 * Reads the PBX's answer to `offered`: its first audio codec that can be relayed to and from
 * `browserAudio` (the browser leg's codec, or when the browser has not answered yet, any of those
 * it was offered). Throws `MediaSessionError`.
 */
export function readPbxAnswer(answer: SdpSession, browserAudio: CodecFormat | readonly CodecFormat[], offered: readonly CodecInput[]): PbxAnswer {
  const browserCandidates: readonly CodecFormat[] = Array.isArray(browserAudio) ? browserAudio : [browserAudio as CodecFormat];
  const media = answer.media.find((section) => section.type === 'audio' && isRtpProtocol(section.protocol));
  if (media === undefined) throw new MediaSessionError('bad-pbx-sdp', 'the PBX answer has no audio stream');
  if (isRejected(media)) throw new MediaSessionError('pbx-rejected-media', 'the PBX rejected the audio stream (port 0)');
  const connection = connectionOf(answer, media);
  if (connection === undefined) throw new MediaSessionError('bad-pbx-sdp', 'the PBX answer has no c= line for its audio');
  const codecs = listCodecs(media);
  const audio = codecs.find((codec) => !isTelephoneEvent(codec) && browserCandidates.some((browser) => !isTelephoneEvent(browser) && pathKind(browser, codec) !== undefined));
  if (audio === undefined) throw new MediaSessionError('no-common-codec', 'the PBX answered no codec the media node can relay');
  const telephoneEvent = codecs.find((codec) => isTelephoneEvent(codec) && codec.clockRate === audio.clockRate);
  const aliases = new Map<number, number>();
  for (const answered of [audio, telephoneEvent]) {
    if (answered === undefined) continue;
    aliases.set(answered.payloadType, answered.payloadType);
    const ours = offered.find((codec) => sameCodecFormat(codec, answered));
    if (ours !== undefined && !aliases.has(ours.payloadType)) aliases.set(ours.payloadType, answered.payloadType);
  }
  return {
    audio,
    telephoneEvent,
    remote: { address: connection.ip, rtpPort: media.port, ...(media.rtcp === undefined ? {} : { rtcpPort: media.rtcp.port }) },
    direction: mediaDirection(answer, media).direction,
    aliases,
    sdes: readPbxSdes(media),
  };
}

/**
 * The PBX's offer read for an answer (a call from the PBX): the audio codec the node takes, by the
 * PBX-side preferences, among those it can relay to some browser codec, and the events at its clock;
 * payload types are the PBX's own (RFC 3264 §6.1). Throws `MediaSessionError`.
 */
export function readPbxOffer(
  offer: SdpSession,
  preferences: readonly CodecFormat[],
  browserPreferences: readonly CodecFormat[],
): {
  readonly audio: Codec;
  readonly telephoneEvent: Codec | undefined;
  readonly remote: PbxRemote;
  readonly direction: Direction;
  /** The RFC 2543 hold form, `c=0.0.0.0`: not an address to send to. */
  readonly legacyHold: boolean;
  readonly sdes: PbxSdes | undefined;
} {
  const media = offer.media.find((section) => section.type === 'audio' && isRtpProtocol(section.protocol) && !isRejected(section));
  if (media === undefined) throw new MediaSessionError('bad-pbx-sdp', 'the PBX offer has no audio stream');
  const connection = connectionOf(offer, media);
  if (connection === undefined) throw new MediaSessionError('bad-pbx-sdp', 'the PBX offer has no c= line for its audio');
  const negotiated = negotiateCodecs(media, preferences);
  const audio = negotiated.find(
    (codec) => !isTelephoneEvent(codec) && browserPreferences.some((browser) => !isTelephoneEvent(browser) && pathKind(codec, browser) !== undefined),
  );
  if (audio === undefined) throw new MediaSessionError('no-common-codec', 'the PBX offered no codec the media node can relay');
  const telephoneEvent = negotiated.find((codec) => isTelephoneEvent(codec) && codec.clockRate === audio.clockRate);
  return {
    audio,
    telephoneEvent,
    remote: { address: connection.ip, rtpPort: media.port, ...(media.rtcp === undefined ? {} : { rtcpPort: media.rtcp.port }) },
    direction: mediaDirection(offer, media).direction,
    legacyHold: mediaDirection(offer, media).legacyHold,
    sdes: readPbxSdes(media),
  };
}

/** The PBX's offer as `readPbxOffer` reads it. */
export type PbxOffer = ReturnType<typeof readPbxOffer>;

/** The codecs the node answers a PBX offer with: the audio codec it took, and the events if any. */
export function answerCodecs(offer: { readonly audio: Codec; readonly telephoneEvent: Codec | undefined }): Codec[] {
  return offer.telephoneEvent === undefined ? [offer.audio] : [offer.audio, offer.telephoneEvent];
}

/**
 * What to offer the browser: the browser preferences the node can relay to and from the PBX's codec
 * (a call from the PBX) or from any of those offered to the PBX (the node offering both legs), with
 * telephone-event at the clock of each audio codec offered, numbered with the static payload types
 * where RFC 3551 has them and dynamic ones (96-127) otherwise.
 */
export function browserOfferCodecs(pbxAudio: CodecFormat | readonly CodecFormat[], browserPreferences: readonly CodecFormat[]): CodecInput[] {
  const pbxCandidates: readonly CodecFormat[] = (Array.isArray(pbxAudio) ? pbxAudio : [pbxAudio as CodecFormat]).filter((codec) => !isTelephoneEvent(codec));
  const audio = browserPreferences.filter((codec) => !isTelephoneEvent(codec) && pbxCandidates.some((pbx) => pathKind(pbx, codec) !== undefined));
  const clocks = new Set(audio.map((codec) => codec.clockRate));
  const events = browserPreferences.filter((codec) => isTelephoneEvent(codec) && clocks.has(codec.clockRate));
  let dynamic = 96;
  return [...audio, ...events].map((codec) => {
    const known = STATIC_PAYLOAD_TYPES[codec.name.toUpperCase()];
    const payloadType = known !== undefined && codec.clockRate === 8000 ? known : dynamic++;
    return { ...codec, payloadType };
  });
}

/** RFC 3551 §6 static payload types of the audio codecs a browser speaks. */
const STATIC_PAYLOAD_TYPES: Readonly<Record<string, number>> = { PCMU: 0, PCMA: 8, G722: 9 };
