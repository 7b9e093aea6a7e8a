/**
 * PBX to browser: G.711 payloads in, 20 ms Opus packets out, one call direction per instance.
 *
 * G.711 is decoded through its 256-entry table into one reused 20 ms frame, which is handed to the
 * Opus encoder at 8 kHz as soon as it is full. Most PBXs send 20 ms packets, which map one to one;
 * other packet times (10, 30 ms...) are re-framed, so a packet may complete no frame or several.
 * Nothing is concealed here: a lost G.711 packet is simply not sent, and the browser's own decoder
 * conceals the gap (RFC 7587 §4.1 keeps timestamps continuous across it).
 */
import { G711_FRAME_SAMPLES, g711Codec, type G711Codec, type G711Law } from './g711.ts';
import { OpusPcmEncoder, type OpusEncoderOptions } from './opus-encoder.ts';

/**
 * Receives each Opus packet as it is completed. `sampleOffset` places its first sample relative to
 * the first sample of the G.711 payload being transcoded, in 8 kHz samples: 0 when packets map one
 * to one, negative when the frame began with samples left over from the previous payload.
 */
export type OpusPacketSink = (packet: Uint8Array, sampleOffset: number) => void;

export interface G711ToOpusCounters {
  /** G.711 payloads taken in. */
  payloads: number;
  /** Opus packets produced. */
  encoded: number;
}

export class G711ToOpusTranscoder {
  readonly codec: G711Codec;
  readonly counters: G711ToOpusCounters = { payloads: 0, encoded: 0 };
  readonly #encoder: OpusPcmEncoder;
  readonly #frame = new Int16Array(G711_FRAME_SAMPLES);
  /** Samples of `#frame` already filled from earlier payloads. */
  #filled = 0;

  constructor(law: G711Law, options: OpusEncoderOptions = {}) {
    this.codec = g711Codec(law);
    this.#encoder = new OpusPcmEncoder(options);
  }

  /** Transcodes one G.711 payload; returns how many Opus packets it completed (and sent to `sink`). */
  transcode(payload: Uint8Array, sink: OpusPacketSink): number {
    this.counters.payloads++;
    if (this.#filled === 0 && payload.length === G711_FRAME_SAMPLES) {
      // The common case: one 20 ms payload, one 20 ms packet, no copying through subarrays.
      this.codec.decode(payload, this.#frame);
      this.#emit(sink, 0);
      return 1;
    }
    let completed = 0;
    let position = 0;
    while (position < payload.length) {
      const take = Math.min(G711_FRAME_SAMPLES - this.#filled, payload.length - position);
      this.codec.decode(payload.subarray(position, position + take), this.#frame.subarray(this.#filled, this.#filled + take));
      this.#filled += take;
      position += take;
      if (this.#filled === G711_FRAME_SAMPLES) {
        this.#filled = 0;
        this.#emit(sink, position - G711_FRAME_SAMPLES);
        completed++;
      }
    }
    return completed;
  }

  /** Forgets the stream and any partial frame: call when the source changes or after a gap. */
  reset(): void {
    this.#filled = 0;
    this.#encoder.reset();
  }

  #emit(sink: OpusPacketSink, sampleOffset: number): void {
    const packet = this.#encoder.encode(this.#frame);
    this.counters.encoded++;
    sink(packet, sampleOffset);
  }
}
