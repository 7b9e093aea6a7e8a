/**
 * The formats one leg carries once negotiated: one audio codec and, optionally, RFC 4733
 * telephone-event, each with the payload type that leg gives it.
 */
import type { CodecInput } from '../../shared/sdp/index.ts';
import type { RtpFormat } from '../rtp/index.ts';

export interface LegFormats {
  readonly audio: CodecInput;
  readonly telephoneEvent: CodecInput | undefined;
}

export function rtpFormats(formats: LegFormats): RtpFormat[] {
  const list = [formats.audio, ...(formats.telephoneEvent === undefined ? [] : [formats.telephoneEvent])];
  return list.map((codec) => ({
    payloadType: codec.payloadType,
    encodingName: codec.name,
    clockRate: codec.clockRate,
    ...(codec.channels === undefined ? {} : { channels: codec.channels }),
  }));
}

export function isTelephoneEventOf(formats: LegFormats, payloadType: number): boolean {
  return formats.telephoneEvent?.payloadType === payloadType;
}
