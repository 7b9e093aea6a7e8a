/**
 * A plain RTP session description for the PBX or trunk leg: one media section, `RTP/AVP` (RFC 3551),
 * or `RTP/SAVP` when SDES keys are given (RFC 4568), in the shape Asterisk and FreeSWITCH write
 * themselves, which every SIP peer accepts.
 */

import type { CodecInput } from './codec.ts';
import { assertCodecList, setCodecs } from './codec-filter.ts';
import type { Direction } from './direction.ts';
import { type SdesCrypto, setCryptos } from './sdes-crypto.ts';
import { ipVersionOf, type SdpMedia, type SdpOrigin, type SdpSession } from './session.ts';
import { assertPort } from './session-validation.ts';

export interface BuildRtpSdpOptions {
  /** The leg's origin (`newOrigin` for a new session, `reviseSdp` applies the version rule afterwards). */
  readonly origin: SdpOrigin;
  /** Where the PBX sends RTP: the media node's address toward it. */
  readonly address: string;
  readonly port: number;
  /** In order of preference; telephone-event (RFC 4733) is listed like any other codec. */
  readonly codecs: readonly CodecInput[];
  /** Written explicitly, `sendrecv` by default. */
  readonly direction?: Direction;
  /** `a=ptime` in milliseconds (RFC 8866 §6.4); 20 is what G.711 peers expect. */
  readonly ptime?: number;
  readonly maxptime?: number;
  /** SDES keys; when present the protocol is RTP/SAVP. */
  readonly crypto?: readonly SdesCrypto[];
  /** An explicit `a=rtcp` port (RFC 3605), for a node whose RTCP is not on port + 1. */
  readonly rtcpPort?: number;
  /** `s=` text; `-` by default. */
  readonly sessionName?: string;
  readonly mediaType?: 'audio' | 'video';
}

export function buildRtpSdp(options: BuildRtpSdpOptions): SdpSession {
  assertCodecList(options.codecs);
  assertPort(options.port);
  const connection = { version: ipVersionOf(options.address), ip: options.address };
  const secure = options.crypto !== undefined && options.crypto.length > 0;
  let media: SdpMedia = {
    type: options.mediaType ?? 'audio',
    port: options.port,
    protocol: secure ? 'RTP/SAVP' : 'RTP/AVP',
    payloads: '',
    rtp: [],
    fmtp: [],
    ...(options.ptime === undefined ? {} : { ptime: options.ptime }),
    ...(options.maxptime === undefined ? {} : { maxptime: options.maxptime }),
    ...(options.rtcpPort === undefined ? {} : { rtcp: { port: options.rtcpPort, netType: 'IN', ipVer: connection.version, address: options.address } }),
    direction: options.direction ?? 'sendrecv',
  };
  media = setCodecs(media, options.codecs);
  if (secure) media = setCryptos(media, options.crypto ?? []);
  return {
    version: 0,
    origin: options.origin,
    name: options.sessionName ?? '-',
    connection,
    timing: { start: 0, stop: 0 },
    media: [media],
  };
}
