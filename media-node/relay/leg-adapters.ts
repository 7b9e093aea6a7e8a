/**
 * The two legs seen through the relay's seam (`media-path.ts`): packets in as `InboundPacket` (the
 * browser leg's `BrowserRtp` already is one), packets out through an `OutboundLeg`.
 */
import { Buffer } from 'node:buffer';
import type { BrowserLeg } from '../browser-leg/index.ts';
import type { PbxLeg } from '../pbx-leg/index.ts';
import { RTP_HEADER_SIZE, writeRtpHeader, type RtpHeaderFields, type RtpHeaderRewrite } from '../rtp/index.ts';
import type { InboundPacket, OutboundLeg } from './media-path.ts';
import type { PbxRtcpReporter } from './pbx-rtcp-reporter.ts';

/**
 * A packet from the PBX leg (which owns the buffer and has validated the header). `payloadType`
 * is the canonical number of its format on this leg, where the PBX renumbered in its answer.
 */
export function fromPbx(packet: Uint8Array, header: RtpHeaderFields, payloadType: number): InboundPacket {
  return {
    payloadType,
    sequenceNumber: header.sequenceNumber,
    timestamp: header.timestamp,
    ssrc: header.ssrc,
    marker: header.marker,
    payload: packet.subarray(header.payloadOffset, header.payloadOffset + header.payloadLength),
  };
}

export function toBrowser(leg: BrowserLeg): OutboundLeg {
  return { send: (header, payload) => leg.sendRtp(header, payload) };
}

/**
 * Builds each packet in a buffer of its own, since the socket may still hold the last one; from
 * Buffer's pool (`allocUnsafe`: a slice of a shared slab, every octet written here) rather than an
 * ArrayBuffer per packet, which each scavenge would have to sweep.
 */
export function toPbx(leg: PbxLeg, rtcp: PbxRtcpReporter, now: () => number): OutboundLeg {
  return {
    send(header: RtpHeaderRewrite, payload: Uint8Array): boolean {
      const packet = Buffer.allocUnsafe(RTP_HEADER_SIZE + payload.length);
      writeRtpHeader(packet, header);
      packet.set(payload, RTP_HEADER_SIZE);
      if (!leg.sendRtp(packet)) return false;
      rtcp.onSent(payload.length, header.timestamp, now());
      return true;
    },
  };
}
