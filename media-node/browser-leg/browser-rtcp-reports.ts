/**
 * The browser leg's own RTCP reports while the node's SRTP carries its RTP (`dtls-srtp-media.ts`).
 *
 * werift would report from two loops per leg, its sender's SR and its receiver's RR, each every
 * 0.5-1.5 s. RFC 3550 wants one compound per interval for a two-party call: a sender report that
 * carries the report blocks too (§6.4.1), a receiver report while the leg has sent nothing (§6.4.2),
 * and an SDES CNAME in each (§6.1); the interval's minimum is 5 s (§6.2), randomised over 0.5-1.5
 * of it (§6.3.1), the first after half of one (§6.2). So werift's loops are ended for the leg
 * (`silenceWeriftRtcp`) and one timer per leg sends that compound through werift's SRTCP.
 *
 * The figures are werift's own, which the node's SRTP keeps current: the sender's counters and its
 * last RTP and NTP timestamps, the receiver's statistics per browser source (A.3, A.8) and the
 * browser's latest SR (LSR/DLSR). Each SR is noted on werift's sender as werift notes its own, so
 * the browser's report blocks still give werift its round-trip time. Reading the browser's RTCP stays
 * werift's.
 *
 * Times are `Date.now()` milliseconds: werift keeps its SR arrival and departure times on that clock.
 */
import {
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpSenderInfo,
  RtcpSourceDescriptionPacket,
  RtcpSrPacket,
  SourceDescriptionChunk,
  SourceDescriptionItem,
  type RTCRtpReceiver,
  type RTCRtpSender,
  type RTCRtpTransceiver,
  type RtcpPacket,
} from 'werift';
import type { RoundTripTracker } from '../quality/index.ts';
import { addTimestamp, compactNtp, ntpFromUnixMs } from '../rtp/index.ts';

/** RFC 3550 §6.2: the minimum report interval, T_min. */
const MINIMUM_INTERVAL_MS = 5000;
/** RFC 3550 §6.4.1: at most 31 report blocks in one report. */
const MAX_REPORT_BLOCKS = 31;
/** RFC 3550 §6.5: SDES item type of the canonical name. */
const CNAME = 1;
/** RFC 3550 §6.4.1: cumulative loss is a signed 24-bit field. */
const MAX_CUMULATIVE_LOST = 0x7f_ffff;

/** The switch of a werift RTCP loop (`runRtcp` on RTCRtpSender and RTCRtpReceiver). */
interface WeriftRtcpLoop {
  rtcpRunning: boolean;
  readonly rtcpCancel: AbortController;
}

/** werift 0.25's RTCRtpSender beyond its typed surface. */
interface SenderInternals extends WeriftRtcpLoop {
  readonly ssrc: number;
  readonly cname: string;
  readonly codec: { readonly clockRate: number };
  readonly ntpTimestamp: bigint;
  readonly rtpTimestamp: number;
  readonly packetCount: number;
  readonly octetCount: number;
  /** Compact NTP time of the last SR sent, and when (seconds): what werift's RTT matches against. */
  lastSRtimestamp?: number;
  lastSentSRTimestamp?: number;
}

/** werift's `StreamStatistics` for one received source (RFC 3550 A.3, A.8). */
interface ReceivedStream {
  /** Loss since the previous read, out of 256; reading it starts the next interval. */
  readonly fraction_lost: number;
  readonly packets_lost: number;
  readonly max_seq?: number;
  /** Sequence number cycles, already shifted left by 16. */
  readonly cycles: number;
  readonly jitter: number;
}

/** werift 0.25's RTCRtpReceiver beyond its typed surface. */
interface ReceiverInternals extends WeriftRtcpLoop {
  readonly remoteStreams: Record<string, ReceivedStream | undefined>;
  /** Per source: the compact NTP time of its latest SR, and when it arrived (seconds). */
  readonly lastSRtimestamp: Record<string, number | undefined>;
  readonly receiveLastSRTimestamp: Record<string, number | undefined>;
}

/** What the reports are sent through: werift's DTLS transport, whose SRTCP protects them. */
export interface RtcpTransport {
  readonly state: string;
  sendRtcp(packets: RtcpPacket[]): Promise<unknown>;
}

/** Whether werift's sender and receiver are shaped as this module expects (checked before use). */
export function hasReportInternals(sender: RTCRtpSender, receiver: RTCRtpReceiver): boolean {
  const s = sender as unknown as Partial<SenderInternals>;
  const r = receiver as unknown as Partial<ReceiverInternals>;
  return (
    isLoop(s) &&
    isLoop(r) &&
    typeof s.cname === 'string' &&
    typeof s.codec?.clockRate === 'number' &&
    typeof s.ntpTimestamp === 'bigint' &&
    typeof s.rtpTimestamp === 'number' &&
    typeof s.packetCount === 'number' &&
    typeof s.octetCount === 'number' &&
    typeof r.remoteStreams === 'object' &&
    typeof r.lastSRtimestamp === 'object' &&
    typeof r.receiveLastSRTimestamp === 'object'
  );
}

function isLoop(loop: Partial<WeriftRtcpLoop>): boolean {
  return typeof loop.rtcpRunning === 'boolean' && loop.rtcpCancel instanceof AbortController;
}

/**
 * Ends werift's RTCP loop on a sender or receiver and keeps it from starting again. `runRtcp`
 * returns at once while `rtcpRunning` is set, so a later packet (werift's receiver calls it on every
 * packet it handles) starts nothing; a loop already waiting wakes on the abort and ends, and one in
 * the middle of a send ends at its next wait, whose signal is already aborted.
 */
function silenceWeriftRtcp(loop: WeriftRtcpLoop): void {
  loop.rtcpRunning = true;
  loop.rtcpCancel.abort();
}

/**
 * Feeds `roundTrip` from the browser's report blocks on the leg's own stream, in its SRs and RRs
 * alike (RFC 3550 §6.4.1: LSR and DLSR against the node's SRs). werift reads only RR blocks, and
 * browsers put theirs in SRs while they send. For the leg's life, on either path.
 */
export function hearRoundTrips(transceiver: RTCRtpTransceiver, roundTrip: RoundTripTracker): void {
  transceiver.dtlsTransport.onRtcp.subscribe((packet) => {
    const blocks = (packet as { readonly reports?: readonly { readonly ssrc: number; readonly lsr: number; readonly dlsr: number }[] }).reports;
    if (blocks === undefined) return;
    const now = Date.now();
    for (const block of blocks) {
      if (block.ssrc === transceiver.sender.ssrc) roundTrip.onReportBlock({ lastSenderReport: block.lsr, delaySinceLastSenderReport: block.dlsr }, now);
    }
  });
}

/** RFC 3550 §6.3.1: the interval randomised uniformly over [0.5, 1.5] of T_min. */
function reportIntervalMs(): number {
  return MINIMUM_INTERVAL_MS * (0.5 + Math.random());
}

export class BrowserRtcpReports {
  readonly #sender: SenderInternals;
  readonly #receiver: ReceiverInternals;
  readonly #transport: RtcpTransport;
  readonly #onSendError: (error: unknown) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  readonly #tick = (): void => {
    if (this.#stopped) return;
    this.#schedule(reportIntervalMs());
    if (this.#transport.state !== 'connected') return;
    this.#transport.sendRtcp(this.#compound(Date.now())).catch(this.#onSendError);
  };

  private constructor(sender: SenderInternals, receiver: ReceiverInternals, transport: RtcpTransport, onSendError: (error: unknown) => void) {
    this.#sender = sender;
    this.#receiver = receiver;
    this.#transport = transport;
    this.#onSendError = onSendError;
  }

  /**
   * Ends werift's report loops for this sender and receiver and starts the node's: the first
   * compound after half an interval (RFC 3550 §6.2). Check `hasReportInternals` first.
   */
  static start(sender: RTCRtpSender, receiver: RTCRtpReceiver, transport: RtcpTransport, onSendError: (error: unknown) => void): BrowserRtcpReports {
    const senderInternals = sender as unknown as SenderInternals;
    const receiverInternals = receiver as unknown as ReceiverInternals;
    silenceWeriftRtcp(senderInternals);
    silenceWeriftRtcp(receiverInternals);
    const reports = new BrowserRtcpReports(senderInternals, receiverInternals, transport, onSendError);
    reports.#schedule(reportIntervalMs() / 2);
    return reports;
  }

  /** No more reports: the leg's media has ended. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * The compound due at `nowMs`: an SR once the leg has sent RTP (noted on werift's sender for its
   * round-trip time), else an RR; a report block per browser source; then the SDES CNAME. Reading
   * the blocks starts the next loss interval, so each call is one report sent.
   */
  #compound(nowMs: number): RtcpPacket[] {
    const sender = this.#sender;
    const reports = this.#reportBlocks(nowMs);
    const cname = new RtcpSourceDescriptionPacket({
      chunks: [new SourceDescriptionChunk({ source: sender.ssrc, items: [new SourceDescriptionItem({ type: CNAME, text: sender.cname })] })],
    });
    if (sender.packetCount === 0) return [new RtcpRrPacket({ ssrc: sender.ssrc, reports }), cname];
    const ntpTimestamp = ntpFromUnixMs(nowMs);
    // RFC 3550 §6.4.1: the RTP timestamp of the same instant, from the last packet sent and the
    // time since (the node's SRTP notes both per packet).
    const sinceLastPacketMs = Math.max(0, (Number(ntpTimestamp - sender.ntpTimestamp) / 2 ** 32) * 1000);
    const rtpTimestamp = addTimestamp(sender.rtpTimestamp, Math.round((sinceLastPacketMs * sender.codec.clockRate) / 1000));
    sender.lastSRtimestamp = compactNtp(ntpTimestamp);
    sender.lastSentSRTimestamp = nowMs / 1000;
    const senderInfo = new RtcpSenderInfo({ ntpTimestamp, rtpTimestamp, packetCount: sender.packetCount >>> 0, octetCount: sender.octetCount >>> 0 });
    return [new RtcpSrPacket({ ssrc: sender.ssrc, senderInfo, reports }), cname];
  }

  /** RFC 3550 §6.4.1, figured as werift's receiver loop does, with the extended highest sequence number. */
  #reportBlocks(nowMs: number): RtcpReceiverInfo[] {
    const receiver = this.#receiver;
    const blocks: RtcpReceiverInfo[] = [];
    for (const [ssrc, stream] of Object.entries(receiver.remoteStreams)) {
      if (blocks.length === MAX_REPORT_BLOCKS) break;
      if (stream === undefined) continue;
      const lsr = receiver.lastSRtimestamp[ssrc] ?? 0;
      const receivedAt = receiver.receiveLastSRTimestamp[ssrc];
      const delaySeconds = lsr === 0 || receivedAt === undefined ? 0 : nowMs / 1000 - receivedAt;
      blocks.push(
        new RtcpReceiverInfo({
          ssrc: Number(ssrc),
          fractionLost: stream.fraction_lost,
          packetsLost: Math.min(stream.packets_lost, MAX_CUMULATIVE_LOST),
          highestSequence: (stream.cycles + (stream.max_seq ?? 0)) >>> 0,
          jitter: stream.jitter >>> 0,
          lsr,
          dlsr: delaySeconds > 0 && delaySeconds < 65536 ? Math.floor(delaySeconds * 65536) : 0,
        }),
      );
    }
    return blocks;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(this.#tick, delayMs);
    // A leg's reports never keep the process alive.
    this.#timer.unref();
  }
}
