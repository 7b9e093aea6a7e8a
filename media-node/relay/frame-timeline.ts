/**
 * The outgoing stream of a path that makes its own frames (the jitter-buffered transcoding path):
 * one SSRC, sequence numbers that step by one per packet sent, and a timestamp that steps one frame
 * per frame of the clock whether or not a frame was sent. RFC 3550 §5.1: the timestamp follows the
 * sampling instant, so silence (a paused source, a hold) shows as a timestamp gap without a sequence
 * gap, which receivers read as a pause, not as loss; RFC 3551 §4.1: the first packet after such a
 * gap carries the marker bit.
 */
import { addSequence, addTimestamp } from '../rtp/index.ts';

export interface FrameTimelineOptions {
  readonly ssrc: number;
  readonly firstSequenceNumber: number;
  readonly firstTimestamp: number;
  /** Timestamp units per frame (160 for 20 ms at 8 kHz). */
  readonly frameTicks: number;
}

export interface FrameHeader {
  readonly ssrc: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly marker: boolean;
}

export class FrameTimeline {
  readonly ssrc: number;
  readonly frameTicks: number;
  #sequenceNumber: number;
  #timestamp: number;
  #markNext = true;
  /** Packets and payload octets sent, for RTCP sender reports (RFC 3550 §6.4.1). */
  packets = 0;

  constructor(options: FrameTimelineOptions) {
    this.ssrc = options.ssrc >>> 0;
    this.frameTicks = options.frameTicks;
    this.#sequenceNumber = options.firstSequenceNumber & 0xffff;
    this.#timestamp = options.firstTimestamp >>> 0;
  }

  /** The timestamp the next frame will carry. */
  get timestamp(): number {
    return this.#timestamp;
  }

  /** The header of the frame sent now; the timeline moves on by one frame. */
  nextFrame(): FrameHeader {
    const header = { ssrc: this.ssrc, sequenceNumber: this.#sequenceNumber, timestamp: this.#timestamp, marker: this.#markNext };
    this.#sequenceNumber = addSequence(this.#sequenceNumber, 1);
    this.#timestamp = addTimestamp(this.#timestamp, this.frameTicks);
    this.#markNext = false;
    this.packets++;
    return header;
  }

  /** A frame's time passed with nothing sent. */
  skipFrame(): void {
    this.#timestamp = addTimestamp(this.#timestamp, this.frameTicks);
    this.#markNext = true;
  }

  /** A packet in the same stream at a timestamp of its own (an RFC 4733 event): takes a sequence number only. */
  nextSequenceNumber(): number {
    const sequenceNumber = this.#sequenceNumber;
    this.#sequenceNumber = addSequence(this.#sequenceNumber, 1);
    this.packets++;
    return sequenceNumber;
  }
}
