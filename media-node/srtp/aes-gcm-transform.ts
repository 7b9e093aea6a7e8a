/**
 * AEAD_AES_128_GCM for SRTP and SRTCP (RFC 7714), the DTLS-SRTP profile 0x0007 (RFC 7714 §14.2)
 * browsers prefer. AES-GCM with a 16-octet tag; the 12-octet IV is the session salt XOR
 * 0x0000 || SSRC || ROC || SEQ for SRTP (§8.1) and 0x0000 || SSRC || 0x0000 || 0 || SRTCP index for
 * SRTCP (§9.1). The associated data is the RTP header (§8.2), or the first 8 octets of the RTCP
 * packet followed by the E flag and index (§9.2, §17), which travel after the tag in clear.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { SessionKeys } from './srtp-key-derivation.ts';
import { SRTCP_E_FLAG, SRTCP_INDEX_OCTETS, readWord, writeUint32, type SrtpTransform } from './srtp-transform.ts';

const TAG_OCTETS = 16;

export class AesGcmTransform implements SrtpTransform {
  readonly rtpTagOctets = TAG_OCTETS;
  readonly rtcpTrailerOctets = TAG_OCTETS + SRTCP_INDEX_OCTETS;
  readonly #rtp: SessionKeys;
  readonly #rtcp: SessionKeys;
  /** Reused: node:crypto copies the IV and associated data when a call takes them. */
  readonly #iv = new Uint8Array(12);
  readonly #rtcpAad = new Uint8Array(8 + SRTCP_INDEX_OCTETS);

  /** The session keys of SRTP and of SRTCP (`deriveSessionKeys`). */
  constructor(rtp: SessionKeys, rtcp: SessionKeys) {
    this.#rtp = rtp;
    this.#rtcp = rtcp;
  }

  protectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array {
    const cipher = createCipheriv('aes-128-gcm', this.#rtp.encryption, this.#rtpIv(ssrc, roc, sequence));
    cipher.setAAD(packet.subarray(0, headerOctets));
    const out = new Uint8Array(packet.length + TAG_OCTETS);
    out.set(packet.subarray(0, headerOctets));
    out.set(cipher.update(packet.subarray(headerOctets)), headerOctets);
    cipher.final();
    out.set(cipher.getAuthTag(), packet.length);
    return out;
  }

  unprotectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array | undefined {
    const end = packet.length - TAG_OCTETS;
    const decipher = createDecipheriv('aes-128-gcm', this.#rtp.encryption, this.#rtpIv(ssrc, roc, sequence));
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
    const aad = this.#rtcpAad;
    aad.set(packet.subarray(0, 8));
    writeUint32(aad, 8, (SRTCP_E_FLAG | index) >>> 0);
    const cipher = createCipheriv('aes-128-gcm', this.#rtcp.encryption, this.#rtcpIv(ssrc, index));
    cipher.setAAD(aad);
    const out = new Uint8Array(packet.length + TAG_OCTETS + SRTCP_INDEX_OCTETS);
    out.set(packet.subarray(0, 8));
    out.set(cipher.update(packet.subarray(8)), 8);
    cipher.final();
    out.set(cipher.getAuthTag(), packet.length);
    out.set(aad.subarray(8), packet.length + TAG_OCTETS);
    return out;
  }

  unprotectRtcp(packet: Uint8Array, ssrc: number): { readonly packet: Uint8Array; readonly index: number } | undefined {
    const indexAt = packet.length - SRTCP_INDEX_OCTETS;
    const tagAt = indexAt - TAG_OCTETS;
    const word = readWord(packet, indexAt);
    const index = word & 0x7fffffff;
    const encrypted = (word & SRTCP_E_FLAG) !== 0;
    const decipher = createDecipheriv('aes-128-gcm', this.#rtcp.encryption, this.#rtcpIv(ssrc, index));
    // §9.2: an encrypted packet authenticates its first 8 octets, an unencrypted one all of it;
    // then the E flag and index.
    decipher.setAAD(Buffer.concat([packet.subarray(0, encrypted ? 8 : tagAt), packet.subarray(indexAt)]));
    decipher.setAuthTag(packet.subarray(tagAt, indexAt));
    const out = new Uint8Array(tagAt);
    out.set(packet.subarray(0, encrypted ? 8 : tagAt));
    if (encrypted) out.set(decipher.update(packet.subarray(8, tagAt)), 8);
    try {
      decipher.final();
    } catch {
      return undefined;
    }
    return { packet: out, index };
  }

  /** §8.1: salt XOR 0x0000 || SSRC || ROC || SEQ. */
  #rtpIv(ssrc: number, roc: number, sequence: number): Uint8Array {
    const iv = this.#iv;
    iv[0] = 0;
    iv[1] = 0;
    writeUint32(iv, 2, ssrc);
    writeUint32(iv, 6, roc);
    iv[10] = (sequence >>> 8) & 0xff;
    iv[11] = sequence & 0xff;
    return salted(iv, this.#rtp.salt);
  }

  /** §9.1: salt XOR 0x0000 || SSRC || 0x0000 || 0 || SRTCP index. */
  #rtcpIv(ssrc: number, index: number): Uint8Array {
    const iv = this.#iv;
    iv[0] = 0;
    iv[1] = 0;
    writeUint32(iv, 2, ssrc);
    iv[6] = 0;
    iv[7] = 0;
    writeUint32(iv, 8, index & 0x7fffffff);
    return salted(iv, this.#rtcp.salt);
  }
}

function salted(iv: Uint8Array, salt: Uint8Array): Uint8Array {
  for (let octet = 0; octet < iv.length; octet++) iv[octet] = (iv[octet] as number) ^ (salt[octet] as number);
  return iv;
}
