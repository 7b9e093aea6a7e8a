/**
 * The cryptographic transform of one SRTP suite under one master key (RFC 3711 §4, RFC 7714 §8-9):
 * what `srtp-context.ts` calls once it knows a packet's SSRC and index. Rollover counters, SRTCP
 * indexes and replay windows stay in the context.
 */
export interface SrtpTransform {
  /** Octets after the payload of an SRTP packet: the authentication tag. */
  readonly rtpTagOctets: number;
  /** Octets after the body of an SRTCP packet: tag and E flag with index, in the suite's order. */
  readonly rtcpTrailerOctets: number;
  /** The SRTP packet for `packet` (header of `headerOctets` in clear). */
  protectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array;
  /** The RTP packet inside `packet`; undefined when it does not authenticate. */
  unprotectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array | undefined;
  /** The SRTCP packet for `packet`, encrypted, under the 31-bit `index`. */
  protectRtcp(packet: Uint8Array, ssrc: number, index: number): Uint8Array;
  /** The RTCP packet inside `packet` and its index; undefined when it does not authenticate. */
  unprotectRtcp(packet: Uint8Array, ssrc: number): { readonly packet: Uint8Array; readonly index: number } | undefined;
}

/** The SRTCP E flag (RFC 3711 §3.4): set, the body is encrypted. */
export const SRTCP_E_FLAG = 0x80000000;
export const SRTCP_INDEX_OCTETS = 4;

export function writeUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 24) & 0xff;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

export function readWord(bytes: Uint8Array, offset: number): number {
  return (((bytes[offset] as number) << 24) | ((bytes[offset + 1] as number) << 16) | ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number)) >>> 0;
}

/** `bytes[start, end)` to `to` at `at`: an octet loop, cheaper than `set` + `subarray` for a header. */
export function copyOctets(bytes: Uint8Array, start: number, end: number, to: Uint8Array, at: number): void {
  for (let i = start; i < end; i++) to[at + i - start] = bytes[i] as number;
}
