/**
 * G.711 to Opus (PBX to browser, or the reverse leg arrangement): each payload is decoded through
 * the G.711 table and encoded to Opus as it arrives, with no buffer of its own. The receiving
 * browser has a jitter buffer and Opus packet-loss concealment of its own (RFC 7587 §4.1 keeps the
 * timestamps continuous across a lost packet), so holding the audio here would only add delay.
 *
 * The Opus encoder is stateful, so a packet older than the newest one taken from its source (a
 * duplicate, or one reordered on the way) is dropped rather than encoded out of turn. Timestamps are
 * the source's, scaled to the outgoing clock (8 kHz to Opus's 48 kHz RTP clock, RFC 7587 §4.1:
 * exactly 6 ticks per sample, and since 6 * 2^32 is a multiple of 2^32 the scaled counter wraps
 * cleanly), then mapped onto the outgoing stream by an `RtpStreamRewriter`, which also keeps it
 * continuous across source changes. A G.711 payload that is not 20 ms long may complete no Opus
 * frame or several; each one is numbered in turn.
 */
import { G711ToOpusTranscoder, type G711Law, type OpusEncoderOptions } from '../codec/index.ts';
import { RtpStreamRewriter, sequenceDelta, type StreamRewriterOptions } from '../rtp/index.ts';
import { isTelephoneEventOf, type LegFormats } from './leg-formats.ts';
import { emptyPathCounters, sendOwnTelephoneEvent, type InboundPacket, type MediaPath, type OutboundLeg } from './media-path.ts';
import { rescaleTelephoneEventDuration, TELEPHONE_EVENT_SIZE, type TelephoneEvent } from '../rtp/index.ts';

export interface G711ToOpusPathOptions {
  readonly incoming: LegFormats;
  readonly outgoing: LegFormats;
  readonly law: G711Law;
  readonly out: OutboundLeg;
  readonly stream: Omit<StreamRewriterOptions, 'clockRate' | 'frameTicks'>;
  readonly opus?: OpusEncoderOptions;
}

export class G711ToOpusPath implements MediaPath {
  readonly kind = 'g711-to-opus';
  readonly counters = emptyPathCounters();
  readonly bufferDelayMs = 0;
  readonly transcoder: G711ToOpusTranscoder;
  readonly #incoming: LegFormats;
  readonly #outgoing: LegFormats;
  readonly #out: OutboundLeg;
  readonly #rewriter: RtpStreamRewriter;
  /** Outgoing ticks per incoming tick. */
  readonly #scale: number;
  /** Numbers the packets handed to the rewriter: one per Opus packet made, whatever the framing. */
  #serial = 0;
  #source: { ssrc: number; highest: number } | undefined;
  /** The packet being transcoded, for the sink. */
  #current: InboundPacket | undefined;
  #nowMs = 0;
  #firstOfPacket = true;
  /** The start timestamp of the node's own event being sent. */
  #eventTimestamp = 0;
  readonly #sink = (opus: Uint8Array, sampleOffset: number): void => this.#emit(opus, sampleOffset);

  constructor(options: G711ToOpusPathOptions) {
    this.#incoming = options.incoming;
    this.#outgoing = options.outgoing;
    this.#out = options.out;
    this.transcoder = new G711ToOpusTranscoder(options.law, options.opus);
    this.#scale = options.outgoing.audio.clockRate / options.incoming.audio.clockRate;
    this.#rewriter = new RtpStreamRewriter({ ...options.stream, clockRate: options.outgoing.audio.clockRate });
  }

  onPacket(packet: InboundPacket, nowMs: number): void {
    if (isTelephoneEventOf(this.#incoming, packet.payloadType)) {
      this.#sendEvent(packet, nowMs);
      return;
    }
    if (packet.payloadType !== this.#incoming.audio.payloadType) {
      this.counters.dropped['unmapped-payload-type']++;
      return;
    }
    if (!this.#inOrder(packet)) {
      this.counters.dropped['out-of-order']++;
      return;
    }
    this.#current = packet;
    this.#nowMs = nowMs;
    this.#firstOfPacket = true;
    this.transcoder.transcode(packet.payload, this.#sink);
  }

  onFrame(): void {
    // Encoded as packets arrive: nothing to time.
  }

  /** Newer than the newest from this source; a new SSRC is a new source (RFC 3550 §8.2). */
  #inOrder(packet: InboundPacket): boolean {
    const source = this.#source;
    if (source === undefined || source.ssrc !== packet.ssrc) {
      if (source !== undefined) this.transcoder.reset();
      this.#source = { ssrc: packet.ssrc, highest: packet.sequenceNumber };
      return true;
    }
    if (sequenceDelta(packet.sequenceNumber, source.highest) <= 0) return false;
    source.highest = packet.sequenceNumber;
    return true;
  }

  #emit(opus: Uint8Array, sampleOffset: number): void {
    const packet = this.#current as InboundPacket;
    const timestamp = (packet.timestamp * this.#scale + sampleOffset * this.#scale) >>> 0;
    const marker = packet.marker && this.#firstOfPacket;
    this.#firstOfPacket = false;
    this.#forward(this.#outgoing.audio.payloadType, { ...packet, timestamp, marker }, opus, false);
  }

  #sendEvent(packet: InboundPacket, nowMs: number): void {
    const to = this.#outgoing.telephoneEvent;
    if (to === undefined || packet.payload.length < TELEPHONE_EVENT_SIZE) {
      this.counters.dropped['unmapped-payload-type']++;
      return;
    }
    const payload = packet.payload.slice();
    const from = this.#incoming.telephoneEvent?.clockRate ?? this.#incoming.audio.clockRate;
    if (from !== to.clockRate) rescaleTelephoneEventDuration(payload, from, to.clockRate);
    this.#nowMs = nowMs;
    // Events share the audio's clock (RFC 4733 §2.1), so the same scaling places them.
    this.#forward(to.payloadType, { ...packet, timestamp: (packet.timestamp * this.#scale) >>> 0 }, payload, true);
  }

  sendTelephoneEvent(event: TelephoneEvent, start: boolean, nowMs: number): boolean {
    const to = this.#outgoing.telephoneEvent;
    if (to === undefined) return false;
    const slot = this.#rewriter.interject(nowMs);
    if (start) this.#eventTimestamp = slot.timestamp;
    return sendOwnTelephoneEvent(this.#out, this.counters, event, { payloadType: to.payloadType, marker: start, sequenceNumber: slot.sequenceNumber, timestamp: this.#eventTimestamp, ssrc: this.#rewriter.ssrc });
  }

  #forward(payloadType: number, packet: InboundPacket, payload: Uint8Array, telephoneEvent: boolean): void {
    this.#serial = (this.#serial + 1) & 0xffff;
    const rewritten = this.#rewriter.rewrite({ ...packet, sequenceNumber: this.#serial }, this.#nowMs);
    if (rewritten.action === 'drop') {
      this.counters.dropped['out-of-order']++;
      return;
    }
    const header = { payloadType, marker: rewritten.marker, sequenceNumber: rewritten.sequenceNumber, timestamp: rewritten.timestamp, ssrc: rewritten.ssrc };
    if (!this.#out.send(header, payload)) {
      this.counters.dropped['not-sent']++;
      return;
    }
    this.counters.forwarded++;
    if (telephoneEvent) this.counters.telephoneEvents++;
  }
}
