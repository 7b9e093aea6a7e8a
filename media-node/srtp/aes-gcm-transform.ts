/**
 * AEAD_AES_128_GCM for SRTP and SRTCP (RFC 7714), the DTLS-SRTP profile 0x0007 (RFC 7714 §14.2)
 * browsers prefer. AES-GCM with a 16-octet tag; the 12-octet IV is the session salt XOR
 * 0x0000 || SSRC || ROC || SEQ for SRTP (§8.1) and 0x0000 || SSRC || 0x0000 || 0 || SRTCP index for
 * SRTCP (§9.1). The associated data is the RTP header (§8.2), or the first 8 octets of the RTCP
 * packet followed by the E flag and index (§9.2, §17), which travel after the tag in clear.
 *
 * GCM is built from its halves (SP 800-38D §7): the counter-mode keystream from J0 = IV || 1 (one
 * `aes-128-ecb` cipher per session key, `aes-counter-mode.ts`) and GHASH under H = AES_K(0^128)
 * (`ghash.ts`), so a packet makes no native object. The keystream's first block, AES_K(J0), masks
 * the tag; the rest encrypts. Outputs are `Buffer.allocUnsafe` slices of Node's shared pool,
 * every octet written, each its own (callers hand them to a deferred send).
 */
import { Buffer } from 'node:buffer';
import { timingSafeEqual } from 'node:crypto';
import { AES_BLOCK_OCTETS, AesCounterMode, blocksFor, xorKeystream } from './aes-counter-mode.ts';
import { Ghash } from './ghash.ts';
import type { SessionKeys } from './srtp-key-derivation.ts';
import { SRTCP_E_FLAG, SRTCP_INDEX_OCTETS, copyOctets, readWord, writeUint32, type SrtpTransform } from './srtp-transform.ts';

const TAG_OCTETS = 16;
const IV_OCTETS = 12;
/** RFC 7714 §9.2: the first 8 octets of an encrypted SRTCP packet are associated data, in clear. */
const RTCP_CLEAR_OCTETS = 8;

/** The cipher and GHASH of SRTP or of SRTCP. */
interface Keyed {
  readonly cipher: AesCounterMode;
  readonly ghash: Ghash;
  readonly salt: Uint8Array;
}

export class AesGcmTransform implements SrtpTransform {
  readonly rtpTagOctets = TAG_OCTETS;
  readonly rtcpTrailerOctets = TAG_OCTETS + SRTCP_INDEX_OCTETS;
  readonly #rtp: Keyed;
  readonly #rtcp: Keyed;
  /** Reused: the tag a received packet should carry, compared then dropped. */
  readonly #expected = new Uint8Array(TAG_OCTETS);
  /** Reused: SRTCP's associated data, which is not contiguous in the packet (§9.2). */
  #rtcpAad = new Uint8Array(RTCP_CLEAR_OCTETS + SRTCP_INDEX_OCTETS);

  /** The session keys of SRTP and of SRTCP (`deriveSessionKeys`). */
  constructor(rtp: SessionKeys, rtcp: SessionKeys) {
    this.#rtp = keyed(rtp);
    this.#rtcp = keyed(rtcp);
  }

  protectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array {
    const length = packet.length;
    const keystream = rtpKeystream(this.#rtp, ssrc, roc, sequence, length - headerOctets);
    const out = Buffer.allocUnsafe(length + TAG_OCTETS);
    copyOctets(packet, 0, headerOctets, out, 0);
    xorKeystream(packet, headerOctets, length, keystream, AES_BLOCK_OCTETS, out, headerOctets);
    this.#rtp.ghash.tag(out, 0, headerOctets, out, headerOctets, length, keystream, 0, out, length);
    return out;
  }

  unprotectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array | undefined {
    const end = packet.length - TAG_OCTETS;
    const keystream = rtpKeystream(this.#rtp, ssrc, roc, sequence, end - headerOctets);
    this.#rtp.ghash.tag(packet, 0, headerOctets, packet, headerOctets, end, keystream, 0, this.#expected, 0);
    if (!timingSafeEqual(this.#expected, packet.subarray(end))) return undefined;
    const out = Buffer.allocUnsafe(end);
    copyOctets(packet, 0, headerOctets, out, 0);
    xorKeystream(packet, headerOctets, end, keystream, AES_BLOCK_OCTETS, out, headerOctets);
    return out;
  }

  protectRtcp(packet: Uint8Array, ssrc: number, index: number): Uint8Array {
    const length = packet.length;
    const aad = this.#rtcpAad;
    const word = (SRTCP_E_FLAG | index) >>> 0;
    copyOctets(packet, 0, RTCP_CLEAR_OCTETS, aad, 0);
    writeUint32(aad, RTCP_CLEAR_OCTETS, word);
    const keystream = rtcpKeystream(this.#rtcp, ssrc, index, length - RTCP_CLEAR_OCTETS);
    const out = Buffer.allocUnsafe(length + TAG_OCTETS + SRTCP_INDEX_OCTETS);
    copyOctets(packet, 0, RTCP_CLEAR_OCTETS, out, 0);
    xorKeystream(packet, RTCP_CLEAR_OCTETS, length, keystream, AES_BLOCK_OCTETS, out, RTCP_CLEAR_OCTETS);
    this.#rtcp.ghash.tag(aad, 0, RTCP_CLEAR_OCTETS + SRTCP_INDEX_OCTETS, out, RTCP_CLEAR_OCTETS, length, keystream, 0, out, length);
    writeUint32(out, length + TAG_OCTETS, word);
    return out;
  }

  unprotectRtcp(packet: Uint8Array, ssrc: number): { readonly packet: Uint8Array; readonly index: number } | undefined {
    const indexAt = packet.length - SRTCP_INDEX_OCTETS;
    const tagAt = indexAt - TAG_OCTETS;
    const word = readWord(packet, indexAt);
    const index = word & 0x7fffffff;
    // §9.2: an encrypted packet authenticates its first 8 octets, an unencrypted one all of it;
    // then the E flag and index.
    const clearEnd = (word & SRTCP_E_FLAG) !== 0 ? RTCP_CLEAR_OCTETS : tagAt;
    const aadOctets = clearEnd + SRTCP_INDEX_OCTETS;
    if (this.#rtcpAad.length < aadOctets) this.#rtcpAad = new Uint8Array(aadOctets);
    const aad = this.#rtcpAad;
    copyOctets(packet, 0, clearEnd, aad, 0);
    writeUint32(aad, clearEnd, word);
    const keystream = rtcpKeystream(this.#rtcp, ssrc, index, tagAt - clearEnd);
    this.#rtcp.ghash.tag(aad, 0, aadOctets, packet, clearEnd, tagAt, keystream, 0, this.#expected, 0);
    if (!timingSafeEqual(this.#expected, packet.subarray(tagAt, indexAt))) return undefined;
    const out = Buffer.allocUnsafe(tagAt);
    copyOctets(packet, 0, clearEnd, out, 0);
    xorKeystream(packet, clearEnd, tagAt, keystream, AES_BLOCK_OCTETS, out, clearEnd);
    return { packet: out, index };
  }
}

function keyed(keys: SessionKeys): Keyed {
  const cipher = new AesCounterMode(keys.encryption);
  // The counter starts zeroed: its first keystream block is H = AES_K(0^128).
  const h = Uint8Array.from(cipher.keystream(1));
  return { cipher, ghash: new Ghash(h), salt: keys.salt };
}

/** §8.1: IV = salt XOR 0x0000 || SSRC || ROC || SEQ; AES_K(J0) then the keystream for `octets`. */
function rtpKeystream(keys: Keyed, ssrc: number, roc: number, sequence: number, octets: number): Buffer {
  const counter = keys.cipher.counter;
  counter[0] = 0;
  counter[1] = 0;
  writeUint32(counter, 2, ssrc);
  writeUint32(counter, 6, roc);
  counter[10] = (sequence >>> 8) & 0xff;
  counter[11] = sequence & 0xff;
  return fromJ0(keys, octets);
}

/** §9.1: IV = salt XOR 0x0000 || SSRC || 0x0000 || 0 || SRTCP index; AES_K(J0) then the keystream for `octets`. */
function rtcpKeystream(keys: Keyed, ssrc: number, index: number, octets: number): Buffer {
  const counter = keys.cipher.counter;
  counter[0] = 0;
  counter[1] = 0;
  writeUint32(counter, 2, ssrc);
  counter[6] = 0;
  counter[7] = 0;
  writeUint32(counter, 8, index & 0x7fffffff);
  return fromJ0(keys, octets);
}

/** J0 = IV || 0^31 || 1 (SP 800-38D §7.1 step 2, a 96-bit IV), salted IV already in octets 0-11. */
function fromJ0(keys: Keyed, octets: number): Buffer {
  const counter = keys.cipher.counter;
  for (let octet = 0; octet < IV_OCTETS; octet++) counter[octet] = (counter[octet] as number) ^ (keys.salt[octet] as number);
  writeUint32(counter, IV_OCTETS, 1);
  return keys.cipher.keystream(1 + blocksFor(octets));
}
