/**
 * Browser to PBX: Opus payloads in, G.711 payloads out, one call direction per instance.
 *
 * Opus is decoded straight at 8 kHz (no resampling) and each sample is mapped through the G.711
 * table. Packets must arrive in playout order (the jitter buffer's job): the decoder is stateful,
 * and a missing packet is replaced by `conceal()`, which runs the decoder's packet-loss concealment.
 * The G.711 octets go into one buffer reused for every packet, so the hot path allocates only what
 * the Opus binding itself allocates.
 */
import { G711_FRAME_SAMPLES, g711Codec, type G711Codec, type G711Law } from './g711.ts';
import { OpusDecodeError, OpusPcmDecoder } from './opus-decoder.ts';
import { OPUS_MAX_PACKET_MS } from './opus-packet.ts';

export interface OpusToG711Counters {
  /** Packets decoded. */
  decoded: number;
  /** Frames produced by concealment, asked for or standing in for an undecodable packet. */
  concealed: number;
  /** Packets the decoder refused. */
  invalid: number;
}

export class OpusToG711Transcoder {
  readonly codec: G711Codec;
  readonly counters: OpusToG711Counters = { decoded: 0, concealed: 0, invalid: 0 };
  readonly #decoder = new OpusPcmDecoder(8000);
  readonly #output = new Uint8Array((OPUS_MAX_PACKET_MS * 8000) / 1000);
  /** The usual 20 ms view, made once. */
  readonly #frame = this.#output.subarray(0, G711_FRAME_SAMPLES);

  constructor(law: G711Law) {
    this.codec = g711Codec(law);
  }

  /**
   * Transcodes one Opus payload. Returns the G.711 octets, one per 8 kHz sample (160 for the usual
   * 20 ms packet; a 40 or 60 ms packet gives 320 or 480 for the caller to send as 20 ms frames).
   * The result is a view of a reused buffer: send or copy it before the next call.
   * An undecodable payload is counted and concealed, so the PBX still gets a frame on time.
   */
  transcode(payload: Uint8Array): Uint8Array {
    let pcm: Int16Array;
    try {
      pcm = this.#decoder.decode(payload);
      this.counters.decoded++;
    } catch (error) {
      if (!(error instanceof OpusDecodeError)) throw error;
      this.counters.invalid++;
      return this.conceal();
    }
    return this.#encode(pcm);
  }

  /** One 20 ms frame standing in for a missing packet (RFC 6716 §4.4 packet-loss concealment). */
  conceal(): Uint8Array {
    this.counters.concealed++;
    return this.#encode(this.#decoder.conceal());
  }

  /** Forgets the stream: call when the source changes (SSRC change, re-INVITE). */
  reset(): void {
    this.#decoder.reset();
  }

  #encode(pcm: Int16Array): Uint8Array {
    // The decoder never returns more than 120 ms (RFC 6716 §3.2.5), which the output buffer holds.
    const out = pcm.length === G711_FRAME_SAMPLES ? this.#frame : this.#output.subarray(0, pcm.length);
    this.codec.encode(pcm, out);
    return out;
  }
}
