/**
 * SDP for sipedge (RFC 8866, RFC 3264 offer/answer, WebRTC): parse and write session descriptions,
 * read and change codecs, direction, ICE, DTLS and SDES, and build the descriptions each leg of
 * the B2BUA sends. Sessions are plain JSON; no helper mutates its argument.
 */

export { SdpError, type SdpErrorReason } from './sdp-error.ts';
export {
  connectionOf,
  ipVersionOf,
  isRejected,
  mapMedia,
  updateMedia,
  type CandidateExtension,
  type IceCandidate,
  type SdpMedia,
  type SdpOrigin,
  type SdpSession,
} from './session.ts';
export { parseSdp } from './parse-sdp.ts';
export { serializeSdp } from './serialize-sdp.ts';

export {
  audioSampleRate,
  findCodec,
  findCodecs,
  isRtpProtocol,
  listCodecs,
  parseFormatParameters,
  payloadTypesOf,
  type Codec,
  type CodecFormat,
  type CodecInput,
  type RtcpFeedback,
} from './codec.ts';
export { staticPayloadType, type StaticPayloadType } from './static-payload-types.ts';
export { sameCodecFormat } from './codec-match.ts';
export { filterCodecs, rejectMedia, setCodecs } from './codec-filter.ts';
export { invertPayloadTypes, mapPayloadTypes, translatePayloadType, type PayloadTypePair } from './payload-type-map.ts';
export { negotiateCodecs } from './codec-negotiation.ts';

export {
  answerDirection,
  isOnHold,
  mediaDirection,
  setDirection,
  type Direction,
  type DirectionSource,
  type MediaDirection,
} from './direction.ts';

export { isMdnsCandidate, parseCandidate, serializeCandidate } from './ice-candidate.ts';
export {
  addCandidate,
  candidatesOf,
  hasEndOfCandidates,
  iceParameters,
  iceRestarts,
  isIceRestart,
  removeCandidates,
  setEndOfCandidates,
  setIceCredentials,
  type IceParameters,
} from './ice.ts';
export {
  answerSetupRole,
  dtlsFingerprint,
  setDtlsFingerprint,
  setSetupRole,
  setupRole,
  type DtlsFingerprint,
  type SetupRole,
} from './dtls.ts';
export {
  chooseCrypto,
  decodeKeySalt,
  encodeKeySalt,
  parseCrypto,
  sdesCryptos,
  serializeCrypto,
  setCryptos,
  type SdesCrypto,
  type SdesKey,
} from './sdes-crypto.ts';

export { rewriteMedia, type RewriteMediaOptions } from './rewrite-media.ts';
export { buildRtpSdp, type BuildRtpSdpOptions } from './build-rtp-sdp.ts';
export { buildWebRtcSdp, type BuildWebRtcSdpOptions } from './build-webrtc-sdp.ts';
export { newOrigin, nextOrigin, reviseSdp, sameSdpContent, type NewOriginOptions } from './origin.ts';
