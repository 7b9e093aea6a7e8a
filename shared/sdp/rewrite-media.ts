/**
 * Pointing media sections at another address: what a B2BUA does when it anchors media on a media
 * node, so that each party sends RTP to the node instead of to the other party.
 */

import { mediaDirection } from './direction.ts';
import { ipVersionOf, type SdpMedia, type SdpSession } from './session.ts';
import { assertPort } from './session-validation.ts';

export interface RewriteMediaOptions {
  /** The address the sections should now receive on (IPv4, IPv6 or a host name). */
  readonly address: string;
  /** The port for every rewritten section, or one per section. */
  readonly port: number | ((media: SdpMedia, index: number) => number);
  /** A new transport protocol for the `m=` lines, such as `RTP/AVP` toward a PBX. */
  readonly protocol?: string;
  /**
   * An explicit RTCP port, written as `a=rtcp` (RFC 3605). Without it any `a=rtcp` is removed,
   * because the old one names the old address: RTCP then goes to port + 1 (RFC 3550 §11), or to the
   * RTP port when `a=rtcp-mux` was negotiated (RFC 5761 §5.1.1).
   */
  readonly rtcpPort?: number;
  /** Which sections to rewrite; by default every section not rejected (port zero stays zero, RFC 3264 §6). */
  readonly select?: (media: SdpMedia, index: number) => boolean;
}

/**
 * Returns the session with the connection address and port of the selected media sections
 * replaced. The `o=` line is not touched: the leg that sends the result owns its origin (see
 * `reviseSdp`). A section held with the RFC 2543 `c=0.0.0.0` form gets the equivalent direction
 * attribute (RFC 3264 §8.4), since the hold would otherwise vanish with the address.
 */
export function rewriteMedia(session: SdpSession, options: RewriteMediaOptions): SdpSession {
  const select = options.select ?? ((media: SdpMedia) => media.port !== 0);
  const connection = { version: ipVersionOf(options.address), ip: options.address };
  if (options.rtcpPort !== undefined) assertPort(options.rtcpPort);
  const media = session.media.map((section, index): SdpMedia => {
    if (!select(section, index)) {
      // The session-level c= changes below; a section left alone keeps the address it had.
      return section.connection === undefined && session.connection !== undefined ? { ...section, connection: session.connection } : section;
    }
    const port = typeof options.port === 'function' ? options.port(section, index) : options.port;
    assertPort(port);
    const { rtcp: _oldRtcp, ...rest } = section;
    const held = mediaDirection(session, section);
    return {
      ...rest,
      port,
      // A section that inherited the session-level c= keeps inheriting it; that line changes below.
      ...(section.connection === undefined && session.connection !== undefined ? {} : { connection }),
      ...(options.protocol === undefined ? {} : { protocol: options.protocol }),
      ...(held.legacyHold ? { direction: held.direction } : {}),
      ...(options.rtcpPort === undefined ? {} : { rtcp: { port: options.rtcpPort, netType: 'IN', ipVer: connection.version, address: options.address } }),
    };
  });
  return { ...session, ...(session.connection === undefined ? {} : { connection }), media };
}
