/**
 * Choosing the codecs of an answer (RFC 3264 §6.1).
 *
 * The answer lists, for each accepted stream, formats taken from the offer: the answerer orders them
 * by its own preference, and keeps the offerer's payload type numbers ("if a particular codec was
 * referenced with a specific payload type number in the offer, that same payload type number
 * SHOULD be used for that codec in the answer"). sipedge always keeps them, so that both directions
 * of a leg use one numbering and a relay never has to guess.
 */

import type { Codec, CodecFormat, RtcpFeedback } from './codec.ts';
import { parseFormatParameters } from './codec.ts';
import { retransmittedPayloadType, sameCodecFormat } from './codec-match.ts';
import { codecsOf } from './payload-type-map.ts';
import type { SdpMedia } from './session.ts';

/**
 * The answer's codecs for an offered media section, given what the answerer supports in its order
 * of preference. Each capability takes the first offered codec of the same format, with:
 * - the offer's payload type, encoding name and clock rate;
 * - the capability's fmtp when it has one (format parameters in an answer describe what the
 *   answerer receives), else the offer's;
 * - the feedback both sides list (RFC 4585 §4.2: an answer never adds feedback the offer lacked).
 * An `rtx` capability takes every offered RTX entry whose `apt` names a chosen codec (RFC 4588 §8).
 *
 * An empty result means no codec in common: RFC 3264 §6 then requires rejecting the stream
 * (`rejectMedia`), or, for the whole call, a 488 Not Acceptable Here.
 */
export function negotiateCodecs(offer: SdpMedia | readonly Codec[], supported: readonly CodecFormat[]): Codec[] {
  const offered = codecsOf(offer);
  const chosen: { readonly capability: CodecFormat; readonly codec: Codec }[] = [];
  for (const capability of supported) {
    if (isRtx(capability)) continue;
    const match = offered.find((codec) => !chosen.some((entry) => entry.codec === codec) && sameCodecFormat(codec, capability));
    if (match !== undefined) chosen.push({ capability, codec: match });
  }
  const chosenTypes = new Set(chosen.map((entry) => entry.codec.payloadType));
  const answer: Codec[] = [];
  for (const capability of supported) {
    if (isRtx(capability)) {
      const retransmissions = offered.filter((codec) => {
        const apt = retransmittedPayloadType(codec);
        return apt !== undefined && chosenTypes.has(apt) && codec.clockRate === capability.clockRate;
      });
      for (const codec of retransmissions) {
        if (!answer.includes(codec)) answer.push(codec);
      }
      continue;
    }
    const entry = chosen.find((candidate) => candidate.capability === capability);
    if (entry !== undefined) answer.push(answerCodec(entry.codec, capability));
  }
  return answer;
}

function answerCodec(offered: Codec, capability: CodecFormat): Codec {
  const fmtp = capability.fmtp ?? offered.fmtp;
  return {
    payloadType: offered.payloadType,
    name: offered.name,
    clockRate: offered.clockRate,
    channels: offered.channels,
    ...(fmtp === undefined ? {} : { fmtp }),
    rtcpFb: commonFeedback(offered.rtcpFb, capability.rtcpFb ?? []),
    parameters: parseFormatParameters(fmtp),
  };
}

function commonFeedback(offered: readonly RtcpFeedback[], supported: readonly RtcpFeedback[]): RtcpFeedback[] {
  return offered.filter((feedback) => supported.some((s) => s.type === feedback.type && s.subtype === feedback.subtype));
}

function isRtx(codec: CodecFormat): boolean {
  return codec.name.toLowerCase() === 'rtx';
}
