/**
 * Opus decoding for the G.711 side of a call: straight to 8 kHz mono, with packet-loss concealment.
 *
 * libopus decodes any Opus packet (whatever bandwidth the browser encoded) at any of its output
 * rates (RFC 6716 §4), so decoding at 8 kHz costs no resampling step. The binding is @evan/opus
 * (native where a prebuilt binary exists, WASM otherwise), chosen by measurement: see FIELD-NOTES.
 */
import { Decoder } from '@evan/opus';
import { concealmentPacket, opusPacketSamples } from './opus-packet.ts';

/** A packet the decoder refused (RFC 6716 §3.4 malformed packet, or a TOC it cannot decode). */
export class OpusDecodeError extends Error {
  override readonly name = 'OpusDecodeError';
}

export type OpusOutputRate = 8000 | 12000 | 16000 | 24000 | 48000;

/** SILK narrowband, 20 ms: the TOC used to conceal before any packet has been seen. */
const DEFAULT_TOC = 1 << 3;

export class OpusPcmDecoder {
  readonly sampleRate: OpusOutputRate;
  readonly #decoder: Decoder;
  #lastToc = DEFAULT_TOC;

  constructor(sampleRate: OpusOutputRate = 8000) {
    this.sampleRate = sampleRate;
    this.#decoder = new Decoder({ channels: 1, sample_rate: sampleRate });
  }

  /**
   * Decodes one packet to 16-bit mono samples (20 ms = 160 samples at 8 kHz). The samples are a
   * view of a buffer the binding allocated for this call; the caller may keep them.
   */
  decode(packet: Uint8Array): Int16Array {
    // Malformed lengths are refused before reaching native code (RFC 6716 §3.4 R1-R7 are checked
    // again by libopus; this only keeps an empty or truncated packet from being misread).
    if (opusPacketSamples(packet, this.sampleRate) === 0) {
      throw new OpusDecodeError(`not a decodable Opus packet (${packet.length} octets)`);
    }
    let bytes: Uint8Array;
    try {
      bytes = this.#decoder.decode(packet);
    } catch (error) {
      throw new OpusDecodeError(`libopus refused a ${packet.length}-octet packet`, { cause: error });
    }
    this.#lastToc = packet[0] as number;
    return asSamples(bytes);
  }

  /**
   * Conceals one missing 20 ms packet (RFC 6716 §4.4: the decoder extrapolates from its state and
   * fades out over consecutive losses). Call once per missing packet, in playout order.
   */
  conceal(): Int16Array {
    return asSamples(this.#decoder.decode(concealmentPacket(this.#lastToc)));
  }

  /** Forgets the stream (a new source after a re-INVITE or an SSRC change). */
  reset(): void {
    this.#decoder.reset();
    this.#lastToc = DEFAULT_TOC;
  }
}

/** The binding returns 16-bit samples in platform byte order as octets; view them without copying. */
function asSamples(bytes: Uint8Array): Int16Array {
  if ((bytes.byteOffset & 1) === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
  return new Int16Array(bytes.slice().buffer);
}
