/**
 * The session description as plain data.
 *
 * The shape is sdp-transform's (the de facto object model of SDP in JavaScript: mediasoup, Janus
 * clients and most WebRTC tooling read it), with the fields sdp-transform leaves loosely typed made
 * exact: identifiers that look numeric (`a=mid:0`, `a=group:BUNDLE 0`, an all-digit ufrag) stay
 * strings, the origin's session id and version are decimal strings because they may exceed 2^53
 * (Chrome's ids are 63-bit), and ICE candidates keep every extension attribute.
 *
 * Sessions are plain JSON, so they can be stored in a Durable Object and compared. No helper in this
 * folder mutates its argument: each returns a new session or media section.
 */

import type { MediaDescription, SessionDescription } from 'sdp-transform';

/** `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (RFC 8866 §5.2). */
export interface SdpOrigin {
  username: string;
  /** Decimal digits; unique per session for the originator, kept for the life of the session. */
  sessionId: string;
  /** Decimal digits; RFC 3264 §8 increments it by exactly one whenever the description changes. */
  sessionVersion: string;
  netType: string;
  ipVer: number;
  address: string;
}

/**
 * One `a=candidate` line (RFC 8839 §5.1). Field names follow sdp-transform; extension attributes
 * other than `tcptype` (RFC 6544 §4.5), such as Chrome's `generation`, `network-id`, `network-cost`
 * and `ufrag`, are kept in order so that a relayed candidate is written back as received.
 */
export interface IceCandidate {
  foundation: string;
  /** 1 for RTP, 2 for RTCP when RTCP is not multiplexed. */
  component: number;
  /** As written: `udp`, `UDP`, `tcp`. */
  transport: string;
  priority: number;
  /** An IP address or, for browsers hiding host addresses, an mDNS name ending in `.local`. */
  ip: string;
  port: number;
  /** `host`, `srflx`, `prflx`, `relay`, or an extension type. */
  type: string;
  raddr?: string;
  rport?: number;
  /** ICE-TCP role (RFC 6544 §4.5). */
  tcptype?: string;
  extensions: CandidateExtension[];
}

export interface CandidateExtension {
  name: string;
  value: string;
}

/** One media section (`m=` and the lines after it). */
export interface SdpMedia extends Omit<MediaDescription, 'candidates' | 'payloads'> {
  /** The `<fmt>` list of the `m=` line as written: payload types for RTP, a token otherwise. */
  payloads: string;
  candidates?: IceCandidate[];
}

/** A whole session description. */
export interface SdpSession extends Omit<SessionDescription, 'origin' | 'media'> {
  origin: SdpOrigin;
  media: SdpMedia[];
}

/** The `c=` line of a media section, or of the session when the section has none (RFC 8866 §5.7). */
export function connectionOf(session: SdpSession, media: SdpMedia): { version: number; ip: string } | undefined {
  return media.connection ?? session.connection;
}

/** RFC 3264 §6: a port of zero rejects (or, in an offer, disables) the stream. */
export function isRejected(media: SdpMedia): boolean {
  return media.port === 0;
}

/** Address type for a `c=` or `o=` line: IP6 when the address has a colon, else IP4. */
export function ipVersionOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

/** Returns a session with media section `index` replaced by `update(section)`. */
export function updateMedia(session: SdpSession, index: number, update: (media: SdpMedia) => SdpMedia): SdpSession {
  return { ...session, media: session.media.map((media, i) => (i === index ? update(media) : media)) };
}

/** Returns a session with every media section passed through `update`. */
export function mapMedia(session: SdpSession, update: (media: SdpMedia, index: number) => SdpMedia): SdpSession {
  return { ...session, media: session.media.map(update) };
}
