/**
 * AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4.1.1, §4.2): AES in counter mode with
 * IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16), the index being ROC * 2^16 + SEQ for SRTP
 * and the 31-bit SRTCP index for SRTCP; HMAC-SHA1 over the packet (and the ROC, for SRTP), 80 bits
 * appended. SRTCP carries the E flag and index before the tag, inside the authentication (§3.4).
 *
 * The cipher and the keyed HMAC are made once per session key (`aes-counter-mode.ts`,
 * `hmac-sha1.ts`): a packet makes no native object. Outputs are `Buffer.allocUnsafe` slices of
 * Node's shared pool, every octet written, each its own (callers hand them to a deferred send).
 */
import { Buffer } from 'node:buffer';
import { timingSafeEqual } from 'node:crypto';
import { AesCounterMode, blocksFor, xorKeystream } from './aes-counter-mode.ts';
import { HmacSha1 } from './hmac-sha1.ts';
import type { SessionKeys } from './srtp-key-derivation.ts';
import { SRTCP_E_FLAG, SRTCP_INDEX_OCTETS, copyOctets, readWord, writeUint32, type SrtpTransform } from './srtp-transform.ts';

const TAG_OCTETS = 10;
/** RFC 3711 §3.4: the SRTCP header and sender SSRC stay in clear. */
const RTCP_CLEAR_OCTETS = 8;

/** The cipher and MAC of SRTP or of SRTCP. */
interface Keyed {
  readonly cipher: AesCounterMode;
  readonly mac: HmacSha1;
  readonly salt: Uint8Array;
}

export class AesCmTransform implements SrtpTransform {
  readonly rtpTagOctets = TAG_OCTETS;
  readonly rtcpTrailerOctets = SRTCP_INDEX_OCTETS + TAG_OCTETS;
  readonly #rtp: Keyed;
  readonly #rtcp: Keyed;
  /** Reused: the tag a received packet should carry, compared then dropped. */
  readonly #expected = new Uint8Array(TAG_OCTETS);

  /** The session keys of SRTP and of SRTCP (`deriveSessionKeys`). */
  constructor(rtp: SessionKeys, rtcp: SessionKeys) {
    this.#rtp = keyed(rtp);
    this.#rtcp = keyed(rtcp);
  }

  protectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array {
    const length = packet.length;
    const out = Buffer.allocUnsafe(length + TAG_OCTETS);
    copyOctets(packet, 0, headerOctets, out, 0);
    encrypt(this.#rtp, ssrc, roc, sequence, packet, headerOctets, length, out);
    this.#rtp.mac.tag(out, length, roc, out, length, TAG_OCTETS);
    return out;
  }

  unprotectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array | undefined {
    const end = packet.length - TAG_OCTETS;
    this.#rtp.mac.tag(packet, end, roc, this.#expected, 0, TAG_OCTETS);
    if (!timingSafeEqual(this.#expected, packet.subarray(end))) return undefined;
    const out = Buffer.allocUnsafe(end);
    copyOctets(packet, 0, headerOctets, out, 0);
    encrypt(this.#rtp, ssrc, roc, sequence, packet, headerOctets, end, out);
    return out;
  }

  protectRtcp(packet: Uint8Array, ssrc: number, index: number): Uint8Array {
    const length = packet.length;
    const out = Buffer.allocUnsafe(length + SRTCP_INDEX_OCTETS + TAG_OCTETS);
    copyOctets(packet, 0, RTCP_CLEAR_OCTETS, out, 0);
    encrypt(this.#rtcp, ssrc, 0, index, packet, RTCP_CLEAR_OCTETS, length, out);
    writeUint32(out, length, (SRTCP_E_FLAG | index) >>> 0);
    this.#rtcp.mac.tag(out, length + SRTCP_INDEX_OCTETS, undefined, out, length + SRTCP_INDEX_OCTETS, TAG_OCTETS);
    return out;
  }

  unprotectRtcp(packet: Uint8Array, ssrc: number): { readonly packet: Uint8Array; readonly index: number } | undefined {
    const end = packet.length - TAG_OCTETS;
    this.#rtcp.mac.tag(packet, end, undefined, this.#expected, 0, TAG_OCTETS);
    if (!timingSafeEqual(this.#expected, packet.subarray(end))) return undefined;
    const word = readWord(packet, end - SRTCP_INDEX_OCTETS);
    const index = word & 0x7fffffff;
    const bodyEnd = end - SRTCP_INDEX_OCTETS;
    const out = Buffer.allocUnsafe(bodyEnd);
    if ((word & SRTCP_E_FLAG) === 0) {
      copyOctets(packet, 0, bodyEnd, out, 0);
    } else {
      copyOctets(packet, 0, RTCP_CLEAR_OCTETS, out, 0);
      encrypt(this.#rtcp, ssrc, 0, index, packet, RTCP_CLEAR_OCTETS, bodyEnd, out);
    }
    return { packet: out, index };
  }
}

function keyed(keys: SessionKeys): Keyed {
  return { cipher: new AesCounterMode(keys.encryption), mac: new HmacSha1(keys.authentication), salt: keys.salt };
}

/**
 * `packet[start, end)` XOR the keystream of the packet's index, written to `out` at `start`. The
 * index is `high` * 2^16 + `low` (ROC and SEQ; 0 and the SRTCP index for SRTCP).
 */
function encrypt(keys: Keyed, ssrc: number, high: number, low: number, packet: Uint8Array, start: number, end: number, out: Uint8Array): void {
  if (end === start) return;
  const iv = keys.cipher.counter;
  iv.fill(0);
  iv.set(keys.salt, 0);
  // SSRC * 2^64: octets 4-7; index * 2^16: octets 8-13.
  xorWord(iv, 4, ssrc);
  // index * 2^16 = high * 2^32 + low * 2^16: `high` at octets 8-11, `low` (up to 31 bits) at 10-13.
  xorWord(iv, 8, high);
  xorWord(iv, 10, low);
  const keystream = keys.cipher.keystream(blocksFor(end - start));
  xorKeystream(packet, start, end, keystream, 0, out, start);
}

function xorWord(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (bytes[offset] as number) ^ ((value >>> 24) & 0xff);
  bytes[offset + 1] = (bytes[offset + 1] as number) ^ ((value >>> 16) & 0xff);
  bytes[offset + 2] = (bytes[offset + 2] as number) ^ ((value >>> 8) & 0xff);
  bytes[offset + 3] = (bytes[offset + 3] as number) ^ (value & 0xff);
}
