/**
 * What a receiver knows about one incoming RTP stream, as RFC 3550 Appendix A computes it:
 * sequence tracking with probation (A.1), expected and lost packets (A.3), interarrival jitter (A.8),
 * and the last sender report heard, for the LSR and DLSR of the next report block (§6.4.1).
 * One instance per incoming SSRC; all times are passed in, nothing reads a clock.
 */
import { compactNtp, msToCompactInterval } from '../rtp/ntp-time.ts';
import type { ReportBlock } from '../rtp/rtcp-compound.ts';
import { MAX_DROPOUT, MAX_MISORDER, timestampDelta } from '../rtp/serial-number.ts';

const RTP_SEQ_MOD = 1 << 16;
/** RFC 3550 A.1: packets in sequence before a source is believed. */
const MIN_SEQUENTIAL = 2;

export interface ReceivedPacket {
  readonly sequenceNumber: number;
  readonly timestamp: number;
  /** Payload octets, for the octet count. */
  readonly payloadLength: number;
}

export interface ReceiveSnapshot {
  /** Packets counted (after probation), duplicates included, as RFC 3550 A.3 counts them. */
  readonly packets: number;
  readonly octets: number;
  readonly expected: number;
  /** Cumulative loss: expected - received; negative when duplicates outnumber losses. */
  readonly lost: number;
  /** Lost as a percentage of expected, 0-100. */
  readonly lossPercent: number;
  /** Interarrival jitter in milliseconds. */
  readonly jitterMs: number;
  /** Packets refused as not (yet) belonging to a valid sequence. */
  readonly refused: number;
}

export class ReceiveStatistics {
  readonly clockRate: number;
  // RFC 3550 A.1 source state, named as there.
  #maxSeq = 0;
  #cycles = 0;
  #baseSeq = 0;
  #badSeq = RTP_SEQ_MOD + 1;
  #probation = MIN_SEQUENTIAL;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #started = false;
  #octets = 0;
  #refused = 0;
  // RFC 3550 A.8 jitter, kept in timestamp units as the report block carries it.
  #jitter = 0;
  #previous: { arrivalTicks: number; timestamp: number } | undefined;
  // The last sender report heard (§6.4.1 LSR) and when.
  #lastSenderReport: { compact: number; arrivalMs: number } | undefined;

  constructor(clockRate: number) {
    this.clockRate = clockRate;
  }

  /**
   * Counts one packet that arrived at `arrivalMs`. Returns false when RFC 3550 A.1 does not count
   * it (probation, or a jump that may be a restart). Pass `measureJitter: false` for packets whose
   * timestamps do not follow the sampling clock packet by packet, such as RFC 4733 events.
   */
  onPacket(packet: ReceivedPacket, arrivalMs: number, measureJitter = true): boolean {
    if (!this.#started) {
      this.#started = true;
      this.#initSequence(packet.sequenceNumber);
      this.#maxSeq = (packet.sequenceNumber - 1) & 0xffff;
      this.#probation = MIN_SEQUENTIAL;
    }
    if (!this.#updateSequence(packet.sequenceNumber)) {
      this.#refused++;
      return false;
    }
    this.#octets += packet.payloadLength;
    if (measureJitter) this.#updateJitter(packet.timestamp, arrivalMs);
    return true;
  }

  /** Notes a sender report from this source, for the LSR and DLSR of our next report block. */
  onSenderReport(ntpTimestamp: bigint, arrivalMs: number): void {
    this.#lastSenderReport = { compact: compactNtp(ntpTimestamp), arrivalMs };
  }

  /**
   * The report block for this source (RFC 3550 §6.4.1). Computing it starts a new reporting
   * interval: the fraction lost is since the previous call.
   */
  reportBlock(ssrc: number, nowMs: number): ReportBlock {
    // RFC 3550 A.3.
    const expected = this.#expected();
    const expectedInterval = expected - this.#expectedPrior;
    this.#expectedPrior = expected;
    const receivedInterval = this.#received - this.#receivedPrior;
    this.#receivedPrior = this.#received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    const sender = this.#lastSenderReport;
    return {
      ssrc,
      fractionLost: Math.min(255, fractionLost),
      cumulativeLost: expected - this.#received,
      highestSequence: (this.#cycles + this.#maxSeq) >>> 0,
      jitter: Math.floor(this.#jitter),
      lastSenderReport: sender?.compact ?? 0,
      delaySinceLastSenderReport: sender === undefined ? 0 : msToCompactInterval(nowMs - sender.arrivalMs),
    };
  }

  snapshot(): ReceiveSnapshot {
    const expected = this.#expected();
    const lost = expected - this.#received;
    return {
      packets: this.#received,
      octets: this.#octets,
      expected,
      lost,
      lossPercent: expected > 0 ? Math.max(0, (100 * lost) / expected) : 0,
      jitterMs: (this.#jitter * 1000) / this.clockRate,
      refused: this.#refused,
    };
  }

  #expected(): number {
    return this.#received === 0 ? 0 : this.#cycles + this.#maxSeq - this.#baseSeq + 1;
  }

  #initSequence(seq: number): void {
    this.#baseSeq = seq;
    this.#maxSeq = seq;
    this.#badSeq = RTP_SEQ_MOD + 1;
    this.#cycles = 0;
    this.#received = 0;
    this.#receivedPrior = 0;
    this.#expectedPrior = 0;
  }

  /** RFC 3550 A.1 `update_seq`, line for line. */
  #updateSequence(seq: number): boolean {
    const udelta = (seq - this.#maxSeq) & 0xffff;
    if (this.#probation > 0) {
      // Packets must be in sequence until the source is believed.
      if (seq === ((this.#maxSeq + 1) & 0xffff)) {
        this.#probation--;
        this.#maxSeq = seq;
        if (this.#probation === 0) {
          this.#initSequence(seq);
          this.#received++;
          return true;
        }
      } else {
        this.#probation = MIN_SEQUENTIAL - 1;
        this.#maxSeq = seq;
      }
      return false;
    }
    if (udelta < MAX_DROPOUT) {
      // In order, with a permissible gap.
      if (seq < this.#maxSeq) this.#cycles += RTP_SEQ_MOD;
      this.#maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // A very large jump: believe it only if the next packet follows it (the sender restarted).
      if (seq === this.#badSeq) {
        this.#initSequence(seq);
      } else {
        this.#badSeq = (seq + 1) & 0xffff;
        return false;
      }
    }
    // Otherwise a duplicate or a reordered packet: counted, as A.1 does.
    this.#received++;
    return true;
  }

  /** RFC 3550 A.8, with the transit difference taken wrap-safely from consecutive arrivals. */
  #updateJitter(timestamp: number, arrivalMs: number): void {
    const arrivalTicks = (arrivalMs * this.clockRate) / 1000;
    const previous = this.#previous;
    this.#previous = { arrivalTicks, timestamp };
    if (previous === undefined) return;
    const d = Math.abs(arrivalTicks - previous.arrivalTicks - timestampDelta(timestamp, previous.timestamp));
    this.#jitter += (d - this.#jitter) / 16;
  }
}
