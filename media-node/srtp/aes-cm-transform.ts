/**
 * AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4.1.1, §4.2): AES in counter mode with
 * IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16), the index being ROC * 2^16 + SEQ for SRTP
 * and the 31-bit SRTCP index for SRTCP; HMAC-SHA1 over the packet (and the ROC, for SRTP), 80 bits
 * appended. SRTCP carries the E flag and index before the tag, inside the authentication (§3.4).
 */
import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import type { SessionKeys } from './srtp-key-derivation.ts';
import { SRTCP_E_FLAG, SRTCP_INDEX_OCTETS, readWord, writeUint32, type SrtpTransform } from './srtp-transform.ts';

const TAG_OCTETS = 10;

export class AesCmTransform implements SrtpTransform {
  readonly rtpTagOctets = TAG_OCTETS;
  readonly rtcpTrailerOctets = SRTCP_INDEX_OCTETS + TAG_OCTETS;
  readonly #rtp: SessionKeys;
  readonly #rtcp: SessionKeys;
  /** Reused: the IV and the ROC octets are consumed synchronously by each call. */
  readonly #iv = new Uint8Array(16);
  readonly #roc = new Uint8Array(4);

  /** The session keys of SRTP and of SRTCP (`deriveSessionKeys`). */
  constructor(rtp: SessionKeys, rtcp: SessionKeys) {
    this.#rtp = rtp;
    this.#rtcp = rtcp;
  }

  protectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array {
    const out = new Uint8Array(packet.length + TAG_OCTETS);
    out.set(packet.subarray(0, headerOctets));
    out.set(this.#ctr(this.#rtp, ssrc, roc, sequence, packet.subarray(headerOctets)), headerOctets);
    out.set(this.#rtpTag(out.subarray(0, packet.length), roc), packet.length);
    return out;
  }

  unprotectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array | undefined {
    const end = packet.length - TAG_OCTETS;
    if (!timingSafeEqual(this.#rtpTag(packet.subarray(0, end), roc), packet.subarray(end))) return undefined;
    const out = new Uint8Array(end);
    out.set(packet.subarray(0, headerOctets));
    out.set(this.#ctr(this.#rtp, ssrc, roc, sequence, packet.subarray(headerOctets, end)), headerOctets);
    return out;
  }

  protectRtcp(packet: Uint8Array, ssrc: number, index: number): Uint8Array {
    const out = new Uint8Array(packet.length + SRTCP_INDEX_OCTETS + TAG_OCTETS);
    out.set(packet.subarray(0, 8));
    out.set(this.#ctr(this.#rtcp, ssrc, 0, index, packet.subarray(8)), 8);
    writeUint32(out, packet.length, (SRTCP_E_FLAG | index) >>> 0);
    const authenticated = out.subarray(0, packet.length + SRTCP_INDEX_OCTETS);
    out.set(hmac(this.#rtcp, authenticated), authenticated.length);
    return out;
  }

  unprotectRtcp(packet: Uint8Array, ssrc: number): { readonly packet: Uint8Array; readonly index: number } | undefined {
    const end = packet.length - TAG_OCTETS;
    if (!timingSafeEqual(hmac(this.#rtcp, packet.subarray(0, end)), packet.subarray(end))) return undefined;
    const word = readWord(packet, end - SRTCP_INDEX_OCTETS);
    const index = word & 0x7fffffff;
    const bodyEnd = end - SRTCP_INDEX_OCTETS;
    const out = new Uint8Array(bodyEnd);
    out.set(packet.subarray(0, 8));
    const body = packet.subarray(8, bodyEnd);
    out.set((word & SRTCP_E_FLAG) !== 0 ? this.#ctr(this.#rtcp, ssrc, 0, index, body) : body, 8);
    return { packet: out, index };
  }

  /** The index is `high` * 2^16 + `low` (ROC and SEQ; 0 and the SRTCP index for SRTCP). */
  #ctr(keys: SessionKeys, ssrc: number, high: number, low: number, data: Uint8Array): Uint8Array {
    const iv = this.#iv;
    iv.fill(0);
    iv.set(keys.salt, 0);
    // SSRC * 2^64: octets 4-7; index * 2^16: octets 8-13.
    xorWord(iv, 4, ssrc);
    // index * 2^16 = high * 2^32 + low * 2^16: `high` at octets 8-11, `low` (up to 31 bits) at 10-13.
    xorWord(iv, 8, high);
    xorWord(iv, 10, low);
    return createCipheriv('aes-128-ctr', keys.encryption, iv).update(data);
  }

  #rtpTag(authenticated: Uint8Array, roc: number): Uint8Array {
    writeUint32(this.#roc, 0, roc);
    return createHmac('sha1', this.#rtp.authentication).update(authenticated).update(this.#roc).digest().subarray(0, TAG_OCTETS);
  }
}

function hmac(keys: SessionKeys, authenticated: Uint8Array): Uint8Array {
  return createHmac('sha1', keys.authentication).update(authenticated).digest().subarray(0, TAG_OCTETS);
}

function xorWord(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (bytes[offset] as number) ^ ((value >>> 24) & 0xff);
  bytes[offset + 1] = (bytes[offset + 1] as number) ^ ((value >>> 16) & 0xff);
  bytes[offset + 2] = (bytes[offset + 2] as number) ^ ((value >>> 8) & 0xff);
  bytes[offset + 3] = (bytes[offset + 3] as number) ^ (value & 0xff);
}
