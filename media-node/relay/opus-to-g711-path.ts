/**
 * Opus to G.711 (browser to PBX, or the reverse leg arrangement): decode, conceal, re-encode, on the
 * frame clock.
 *
 * The Opus decoder is stateful and the G.711 side expects one frame every 20 ms, so packets go
 * through the jitter buffer (RFC 3550 timestamps in, one playout decision per frame out). Each frame
 * of the clock plays the packet that is due, or has the decoder conceal the missing one (RFC 6716
 * §4.4), or, when the source has paused (DTX, hold, a stalled sender), sends nothing and lets the
 * outgoing timestamp run on. The outgoing stream is the path's own (`FrameTimeline`), so it stays
 * continuous whatever the source does; a source that changes SSRC restarts the buffer and decoder.
 *
 * RFC 4733 events skip the buffer: they are retimed onto the outgoing stream and sent at once.
 * Packets longer than a frame (40 or 60 ms Opus) are sent as consecutive 20 ms G.711 frames; the
 * buffer assumes 20 ms packets, which the answer's `a=ptime:20` asks for and browsers send.
 */
import { G711_FRAME_SAMPLES, OpusToG711Transcoder, type G711Law } from '../codec/index.ts';
import { JitterBuffer, type JitterBufferOptions } from '../jitter/index.ts';
import type { TelephoneEvent } from '../rtp/index.ts';
import { FrameTimeline, type FrameTimelineOptions } from './frame-timeline.ts';
import { isTelephoneEventOf, type LegFormats } from './leg-formats.ts';
import { emptyPathCounters, sendOwnTelephoneEvent, type InboundPacket, type MediaPath, type OutboundLeg } from './media-path.ts';
import { TelephoneEventRetimer } from './telephone-event-retimer.ts';

export interface OpusToG711PathOptions {
  readonly incoming: LegFormats;
  readonly outgoing: LegFormats;
  readonly law: G711Law;
  readonly out: OutboundLeg;
  readonly stream: Omit<FrameTimelineOptions, 'frameTicks'>;
  readonly jitterBuffer?: Omit<JitterBufferOptions, 'clockRate'>;
}

export class OpusToG711Path implements MediaPath {
  readonly kind = 'opus-to-g711';
  readonly counters = emptyPathCounters();
  readonly transcoder: OpusToG711Transcoder;
  readonly jitterBuffer: JitterBuffer;
  readonly timeline: FrameTimeline;
  readonly #incoming: LegFormats;
  readonly #outgoing: LegFormats;
  readonly #out: OutboundLeg;
  readonly #events: TelephoneEventRetimer | undefined;
  #sourceSsrc: number | undefined;
  /** The start timestamp of the node's own event being sent. */
  #eventTimestamp = 0;

  constructor(options: OpusToG711PathOptions) {
    this.#incoming = options.incoming;
    this.#outgoing = options.outgoing;
    this.#out = options.out;
    this.transcoder = new OpusToG711Transcoder(options.law);
    this.jitterBuffer = new JitterBuffer({ ...options.jitterBuffer, clockRate: options.incoming.audio.clockRate });
    this.timeline = new FrameTimeline({ ...options.stream, frameTicks: G711_FRAME_SAMPLES });
    const from = options.incoming.telephoneEvent;
    const to = options.outgoing.telephoneEvent;
    this.#events = from !== undefined && to !== undefined ? new TelephoneEventRetimer(from.clockRate, to.clockRate) : undefined;
  }

  get bufferDelayMs(): number {
    return this.jitterBuffer.delayMs;
  }

  onPacket(packet: InboundPacket, nowMs: number): void {
    if (isTelephoneEventOf(this.#incoming, packet.payloadType)) {
      this.#sendEvent(packet);
      return;
    }
    if (packet.payloadType !== this.#incoming.audio.payloadType) {
      this.counters.dropped['unmapped-payload-type']++;
      return;
    }
    if (packet.ssrc !== this.#sourceSsrc) {
      // RFC 3550 §8.2: a new SSRC is a new source with counters and coder state of its own.
      if (this.#sourceSsrc !== undefined) {
        this.jitterBuffer.reset();
        this.transcoder.reset();
      }
      this.#sourceSsrc = packet.ssrc;
    }
    const outcome = this.jitterBuffer.push(packet, nowMs);
    if (outcome === 'late' || outcome === 'duplicate') this.counters.dropped['jitter-buffer']++;
  }

  onFrame(nowMs: number): void {
    const playout = this.jitterBuffer.tick(nowMs);
    if (playout.kind === 'idle') {
      this.timeline.skipFrame();
      return;
    }
    const g711 = playout.kind === 'play' ? this.transcoder.transcode(playout.packet.payload) : this.transcoder.conceal();
    for (let offset = 0; offset < g711.length; offset += G711_FRAME_SAMPLES) {
      const frame = this.timeline.nextFrame();
      const header = { ...frame, payloadType: this.#outgoing.audio.payloadType };
      if (this.#out.send(header, g711.subarray(offset, offset + G711_FRAME_SAMPLES))) this.counters.forwarded++;
      else this.counters.dropped['not-sent']++;
    }
  }

  sendTelephoneEvent(event: TelephoneEvent, start: boolean): boolean {
    const to = this.#outgoing.telephoneEvent;
    if (to === undefined) return false;
    if (start) this.#eventTimestamp = this.timeline.timestamp;
    return sendOwnTelephoneEvent(this.#out, this.counters, event, { payloadType: to.payloadType, marker: start, sequenceNumber: this.timeline.nextSequenceNumber(), timestamp: this.#eventTimestamp, ssrc: this.timeline.ssrc });
  }

  #sendEvent(packet: InboundPacket): void {
    const to = this.#outgoing.telephoneEvent;
    const retimed = this.#events?.retime(packet.timestamp, packet.payload, this.timeline.timestamp);
    if (to === undefined || retimed === undefined) {
      this.counters.dropped['unmapped-payload-type']++;
      return;
    }
    const header = {
      payloadType: to.payloadType,
      marker: packet.marker,
      sequenceNumber: this.timeline.nextSequenceNumber(),
      timestamp: retimed.timestamp,
      ssrc: this.timeline.ssrc,
    };
    if (!this.#out.send(header, retimed.payload)) {
      this.counters.dropped['not-sent']++;
      return;
    }
    this.counters.forwarded++;
    this.counters.telephoneEvents++;
  }
}
