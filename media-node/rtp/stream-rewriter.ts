/**
 * One outgoing RTP stream per leg, continuous whatever happens to its sources.
 *
 * The far side sees a single SSRC whose sequence numbers step by one and whose timestamps follow
 * real time, even when the packets behind it change origin: an SSRC change, a re-INVITE that points
 * the PBX at new media, a browser that restarts its sender. RFC 3550 §8.2 lets a translator keep
 * its own SSRC; RFC 3550 §5.1 wants the sequence to increase by one per packet so receivers can
 * measure loss, and a jump in either counter makes many jitter buffers flush or drop audio.
 *
 * Within one source the mapping is a pair of constant offsets, so the source's own gaps (loss) and
 * timestamp jumps (silence, DTX) reach the far side unchanged and reordering is preserved. When a
 * new source starts, new offsets are chosen so that its first packet follows the last packet sent:
 * the next sequence number, and a timestamp advanced by the wall-clock time since (at least one
 * frame), with the marker bit set as at the start of a talkspurt (RFC 3551 §4.1).
 */
import { MAX_DROPOUT, MAX_MISORDER, addSequence, addTimestamp, sequenceDelta } from './serial-number.ts';

export interface StreamRewriterOptions {
  /** The outgoing SSRC (RFC 3550 §8.1: random). */
  readonly ssrc: number;
  /** The outgoing stream's first sequence number (RFC 3550 §5.1: random). */
  readonly firstSequenceNumber: number;
  /** The outgoing stream's first timestamp (RFC 3550 §5.1: random). */
  readonly firstTimestamp: number;
  /** The outgoing payload format's clock rate, in Hz. */
  readonly clockRate: number;
  /** Timestamp ticks of one packet, the least a new source advances time; default 20 ms. */
  readonly frameTicks?: number;
}

/** The header fields of the packet to send, to be written with `rewriteRtpHeader`. */
export interface RewrittenPacket {
  readonly action: 'send';
  readonly ssrc: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly marker: boolean;
  /** This packet starts a new source. */
  readonly newSource: boolean;
}

export interface DroppedPacket {
  readonly action: 'drop';
  /** A reordered packet older than the first one sent for its source: its number is taken. */
  readonly reason: 'before-source-start';
}

export interface SourcePacket {
  readonly ssrc: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly marker: boolean;
}

interface SourceState {
  readonly ssrc: number;
  sequenceOffset: number;
  readonly timestampOffset: number;
  /** Extended (unwrapped) input sequence number of the source's first packet. */
  readonly firstExtended: number;
  /** Highest extended input sequence number seen, and its 16-bit form. */
  highestExtended: number;
  highest: number;
}

export class RtpStreamRewriter {
  readonly ssrc: number;
  readonly clockRate: number;
  readonly #frameTicks: number;
  #source: SourceState | undefined;
  #restartRequested = false;
  /** The newest packet sent: where a new source continues from. */
  #lastSequenceNumber: number;
  #lastTimestamp: number;
  #lastSentAt: number | undefined;

  constructor(options: StreamRewriterOptions) {
    this.ssrc = options.ssrc >>> 0;
    this.clockRate = options.clockRate;
    this.#frameTicks = options.frameTicks ?? Math.round(options.clockRate / 50);
    // Primed so that the first packet, which continues from here, gets exactly the first values.
    this.#lastSequenceNumber = addSequence(options.firstSequenceNumber, -1);
    this.#lastTimestamp = addTimestamp(options.firstTimestamp, -this.#frameTicks);
  }

  /**
   * Makes the next packet start a new source even if its SSRC is unchanged: call on a re-INVITE
   * that changes the media behind this leg, where a sender may keep its SSRC but not its counters.
   */
  restart(): void {
    this.#restartRequested = true;
  }

  /** Maps one incoming packet (arrived at `nowMs`) onto the outgoing stream. */
  rewrite(packet: SourcePacket, nowMs: number): RewrittenPacket | DroppedPacket {
    const source = this.#source;
    if (source === undefined || this.#restartRequested || packet.ssrc !== source.ssrc) {
      return this.#startSource(packet, nowMs);
    }
    const delta = sequenceDelta(packet.sequenceNumber, source.highest);
    // RFC 3550 A.1: such a jump is a restarted sender, not loss or reordering.
    if (delta > MAX_DROPOUT || delta < -MAX_MISORDER) return this.#startSource(packet, nowMs);
    const extended = source.highestExtended + delta;
    if (extended < source.firstExtended) return { action: 'drop', reason: 'before-source-start' };
    const sequenceNumber = addSequence(packet.sequenceNumber, source.sequenceOffset);
    const timestamp = addTimestamp(packet.timestamp, source.timestampOffset);
    if (delta > 0) {
      source.highestExtended = extended;
      source.highest = packet.sequenceNumber;
      this.#noteSent(sequenceNumber, timestamp, nowMs);
    }
    return { action: 'send', ssrc: this.ssrc, sequenceNumber, timestamp, marker: packet.marker, newSource: false };
  }

  /**
   * A packet of the node's own in the stream (an RFC 4733 event it sends): the next sequence number,
   * and where the timestamp is now (the newest sent, advanced by the time since). The current
   * source's packets move up one number, so the sequence stays gapless and unique.
   */
  interject(nowMs: number): { readonly sequenceNumber: number; readonly timestamp: number } {
    const sequenceNumber = addSequence(this.#lastSequenceNumber, 1);
    const elapsedTicks = this.#lastSentAt === undefined ? 0 : Math.max(0, Math.round(((nowMs - this.#lastSentAt) * this.clockRate) / 1000));
    const timestamp = addTimestamp(this.#lastTimestamp, elapsedTicks);
    if (this.#source !== undefined) this.#source.sequenceOffset = (this.#source.sequenceOffset + 1) & 0xffff;
    this.#lastSequenceNumber = sequenceNumber;
    return { sequenceNumber, timestamp };
  }

  #startSource(packet: SourcePacket, nowMs: number): RewrittenPacket {
    this.#restartRequested = false;
    const sequenceNumber = addSequence(this.#lastSequenceNumber, 1);
    const elapsedTicks = this.#lastSentAt === undefined ? 0 : Math.round(((nowMs - this.#lastSentAt) * this.clockRate) / 1000);
    const timestamp = addTimestamp(this.#lastTimestamp, Math.max(this.#frameTicks, elapsedTicks));
    this.#source = {
      ssrc: packet.ssrc,
      sequenceOffset: (sequenceNumber - packet.sequenceNumber) & 0xffff,
      timestampOffset: (timestamp - packet.timestamp) >>> 0,
      firstExtended: packet.sequenceNumber,
      highestExtended: packet.sequenceNumber,
      highest: packet.sequenceNumber,
    };
    this.#noteSent(sequenceNumber, timestamp, nowMs);
    return { action: 'send', ssrc: this.ssrc, sequenceNumber, timestamp, marker: true, newSource: true };
  }

  #noteSent(sequenceNumber: number, timestamp: number, nowMs: number): void {
    this.#lastSequenceNumber = sequenceNumber;
    this.#lastTimestamp = timestamp;
    this.#lastSentAt = nowMs;
  }
}

/** Random starting values for a new outgoing stream (RFC 3550 §5.1, §8.1). */
export function randomStreamStart(): { ssrc: number; firstSequenceNumber: number; firstTimestamp: number } {
  const words = crypto.getRandomValues(new Uint32Array(3));
  return { ssrc: words[0] as number, firstSequenceNumber: (words[1] as number) & 0xffff, firstTimestamp: words[2] as number };
}
