/**
 * Payload type numbers between the two legs of a call.
 *
 * Each leg binds its dynamic payload types (96-127) itself with rtpmap (RFC 8866 §6.6): the
 * browser's telephone-event may be 126 where the PBX uses 101, its Opus 111 where another leg uses
 * 96. A media node relaying RTP without transcoding rewrites the payload type field of every packet
 * through this table.
 */

import { type Codec, listCodecs } from './codec.ts';
import { pairCodecs } from './codec-match.ts';
import type { SdpMedia } from './session.ts';

/** One codec both legs share, with the payload type each leg gives it. */
export interface PayloadTypePair {
  readonly from: number;
  readonly to: number;
  readonly name: string;
  readonly clockRate: number;
  readonly channels: number;
}

/**
 * Maps the payload types of `from` to those of `to` for every codec both describe (same name, clock
 * rate, channels, and identifying format parameters; RTX through its `apt`). Codecs only one leg has
 * are absent from the result, so a packet whose type is not in the table cannot be relayed as is.
 */
export function mapPayloadTypes(from: SdpMedia | readonly Codec[], to: SdpMedia | readonly Codec[]): PayloadTypePair[] {
  return pairCodecs(codecsOf(from), codecsOf(to)).map(([source, target]) => ({
    from: source.payloadType,
    to: target.payloadType,
    name: source.name,
    clockRate: source.clockRate,
    channels: source.channels,
  }));
}

/** The payload type `to` uses for the `from` payload type, if the legs share that codec. */
export function translatePayloadType(pairs: readonly PayloadTypePair[], payloadType: number): number | undefined {
  return pairs.find((pair) => pair.from === payloadType)?.to;
}

/** The same table read the other way, for packets flowing back. */
export function invertPayloadTypes(pairs: readonly PayloadTypePair[]): PayloadTypePair[] {
  return pairs.map((pair) => ({ ...pair, from: pair.to, to: pair.from }));
}

export function codecsOf(source: SdpMedia | readonly Codec[]): readonly Codec[] {
  return isCodecList(source) ? source : listCodecs(source);
}

function isCodecList(source: SdpMedia | readonly Codec[]): source is readonly Codec[] {
  return Array.isArray(source);
}
