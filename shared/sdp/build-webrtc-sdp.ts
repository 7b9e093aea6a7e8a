/**
 * A WebRTC session description for the browser leg: one media section over ICE and DTLS-SRTP
 * (`UDP/TLS/RTP/SAVPF`, the profile JSEP, RFC 8829, uses), with RTCP multiplexed (Chrome and Firefox require
 * `a=rtcp-mux` under their default `rtcpMuxPolicy: "require"`) and the section bundled.
 */

import type { CodecInput } from './codec.ts';
import { assertCodecList, setCodecs } from './codec-filter.ts';
import type { Direction } from './direction.ts';
import type { DtlsFingerprint, SetupRole } from './dtls.ts';
import { SdpError } from './sdp-error.ts';
import { ipVersionOf, type IceCandidate, type SdpMedia, type SdpOrigin, type SdpSession } from './session.ts';
import { assertPort } from './session-validation.ts';

export interface BuildWebRtcSdpOptions {
  readonly origin: SdpOrigin;
  readonly ice: {
    readonly ufrag: string;
    readonly pwd: string;
    /** A lite agent (RFC 8445 §2.5) says so with session-level `a=ice-lite`. */
    readonly lite?: boolean;
    /** `a=ice-options` tokens, such as `trickle`. */
    readonly options?: readonly string[];
  };
  readonly fingerprint: DtlsFingerprint;
  /** `actpass` in an offer; in an answer, `answerSetupRole(...)` of the offer's role. */
  readonly setup: SetupRole;
  readonly candidates: readonly IceCandidate[];
  /** In order of preference. */
  readonly codecs: readonly CodecInput[];
  /** The `a=mid`; in an answer it repeats the offer's (RFC 8843). `0` by default. */
  readonly mid?: string;
  readonly mediaType?: 'audio' | 'video';
  /** Written explicitly, `sendrecv` by default. */
  readonly direction?: Direction;
  /** `a=end-of-candidates` (RFC 8840): true by default, since the media node knows its candidates up front. */
  readonly endOfCandidates?: boolean;
  /** RTP header extensions (`a=extmap`, RFC 8285); in an answer, only ones the offer listed. */
  readonly extensions?: readonly { readonly id: number; readonly uri: string }[];
  /** `a=msid` (RFC 8830), so the browser files the remote track under a known stream. */
  readonly msid?: { readonly stream: string; readonly track: string };
  /** The SSRC the node sends with and its RTCP CNAME (RFC 5576 `a=ssrc`). */
  readonly ssrc?: { readonly id: number; readonly cname: string };
  readonly ptime?: number;
  /** The `m=` protocol, `UDP/TLS/RTP/SAVPF` by default. */
  readonly protocol?: string;
}

/**
 * Builds the description. The `c=` address and `m=` port are those of the first RTP (component 1)
 * candidate, which becomes the default candidate (RFC 8839); with no candidates, they are the
 * placeholders trickle ICE uses, `IN IP4 0.0.0.0` and port 9 (RFC 8840).
 */
export function buildWebRtcSdp(options: BuildWebRtcSdpOptions): SdpSession {
  assertCodecList(options.codecs);
  assertIceCredentials(options.ice.ufrag, options.ice.pwd);
  assertFingerprint(options.fingerprint);
  const mid = options.mid ?? '0';
  const defaultCandidate = options.candidates.find((candidate) => candidate.component === 1);
  const address = defaultCandidate?.ip ?? '0.0.0.0';
  const port = defaultCandidate?.port ?? 9;
  assertPort(port);
  const iceOptions = (options.ice.options ?? []).join(' ');
  const media: SdpMedia = {
    type: options.mediaType ?? 'audio',
    port,
    protocol: options.protocol ?? 'UDP/TLS/RTP/SAVPF',
    payloads: '',
    rtp: [],
    fmtp: [],
    connection: { version: ipVersionOf(address), ip: address },
    iceUfrag: options.ice.ufrag,
    icePwd: options.ice.pwd,
    ...(iceOptions === '' ? {} : { iceOptions }),
    fingerprint: { type: options.fingerprint.hash, hash: options.fingerprint.value },
    setup: options.setup,
    mid,
    ...(options.extensions === undefined || options.extensions.length === 0
      ? {}
      : { ext: options.extensions.map((extension) => ({ value: extension.id, uri: extension.uri })) }),
    direction: options.direction ?? 'sendrecv',
    ...(options.msid === undefined ? {} : { msid: [{ id: options.msid.stream, appdata: options.msid.track }] }),
    rtcpMux: 'rtcp-mux',
    ...(options.ptime === undefined ? {} : { ptime: options.ptime }),
    ...(options.candidates.length === 0 ? {} : { candidates: options.candidates.map((candidate) => structuredClone(candidate)) }),
    ...((options.endOfCandidates ?? true) ? { endOfCandidates: 'end-of-candidates' as const } : {}),
    ...(options.ssrc === undefined ? {} : { ssrcs: [{ id: options.ssrc.id, attribute: 'cname', value: options.ssrc.cname }] }),
  };
  return {
    version: 0,
    origin: options.origin,
    name: '-',
    timing: { start: 0, stop: 0 },
    ...(options.ice.lite === true ? { icelite: 'ice-lite' as const } : {}),
    // RFC 8843: the answerer repeats the BUNDLE group with the sections it accepted.
    groups: [{ type: 'BUNDLE', mids: mid }],
    media: [setCodecs(media, options.codecs)],
  };
}

/** RFC 8839 §5: ice-ufrag is 4 to 256 ice-chars and ice-pwd 22 to 256; browsers refuse shorter ones. */
function assertIceCredentials(ufrag: string, pwd: string): void {
  if (!/^[A-Za-z0-9+/]{4,256}$/.test(ufrag) || !/^[A-Za-z0-9+/]{22,256}$/.test(pwd)) {
    throw new SdpError('invalid-argument', 'ICE ufrag must be 4-256 and pwd 22-256 ice-chars (RFC 8839 §5)');
  }
}

/** RFC 8122 §5: a hash function token and colon-separated hex octets. */
function assertFingerprint(fingerprint: DtlsFingerprint): void {
  if (!/^[A-Za-z0-9-]+$/.test(fingerprint.hash) || !/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})+$/.test(fingerprint.value)) {
    throw new SdpError('invalid-argument', 'a DTLS fingerprint is a hash name and colon-separated hex octets (RFC 8122 §5)');
  }
}
