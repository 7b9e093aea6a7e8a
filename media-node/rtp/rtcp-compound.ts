/**
 * RTCP compound packets (RFC 3550 §6.1): checked here, parsed and built with werift's classes.
 *
 * werift's `RtcpPacketConverter` trusts the length fields it reads, so a packet from the network is
 * first put through the validity checks of RFC 3550 A.2. Only sender and receiver reports (and BYE)
 * matter to the media node's own RTCP; feedback packets on the browser leg are werift's business.
 */
import { Buffer } from 'node:buffer';
import {
  RtcpPacketConverter,
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpSenderInfo,
  RtcpSourceDescriptionPacket,
  RtcpSrPacket,
  SourceDescriptionChunk,
  SourceDescriptionItem,
} from 'werift';
import { err, ok, type Result } from '../result.ts';

const SR = 200;
const RR = 201;
const BYE = 203;
/** RFC 3550 §6.5: SDES item type of the canonical name. */
const CNAME = 1;

/** One report block (RFC 3550 §6.4.1), with the signed cumulative loss already sign-extended. */
export interface ReportBlock {
  readonly ssrc: number;
  /** Loss since the previous report, as a fraction of 256. */
  readonly fractionLost: number;
  /** Cumulative packets lost; negative when duplicates outnumber losses. */
  readonly cumulativeLost: number;
  /** Extended highest sequence number received. */
  readonly highestSequence: number;
  /** Interarrival jitter, in timestamp units. */
  readonly jitter: number;
  /** LSR: compact NTP time of the last sender report received from this source, 0 if none. */
  readonly lastSenderReport: number;
  /** DLSR: delay since that sender report, in 1/65536 s. */
  readonly delaySinceLastSenderReport: number;
}

export interface SenderInfo {
  /** 64-bit NTP timestamp (RFC 3550 §4). */
  readonly ntpTimestamp: bigint;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
}

export interface RtcpReport {
  readonly kind: 'sender-report' | 'receiver-report';
  readonly ssrc: number;
  readonly senderInfo?: SenderInfo;
  readonly blocks: readonly ReportBlock[];
}

export interface RtcpCompound {
  readonly reports: readonly RtcpReport[];
  /** SSRCs that said goodbye (RFC 3550 §6.6). */
  readonly byes: readonly number[];
}

export type RtcpProblem = 'too-short' | 'not-version-2' | 'not-a-report-first' | 'bad-length' | 'padding-not-last' | 'unparsable';

export interface RtcpReadOptions {
  /** RFC 5506 reduced-size RTCP: a packet need not start with a report. */
  readonly reducedSize?: boolean;
}

/** Validates a compound packet from the network (RFC 3550 A.2) and reads its reports and BYEs. */
export function readRtcpCompound(packet: Uint8Array, options: RtcpReadOptions = {}): Result<RtcpCompound, RtcpProblem> {
  const problem = checkRtcpCompound(packet, options);
  if (problem !== undefined) return err(problem);
  const buffer = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  let parsed: ReturnType<typeof RtcpPacketConverter.deSerialize>;
  try {
    parsed = RtcpPacketConverter.deSerialize(buffer);
  } catch {
    return err('unparsable');
  }
  const reports: RtcpReport[] = [];
  for (const item of parsed) {
    if (item instanceof RtcpSrPacket) {
      const { ntpTimestamp, rtpTimestamp, packetCount, octetCount } = item.senderInfo;
      reports.push({
        kind: 'sender-report',
        ssrc: item.ssrc,
        senderInfo: { ntpTimestamp, rtpTimestamp, packetCount, octetCount },
        blocks: item.reports.map(fromWerift),
      });
    } else if (item instanceof RtcpRrPacket) {
      reports.push({ kind: 'receiver-report', ssrc: item.ssrc, blocks: item.reports.map(fromWerift) });
    }
  }
  return ok({ reports, byes: readByes(packet) });
}

/** RFC 3550 A.2: version 2 throughout, a report first, padding only last, lengths that add up. */
function checkRtcpCompound(packet: Uint8Array, options: RtcpReadOptions): RtcpProblem | undefined {
  if (packet.length < 8) return 'too-short';
  const first = packet[0] as number;
  const firstType = packet[1] as number;
  if (!options.reducedSize && ((first & 0x20) !== 0 || (firstType !== SR && firstType !== RR))) return 'not-a-report-first';
  let offset = 0;
  while (offset < packet.length) {
    if (offset + 4 > packet.length) return 'bad-length';
    const octet = packet[offset] as number;
    if (octet >> 6 !== 2) return 'not-version-2';
    const length = 4 * ((((packet[offset + 2] as number) << 8) | (packet[offset + 3] as number)) + 1);
    const next = offset + length;
    if (next > packet.length) return 'bad-length';
    if ((octet & 0x20) !== 0 && next !== packet.length) return 'padding-not-last';
    offset = next;
  }
  return undefined;
}

/** werift does not parse BYE (RFC 3550 §6.6): SC SSRCs follow the header. */
function readByes(packet: Uint8Array): number[] {
  const byes: number[] = [];
  let offset = 0;
  while (offset + 4 <= packet.length) {
    const count = (packet[offset] as number) & 0x1f;
    const length = 4 * ((((packet[offset + 2] as number) << 8) | (packet[offset + 3] as number)) + 1);
    if (packet[offset + 1] === BYE) {
      for (let i = 0; i < count && 4 * (i + 2) <= length; i++) {
        const at = offset + 4 + 4 * i;
        byes.push(
          (((packet[at] as number) << 24) | ((packet[at + 1] as number) << 16) | ((packet[at + 2] as number) << 8) | (packet[at + 3] as number)) >>> 0,
        );
      }
    }
    offset += length;
  }
  return byes;
}

function fromWerift(info: RtcpReceiverInfo): ReportBlock {
  return {
    ssrc: info.ssrc,
    fractionLost: info.fractionLost,
    // RFC 3550 §6.4.1: cumulative loss is a signed 24-bit number.
    cumulativeLost: (info.packetsLost << 8) >> 8,
    highestSequence: info.highestSequence,
    jitter: info.jitter,
    lastSenderReport: info.lsr,
    delaySinceLastSenderReport: info.dlsr,
  };
}

function toWerift(block: ReportBlock): RtcpReceiverInfo {
  return new RtcpReceiverInfo({
    ssrc: block.ssrc >>> 0,
    fractionLost: Math.max(0, Math.min(255, Math.round(block.fractionLost))),
    packetsLost: clampSigned24(block.cumulativeLost) & 0xffffff,
    highestSequence: block.highestSequence >>> 0,
    jitter: Math.max(0, Math.round(block.jitter)) >>> 0,
    lsr: block.lastSenderReport >>> 0,
    dlsr: block.delaySinceLastSenderReport >>> 0,
  });
}

function clampSigned24(value: number): number {
  return Math.max(-0x800000, Math.min(0x7fffff, Math.round(value)));
}

/** RFC 3550 §6.1: every compound packet carries an SDES with the sender's CNAME. */
function cnameChunk(ssrc: number, cname: string): Buffer {
  return new RtcpSourceDescriptionPacket({
    chunks: [new SourceDescriptionChunk({ source: ssrc >>> 0, items: [new SourceDescriptionItem({ type: CNAME, text: cname })] })],
  }).serialize();
}

/** A compound receiver report: RR (RFC 3550 §6.4.2) then SDES CNAME. At most 31 blocks. */
export function buildReceiverReport(ssrc: number, blocks: readonly ReportBlock[], cname: string): Buffer {
  const rr = new RtcpRrPacket({ ssrc: ssrc >>> 0, reports: blocks.slice(0, 31).map(toWerift) });
  return Buffer.concat([rr.serialize(), cnameChunk(ssrc, cname)]);
}

/** A compound sender report: SR (RFC 3550 §6.4.1) then SDES CNAME. At most 31 blocks. */
export function buildSenderReport(ssrc: number, sender: SenderInfo, blocks: readonly ReportBlock[], cname: string): Buffer {
  const sr = new RtcpSrPacket({
    ssrc: ssrc >>> 0,
    senderInfo: new RtcpSenderInfo({
      ntpTimestamp: sender.ntpTimestamp,
      rtpTimestamp: sender.rtpTimestamp >>> 0,
      packetCount: sender.packetCount >>> 0,
      octetCount: sender.octetCount >>> 0,
    }),
    reports: blocks.slice(0, 31).map(toWerift),
  });
  return Buffer.concat([sr.serialize(), cnameChunk(ssrc, cname)]);
}
