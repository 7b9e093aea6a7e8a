/**
 * RTP as a UDP peer playing the PBX receives it: the next packets, RTCP skipped, each with its
 * header and payload, decrypted first where the leg is SRTP. A malformed packet fails the wait;
 * every wait has a deadline.
 */
import { looksLikeRtcp, readRtpHeader, type RtpHeaderFields } from '../../../media-node/rtp/index.ts';
import type { UdpPeer } from './udp.ts';

export interface ReceivedRtp {
  readonly header: RtpHeaderFields;
  readonly payload: Uint8Array;
}

/** The next `count` RTP packets at `peer`, within `timeoutMs` (15 s by default). */
export async function rtpAt(
  peer: UdpPeer,
  count: number,
  options: { readonly timeoutMs?: number; readonly decrypt?: (datagram: Uint8Array) => Uint8Array } = {},
): Promise<ReceivedRtp[]> {
  const deadline = performance.now() + (options.timeoutMs ?? 15_000);
  const packets: ReceivedRtp[] = [];
  while (packets.length < count) {
    const datagram = await peer.next(Math.max(1, deadline - performance.now()));
    if (looksLikeRtcp(datagram.data)) continue;
    const data = options.decrypt === undefined ? datagram.data : options.decrypt(datagram.data);
    const parsed = readRtpHeader(data);
    if (!parsed.ok) throw new Error(`malformed RTP at port ${peer.port}${options.decrypt === undefined ? '' : ' after decryption'}: ${parsed.error}`);
    const header = parsed.value;
    packets.push({ header, payload: data.slice(header.payloadOffset, header.payloadOffset + header.payloadLength) });
  }
  return packets;
}
