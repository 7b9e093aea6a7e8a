/**
 * The two legs seen through the relay's seam (`media-path.ts`): packets in as `InboundPacket` (the
 * browser leg's `BrowserRtp` already is one), packets out through an `OutboundLeg`.
 */
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

/** Builds each packet in a buffer of its own: the socket send is asynchronous. */
export function toPbx(leg: PbxLeg, rtcp: PbxRtcpReporter, now: () => number): OutboundLeg {
  return {
    send(header: RtpHeaderRewrite, payload: Uint8Array): boolean {
      const packet = new Uint8Array(RTP_HEADER_SIZE + payload.length);
      writeRtpHeader(packet, header);
      packet.set(payload, RTP_HEADER_SIZE);
      if (!leg.sendRtp(packet)) return false;
      rtcp.onSent(payload.length, header.timestamp, now());
      return true;
    },
  };
}
