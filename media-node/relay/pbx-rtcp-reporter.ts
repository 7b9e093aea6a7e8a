/**
 * RTCP on the PBX leg (the browser leg's are `browser-leg/browser-rtcp-reports.ts`). The node reports on the stream it
 * receives from the PBX and describes the one it sends (RFC 3550 §6.4): a sender report once it has
 * sent RTP, a receiver report before; each with a report block about the PBX's stream and an SDES
 * CNAME (§6.1). Reports go out about every 5 s (§6.2's minimum), randomised over 0.5-1.5 of that so
 * that calls started together do not report together (§6.3.1). The PBX's reports about our stream
 * give the round-trip time (§6.4.1), and its sender reports the LSR/DLSR of our next block.
 *
 * Times: `nowMs` must be wall-clock milliseconds (the NTP timestamps of SRs are derived from it).
 */
import type { ReceiveStatistics } from '../quality/index.ts';
import { RoundTripTracker } from '../quality/index.ts';
import { addTimestamp, buildReceiverReport, buildSenderReport, ntpFromUnixMs, type RtcpCompound } from '../rtp/index.ts';

export interface PbxRtcpReporterOptions {
  readonly ssrc: number;
  readonly cname: string;
  /** Clock rate of the stream sent to the PBX. */
  readonly clockRate: number;
  /** Default 5,000 ms. */
  readonly intervalMs?: number;
}

export class PbxRtcpReporter {
  readonly roundTrip = new RoundTripTracker();
  readonly #ssrc: number;
  readonly #cname: string;
  readonly #clockRate: number;
  readonly #intervalMs: number;
  #nextReportMs: number | undefined;
  #sent: { packets: number; octets: number; timestamp: number; atMs: number } | undefined;
  #remoteSsrc: number | undefined;

  constructor(options: PbxRtcpReporterOptions) {
    this.#ssrc = options.ssrc;
    this.#cname = options.cname;
    this.#clockRate = options.clockRate;
    this.#intervalMs = options.intervalMs ?? 5000;
  }

  /** The RTP clock of what the node sends the PBX. */
  get clockRate(): number {
    return this.#clockRate;
  }

  /** One RTP packet sent toward the PBX. */
  onSent(payloadOctets: number, timestamp: number, nowMs: number): void {
    const sent = this.#sent ?? { packets: 0, octets: 0, timestamp, atMs: nowMs };
    sent.packets++;
    sent.octets += payloadOctets;
    sent.timestamp = timestamp;
    sent.atMs = nowMs;
    this.#sent = sent;
  }

  /** One RTP packet received from the PBX (its SSRC is what our report blocks are about). */
  onReceived(ssrc: number): void {
    this.#remoteSsrc = ssrc;
  }

  /** A compound packet from the PBX. */
  onRtcp(compound: RtcpCompound, nowMs: number, receive: ReceiveStatistics | undefined): void {
    for (const report of compound.reports) {
      if (report.senderInfo !== undefined && report.ssrc === this.#remoteSsrc) receive?.onSenderReport(report.senderInfo.ntpTimestamp, nowMs);
      for (const block of report.blocks) {
        if (block.ssrc === this.#ssrc) this.roundTrip.onReportBlock(block, nowMs);
      }
    }
  }

  /** The report to send now, if one is due. */
  due(nowMs: number, receive: ReceiveStatistics | undefined): Uint8Array | undefined {
    if (this.#nextReportMs === undefined) this.#nextReportMs = nowMs + this.#nextInterval();
    if (nowMs < this.#nextReportMs) return undefined;
    this.#nextReportMs = nowMs + this.#nextInterval();
    const blocks = receive !== undefined && this.#remoteSsrc !== undefined ? [receive.reportBlock(this.#remoteSsrc, nowMs)] : [];
    const sent = this.#sent;
    if (sent === undefined) return buildReceiverReport(this.#ssrc, blocks, this.#cname);
    // RFC 3550 §6.4.1: the RTP timestamp of the same instant as the NTP timestamp.
    const rtpTimestamp = addTimestamp(sent.timestamp, Math.round(((nowMs - sent.atMs) * this.#clockRate) / 1000));
    return buildSenderReport(
      this.#ssrc,
      { ntpTimestamp: ntpFromUnixMs(nowMs), rtpTimestamp, packetCount: sent.packets, octetCount: sent.octets },
      blocks,
      this.#cname,
    );
  }

  #nextInterval(): number {
    return this.#intervalMs * (0.5 + Math.random());
  }
}
