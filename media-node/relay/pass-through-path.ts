/**
 * One direction of a call whose legs share the audio codec (Opus to Opus, PCMU to PCMU, ...): the
 * payload goes through untouched, not decoded, and only the header is rewritten. The payload type
 * becomes the outgoing leg's number for the same format (each leg binds its own dynamic numbers,
 * RFC 8866 §6.6), and sequence numbers and timestamps are mapped onto the outgoing leg's one
 * continuous stream (RFC 3550 §8.2: a translator may keep its own SSRC).
 *
 * RFC 4733 events share the SSRC, sequence numbers and timestamp clock of their audio (§2.1), so
 * they ride the same mapping. An event at a clock rate the outgoing leg's events do not use cannot
 * be mapped without re-timing and is dropped and counted (a browser's telephone-event/48000 to a PBX
 * that pairs Opus with /8000).
 */
import { PayloadTypeMap, RtpStreamRewriter, type StreamRewriterOptions, type TelephoneEvent } from '../rtp/index.ts';
import { isTelephoneEventOf, rtpFormats, type LegFormats } from './leg-formats.ts';
import { emptyPathCounters, sendOwnTelephoneEvent, type InboundPacket, type MediaPath, type OutboundLeg } from './media-path.ts';

export interface PassThroughPathOptions {
  readonly incoming: LegFormats;
  readonly outgoing: LegFormats;
  readonly out: OutboundLeg;
  /** The outgoing stream's SSRC and random starting values (`randomStreamStart`). */
  readonly stream: Omit<StreamRewriterOptions, 'clockRate' | 'frameTicks'>;
}

export class PassThroughPath implements MediaPath {
  readonly kind = 'pass-through';
  readonly counters = emptyPathCounters();
  readonly bufferDelayMs = 0;
  readonly #incoming: LegFormats;
  readonly #outgoing: LegFormats;
  readonly #out: OutboundLeg;
  readonly #map: PayloadTypeMap;
  readonly #rewriter: RtpStreamRewriter;
  /** The start timestamp of the node's own event being sent. */
  #eventTimestamp = 0;

  constructor(options: PassThroughPathOptions) {
    this.#incoming = options.incoming;
    this.#outgoing = options.outgoing;
    this.#out = options.out;
    this.#map = PayloadTypeMap.matching(rtpFormats(options.incoming), rtpFormats(options.outgoing));
    this.#rewriter = new RtpStreamRewriter({ ...options.stream, clockRate: options.outgoing.audio.clockRate });
  }

  onPacket(packet: InboundPacket, nowMs: number): void {
    const telephoneEvent = isTelephoneEventOf(this.#incoming, packet.payloadType);
    const payloadType = this.#map.map(packet.payloadType);
    if (payloadType === undefined) {
      const clockMismatch = telephoneEvent && this.#outgoing.telephoneEvent !== undefined;
      this.counters.dropped[clockMismatch ? 'telephone-event-clock' : 'unmapped-payload-type']++;
      return;
    }
    const rewritten = this.#rewriter.rewrite(packet, nowMs);
    if (rewritten.action === 'drop') {
      this.counters.dropped['out-of-order']++;
      return;
    }
    const header = {
      payloadType,
      marker: rewritten.marker,
      sequenceNumber: rewritten.sequenceNumber,
      timestamp: rewritten.timestamp,
      ssrc: rewritten.ssrc,
    };
    if (!this.#out.send(header, packet.payload)) {
      this.counters.dropped['not-sent']++;
      return;
    }
    this.counters.forwarded++;
    if (telephoneEvent) this.counters.telephoneEvents++;
  }

  onFrame(): void {
    // Forwarded as they arrive: nothing to time.
  }

  sendTelephoneEvent(event: TelephoneEvent, start: boolean, nowMs: number): boolean {
    const to = this.#outgoing.telephoneEvent;
    if (to === undefined) return false;
    const slot = this.#rewriter.interject(nowMs);
    if (start) this.#eventTimestamp = slot.timestamp;
    return sendOwnTelephoneEvent(this.#out, this.counters, event, { payloadType: to.payloadType, marker: start, sequenceNumber: slot.sequenceNumber, timestamp: this.#eventTimestamp, ssrc: this.#rewriter.ssrc });
  }
}
