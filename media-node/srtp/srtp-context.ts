/**
 * SRTP and SRTCP (RFC 3711) contexts: one per direction and master key. `SrtpSender` protects what
 * the node sends under its own key; `SrtpReceiver` checks and decrypts what the peer sends under
 * the peer's. The suite's cryptographic transform is its own module: AES_CM_128_HMAC_SHA1_80
 * (`aes-cm-transform.ts`; SDES on the PBX leg, DTLS-SRTP on the browser leg) or AEAD_AES_128_GCM
 * (`aes-gcm-transform.ts`, RFC 7714; DTLS-SRTP on the browser leg). This module keeps the indexes:
 *
 * - the sender's rollover counter per SSRC (§3.3.1: the sender knows its index) and SRTCP index;
 * - the receiver's rollover counter estimate per SSRC (§3.3.1, Appendix A) and 64-packet replay
 *   windows (§3.3.2, `replay-window.ts`) for SRTP and SRTCP. Authentication is checked before the
 *   index is believed (§3.3 step 5); a packet that fails either is refused with the reason.
 */
import { AesCmTransform } from './aes-cm-transform.ts';
import { AesGcmTransform } from './aes-gcm-transform.ts';
import { ReplayWindow } from './replay-window.ts';
import { deriveSessionKeys } from './srtp-key-derivation.ts';
import { readWord, type SrtpTransform } from './srtp-transform.ts';

/** Remote SSRCs tracked at most; a leg has one, or a few across re-offers. */
const MAX_STREAMS = 16;

export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AEAD_AES_128_GCM';

export type SrtpRefusal = 'too-short' | 'authentication' | 'replayed';

export type Unprotected = { readonly ok: true; readonly packet: Uint8Array } | { readonly ok: false; readonly error: SrtpRefusal };

export interface MasterKey {
  readonly key: Uint8Array;
  /** 14 octets for AES_CM_128_HMAC_SHA1_80, 12 for AEAD_AES_128_GCM. */
  readonly salt: Uint8Array;
}

function transformOf(master: MasterKey, suite: SrtpSuite): SrtpTransform {
  const rtp = deriveSessionKeys(master.key, master.salt, 'rtp');
  const rtcp = deriveSessionKeys(master.key, master.salt, 'rtcp');
  return suite === 'AEAD_AES_128_GCM' ? new AesGcmTransform(rtp, rtcp) : new AesCmTransform(rtp, rtcp);
}

/** Protects the node's RTP and RTCP. */
export class SrtpSender {
  readonly #transform: SrtpTransform;
  /** Per SSRC: rollover counter and last sequence number sent. */
  readonly #streams = new Map<number, { roc: number; lastSequence: number }>();
  #rtcpIndex = 0;

  constructor(master: MasterKey, suite: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80') {
    this.#transform = transformOf(master, suite);
  }

  protectRtp(packet: Uint8Array): Uint8Array {
    const headerOctets = rtpHeaderOctets(packet);
    const ssrc = readWord(packet, 8);
    const sequence = ((packet[2] as number) << 8) | (packet[3] as number);
    const stream = this.#streams.get(ssrc);
    let roc = 0;
    if (stream === undefined) {
      if (this.#streams.size >= MAX_STREAMS) this.#streams.clear();
      this.#streams.set(ssrc, { roc, lastSequence: sequence });
    } else {
      roc = stream.roc;
      // A sequence number that wrapped past 65535 starts the next roll-over cycle.
      if (sequence < stream.lastSequence && stream.lastSequence - sequence > 0x8000) roc = (roc + 1) >>> 0;
      stream.roc = roc;
      stream.lastSequence = sequence;
    }
    return this.#transform.protectRtp(packet, headerOctets, ssrc, roc, sequence);
  }

  protectRtcp(packet: Uint8Array): Uint8Array {
    const index = this.#rtcpIndex;
    this.#rtcpIndex = (this.#rtcpIndex + 1) & 0x7fffffff;
    return this.#transform.protectRtcp(packet, readWord(packet, 4), index);
  }
}

interface ReceiveStream {
  roc: number;
  /** Highest sequence number received (`s_l`, §3.3.1). */
  highest: number;
  /** The replay list over indexes ROC * 2^16 + SEQ. */
  readonly window: ReplayWindow;
}

/** Checks and decrypts the peer's SRTP and SRTCP. */
export class SrtpReceiver {
  readonly #transform: SrtpTransform;
  readonly #streams = new Map<number, ReceiveStream>();
  readonly #rtcpWindows = new Map<number, ReplayWindow>();

  constructor(master: MasterKey, suite: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80') {
    this.#transform = transformOf(master, suite);
  }

  unprotectRtp(packet: Uint8Array): Unprotected {
    const tagOctets = this.#transform.rtpTagOctets;
    if (packet.length < 12 + tagOctets) return { ok: false, error: 'too-short' };
    const headerOctets = rtpHeaderOctets(packet);
    if (headerOctets > packet.length - tagOctets) return { ok: false, error: 'too-short' };
    const ssrc = readWord(packet, 8);
    const sequence = ((packet[2] as number) << 8) | (packet[3] as number);
    const stream = this.#streams.get(ssrc);
    const roc = stream === undefined ? 0 : estimateRoc(stream, sequence);
    const out = this.#transform.unprotectRtp(packet, headerOctets, ssrc, roc, sequence);
    if (out === undefined) return { ok: false, error: 'authentication' };
    const index = roc * 65536 + sequence;
    if (stream !== undefined && stream.window.replayed(index)) return { ok: false, error: 'replayed' };
    this.#note(ssrc, stream, roc, sequence, index);
    return { ok: true, packet: out };
  }

  unprotectRtcp(packet: Uint8Array): Unprotected {
    if (packet.length < 8 + this.#transform.rtcpTrailerOctets) return { ok: false, error: 'too-short' };
    const ssrc = readWord(packet, 4);
    const opened = this.#transform.unprotectRtcp(packet, ssrc);
    if (opened === undefined) return { ok: false, error: 'authentication' };
    const index = opened.index;
    const window = this.#rtcpWindows.get(ssrc);
    if (window === undefined) {
      if (this.#rtcpWindows.size >= MAX_STREAMS) this.#rtcpWindows.clear();
      this.#rtcpWindows.set(ssrc, new ReplayWindow(index));
    } else {
      if (window.replayed(index)) return { ok: false, error: 'replayed' };
      window.note(index);
    }
    return { ok: true, packet: opened.packet };
  }

  #note(ssrc: number, stream: ReceiveStream | undefined, roc: number, sequence: number, index: number): void {
    if (stream === undefined) {
      if (this.#streams.size >= MAX_STREAMS) this.#streams.clear();
      this.#streams.set(ssrc, { roc, highest: sequence, window: new ReplayWindow(index) });
      return;
    }
    if (index > stream.window.highest) {
      stream.roc = roc;
      stream.highest = sequence;
    }
    stream.window.note(index);
  }
}

/** RFC 3711 Appendix A: the ROC that puts `sequence` closest to the highest one received. */
function estimateRoc(stream: ReceiveStream, sequence: number): number {
  const { roc, highest } = stream;
  if (highest < 0x8000) {
    if (sequence - highest > 0x8000) return roc === 0 ? 0 : (roc - 1) >>> 0;
    return roc;
  }
  if (highest - 0x8000 > sequence) return (roc + 1) >>> 0;
  return roc;
}

/** The fixed header, CSRC list and header extension (RFC 3550 §5.1, §5.3.1): what stays in clear. */
export function rtpHeaderOctets(packet: Uint8Array): number {
  const first = packet[0] as number;
  let octets = 12 + 4 * (first & 0x0f);
  if ((first & 0x10) !== 0 && packet.length >= octets + 4) {
    octets += 4 + 4 * (((packet[octets + 2] as number) << 8) | (packet[octets + 3] as number));
  }
  return Math.min(octets, packet.length);
}
