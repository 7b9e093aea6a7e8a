/**
 * Both SRTP suites made the plain way, with one node:crypto object per packet: `aes-128-ctr` and
 * `createHmac('sha1')` for AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4.1.1, §4.2), `aes-128-gcm` for
 * AEAD_AES_128_GCM (RFC 7714 §8-9). The transforms of `media-node/srtp/` are checked against it
 * byte for byte, and `test/bench/srtp.bench.ts` measures it next to them.
 *
 * Besides the `SrtpTransform` calls, it makes SRTCP with the E flag clear (the body in clear,
 * §3.4 and RFC 7714 §9.2), which the node accepts but never sends.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import type { SessionKeys } from '../../../media-node/srtp/index.ts';

const CM_TAG_OCTETS = 10;
const GCM_TAG_OCTETS = 16;
const E_FLAG = 0x80000000;

export interface ReferenceTransform {
  protectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array;
  unprotectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array | undefined;
  protectRtcp(packet: Uint8Array, ssrc: number, index: number): Uint8Array;
  /** SRTCP with the E flag clear: the packet in clear, the index, the tag. */
  protectRtcpInClear(packet: Uint8Array, ssrc: number, index: number): Uint8Array;
}

const word = (value: number): Uint8Array => Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);

export class ReferenceAesCm implements ReferenceTransform {
  readonly #rtp: SessionKeys;
  readonly #rtcp: SessionKeys;

  constructor(rtp: SessionKeys, rtcp: SessionKeys) {
    this.#rtp = rtp;
    this.#rtcp = rtcp;
  }

  protectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array {
    const out = new Uint8Array(packet.length + CM_TAG_OCTETS);
    out.set(packet.subarray(0, headerOctets));
    out.set(ctr(this.#rtp, ssrc, roc, sequence, packet.subarray(headerOctets)), headerOctets);
    out.set(hmac(this.#rtp, out.subarray(0, packet.length), word(roc)), packet.length);
    return out;
  }

  unprotectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array | undefined {
    const end = packet.length - CM_TAG_OCTETS;
    if (!timingSafeEqual(hmac(this.#rtp, packet.subarray(0, end), word(roc)), packet.subarray(end))) return undefined;
    const out = new Uint8Array(end);
    out.set(packet.subarray(0, headerOctets));
    out.set(ctr(this.#rtp, ssrc, roc, sequence, packet.subarray(headerOctets, end)), headerOctets);
    return out;
  }

  protectRtcp(packet: Uint8Array, ssrc: number, index: number): Uint8Array {
    const authenticated = Buffer.concat([packet.subarray(0, 8), ctr(this.#rtcp, ssrc, 0, index, packet.subarray(8)), word((E_FLAG | index) >>> 0)]);
    return Buffer.concat([authenticated, hmac(this.#rtcp, authenticated)]);
  }

  protectRtcpInClear(packet: Uint8Array, _ssrc: number, index: number): Uint8Array {
    const authenticated = Buffer.concat([packet, word(index)]);
    return Buffer.concat([authenticated, hmac(this.#rtcp, authenticated)]);
  }
}

export class ReferenceAesGcm implements ReferenceTransform {
  readonly #rtp: SessionKeys;
  readonly #rtcp: SessionKeys;

  constructor(rtp: SessionKeys, rtcp: SessionKeys) {
    this.#rtp = rtp;
    this.#rtcp = rtcp;
  }

  protectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array {
    const cipher = createCipheriv('aes-128-gcm', this.#rtp.encryption, rtpIv(this.#rtp, ssrc, roc, sequence));
    cipher.setAAD(packet.subarray(0, headerOctets));
    const out = new Uint8Array(packet.length + GCM_TAG_OCTETS);
    out.set(packet.subarray(0, headerOctets));
    out.set(cipher.update(packet.subarray(headerOctets)), headerOctets);
    cipher.final();
    out.set(cipher.getAuthTag(), packet.length);
    return out;
  }

  unprotectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array | undefined {
    const end = packet.length - GCM_TAG_OCTETS;
    const decipher = createDecipheriv('aes-128-gcm', this.#rtp.encryption, rtpIv(this.#rtp, ssrc, roc, sequence));
    decipher.setAAD(packet.subarray(0, headerOctets));
    decipher.setAuthTag(packet.subarray(end));
    const out = new Uint8Array(end);
    out.set(packet.subarray(0, headerOctets));
    out.set(decipher.update(packet.subarray(headerOctets, end)), headerOctets);
    try {
      decipher.final();
    } catch {
      return undefined;
    }
    return out;
  }

  protectRtcp(packet: Uint8Array, ssrc: number, index: number): Uint8Array {
    const trailer = word((E_FLAG | index) >>> 0);
    const cipher = createCipheriv('aes-128-gcm', this.#rtcp.encryption, rtcpIv(this.#rtcp, ssrc, index));
    cipher.setAAD(Buffer.concat([packet.subarray(0, 8), trailer]));
    const body = Buffer.concat([cipher.update(packet.subarray(8)), cipher.final()]);
    return Buffer.concat([packet.subarray(0, 8), body, cipher.getAuthTag(), trailer]);
  }

  protectRtcpInClear(packet: Uint8Array, ssrc: number, index: number): Uint8Array {
    const trailer = word(index);
    const cipher = createCipheriv('aes-128-gcm', this.#rtcp.encryption, rtcpIv(this.#rtcp, ssrc, index));
    cipher.setAAD(Buffer.concat([packet, trailer]));
    cipher.final();
    return Buffer.concat([packet, cipher.getAuthTag(), trailer]);
  }
}

/** RFC 3711 §4.1.1: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR ((high * 2^16 + low) * 2^16). */
function ctr(keys: SessionKeys, ssrc: number, high: number, low: number, data: Uint8Array): Uint8Array {
  const iv = new Uint8Array(16);
  iv.set(keys.salt);
  xor(iv, 4, word(ssrc));
  xor(iv, 8, word(high));
  xor(iv, 10, word(low));
  return createCipheriv('aes-128-ctr', keys.encryption, iv).update(data);
}

function hmac(keys: SessionKeys, ...parts: Uint8Array[]): Uint8Array {
  const mac = createHmac('sha1', keys.authentication);
  for (const part of parts) mac.update(part);
  return mac.digest().subarray(0, CM_TAG_OCTETS);
}

/** RFC 7714 §8.1: salt XOR 0x0000 || SSRC || ROC || SEQ. */
function rtpIv(keys: SessionKeys, ssrc: number, roc: number, sequence: number): Uint8Array {
  const iv = new Uint8Array(12);
  iv.set(word(ssrc), 2);
  iv.set(word(roc), 6);
  iv[10] = sequence >>> 8;
  iv[11] = sequence & 0xff;
  return xor(iv, 0, keys.salt);
}

/** RFC 7714 §9.1: salt XOR 0x0000 || SSRC || 0x0000 || 0 || SRTCP index. */
function rtcpIv(keys: SessionKeys, ssrc: number, index: number): Uint8Array {
  const iv = new Uint8Array(12);
  iv.set(word(ssrc), 2);
  iv.set(word(index & 0x7fffffff), 8);
  return xor(iv, 0, keys.salt);
}

function xor(bytes: Uint8Array, offset: number, other: Uint8Array): Uint8Array {
  for (let i = 0; i < other.length; i++) bytes[offset + i] = (bytes[offset + i] as number) ^ (other[i] as number);
  return bytes;
}
