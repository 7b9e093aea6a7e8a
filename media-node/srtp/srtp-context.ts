/**
 * SRTP and SRTCP (RFC 3711) with AES_CM_128_HMAC_SHA1_80, as the PBX leg needs it for SDES-keyed
 * RTP/SAVP (RFC 4568): one context per direction and master key. `SrtpSender` protects what the node
 * sends under its own key; `SrtpReceiver` checks and decrypts what the PBX sends under the PBX's.
 *
 * - Encryption (§4.1.1): AES in counter mode, IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16),
 *   the index being ROC * 2^16 + SEQ for SRTP and the 31-bit SRTCP index for SRTCP.
 * - Authentication (§4.2): HMAC-SHA1 over the packet (and the ROC, for SRTP), 80 bits appended.
 *   Authentication is checked before anything is decrypted or believed (§3.3 step 5).
 * - The receiver keeps, per SSRC, the rollover counter estimate (§3.3.1, Appendix A) and a 64-packet
 *   replay window (§3.3.2); a packet that fails either is refused with the reason.
 */
import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { deriveSessionKeys, type SessionKeys } from './srtp-key-derivation.ts';

export const AUTH_TAG_OCTETS = 10;
const SRTCP_INDEX_OCTETS = 4;
const REPLAY_WINDOW = 64n;
/** Remote SSRCs tracked at most; a PBX leg has one, or a few across re-INVITEs. */
const MAX_STREAMS = 16;

export type SrtpRefusal = 'too-short' | 'authentication' | 'replayed';

export type Unprotected = { readonly ok: true; readonly packet: Uint8Array } | { readonly ok: false; readonly error: SrtpRefusal };

export interface MasterKey {
  readonly key: Uint8Array;
  readonly salt: Uint8Array;
}

interface Keys {
  readonly rtp: SessionKeys;
  readonly rtcp: SessionKeys;
}

function keysOf(master: MasterKey): Keys {
  return { rtp: deriveSessionKeys(master.key, master.salt, 'rtp'), rtcp: deriveSessionKeys(master.key, master.salt, 'rtcp') };
}

/** Protects the node's RTP and RTCP toward the PBX. */
export class SrtpSender {
  readonly #keys: Keys;
  /** Per SSRC: rollover counter and last sequence number sent (§3.3.1: the sender knows its index). */
  readonly #streams = new Map<number, { roc: number; lastSequence: number }>();
  #rtcpIndex = 0;

  constructor(master: MasterKey) {
    this.#keys = keysOf(master);
  }

  protectRtp(packet: Uint8Array): Uint8Array {
    const headerOctets = rtpHeaderOctets(packet);
    const ssrc = readUint32(packet, 8);
    const sequence = ((packet[2] as number) << 8) | (packet[3] as number);
    const stream = this.#streams.get(ssrc);
    let roc = 0;
    if (stream === undefined) {
      if (this.#streams.size >= MAX_STREAMS) this.#streams.clear();
    } else {
      roc = stream.roc;
      // A sequence number that wrapped past 65535 starts the next roll-over cycle.
      if (sequence < stream.lastSequence && stream.lastSequence - sequence > 0x8000) roc = (roc + 1) >>> 0;
    }
    this.#streams.set(ssrc, { roc, lastSequence: sequence });
    const out = new Uint8Array(packet.length + AUTH_TAG_OCTETS);
    out.set(packet.subarray(0, headerOctets));
    const index = BigInt(roc) * 65536n + BigInt(sequence);
    out.set(aesCtr(this.#keys.rtp, ssrc, index, packet.subarray(headerOctets)), headerOctets);
    out.set(rtpTag(this.#keys.rtp, out.subarray(0, packet.length), roc), packet.length);
    return out;
  }

  protectRtcp(packet: Uint8Array): Uint8Array {
    const ssrc = readUint32(packet, 4);
    const index = this.#rtcpIndex;
    this.#rtcpIndex = (this.#rtcpIndex + 1) & 0x7fffffff;
    const out = new Uint8Array(packet.length + SRTCP_INDEX_OCTETS + AUTH_TAG_OCTETS);
    out.set(packet.subarray(0, 8));
    out.set(aesCtr(this.#keys.rtcp, ssrc, BigInt(index), packet.subarray(8)), 8);
    // §3.4: the E flag (encrypted) and the SRTCP index follow the packet, inside the authentication.
    writeUint32(out, packet.length, (0x80000000 | index) >>> 0);
    const authenticated = out.subarray(0, packet.length + SRTCP_INDEX_OCTETS);
    out.set(hmac(this.#keys.rtcp, authenticated), authenticated.length);
    return out;
  }
}

interface ReceiveStream {
  roc: number;
  /** Highest sequence number received (`s_l`, §3.3.1). */
  highest: number;
  /** Highest index received and the replay bitmap below it (bit 0 is `highestIndex`). */
  highestIndex: bigint;
  window: bigint;
}

/** Checks and decrypts the PBX's SRTP and SRTCP. */
export class SrtpReceiver {
  readonly #keys: Keys;
  readonly #streams = new Map<number, ReceiveStream>();
  readonly #rtcpWindows = new Map<number, { highest: number; window: bigint }>();

  constructor(master: MasterKey) {
    this.#keys = keysOf(master);
  }

  unprotectRtp(packet: Uint8Array): Unprotected {
    if (packet.length < 12 + AUTH_TAG_OCTETS) return { ok: false, error: 'too-short' };
    const headerOctets = rtpHeaderOctets(packet);
    const end = packet.length - AUTH_TAG_OCTETS;
    if (headerOctets > end) return { ok: false, error: 'too-short' };
    const ssrc = readUint32(packet, 8);
    const sequence = ((packet[2] as number) << 8) | (packet[3] as number);
    const stream = this.#streams.get(ssrc);
    const roc = stream === undefined ? 0 : estimateRoc(stream, sequence);
    const expected = rtpTag(this.#keys.rtp, packet.subarray(0, end), roc);
    if (!timingSafeEqual(expected, packet.subarray(end))) return { ok: false, error: 'authentication' };
    const index = BigInt(roc) * 65536n + BigInt(sequence);
    if (stream !== undefined && replayed(stream, index)) return { ok: false, error: 'replayed' };
    const out = new Uint8Array(end);
    out.set(packet.subarray(0, headerOctets));
    out.set(aesCtr(this.#keys.rtp, ssrc, index, packet.subarray(headerOctets, end)), headerOctets);
    this.#note(ssrc, stream, roc, sequence, index);
    return { ok: true, packet: out };
  }

  unprotectRtcp(packet: Uint8Array): Unprotected {
    if (packet.length < 8 + SRTCP_INDEX_OCTETS + AUTH_TAG_OCTETS) return { ok: false, error: 'too-short' };
    const end = packet.length - AUTH_TAG_OCTETS;
    const expected = hmac(this.#keys.rtcp, packet.subarray(0, end));
    if (!timingSafeEqual(expected, packet.subarray(end))) return { ok: false, error: 'authentication' };
    const word = readUint32(packet, end - SRTCP_INDEX_OCTETS);
    const encrypted = (word & 0x80000000) !== 0;
    const index = word & 0x7fffffff;
    const ssrc = readUint32(packet, 4);
    const seen = this.#rtcpWindows.get(ssrc);
    if (seen !== undefined) {
      const delta = index - seen.highest;
      if (delta <= 0 && (-delta >= Number(REPLAY_WINDOW) || ((seen.window >> BigInt(-delta)) & 1n) === 1n)) return { ok: false, error: 'replayed' };
    }
    const bodyEnd = end - SRTCP_INDEX_OCTETS;
    const out = new Uint8Array(bodyEnd);
    out.set(packet.subarray(0, 8));
    const body = packet.subarray(8, bodyEnd);
    out.set(encrypted ? aesCtr(this.#keys.rtcp, ssrc, BigInt(index), body) : body, 8);
    this.#noteRtcp(ssrc, seen, index);
    return { ok: true, packet: out };
  }

  #note(ssrc: number, stream: ReceiveStream | undefined, roc: number, sequence: number, index: bigint): void {
    if (stream === undefined) {
      if (this.#streams.size >= MAX_STREAMS) this.#streams.clear();
      this.#streams.set(ssrc, { roc, highest: sequence, highestIndex: index, window: 1n });
      return;
    }
    if (index > stream.highestIndex) {
      const shift = index - stream.highestIndex;
      stream.window = shift >= REPLAY_WINDOW ? 1n : ((stream.window << shift) | 1n) & ((1n << REPLAY_WINDOW) - 1n);
      stream.highestIndex = index;
      stream.roc = roc;
      stream.highest = sequence;
    } else {
      stream.window |= 1n << (stream.highestIndex - index);
    }
  }

  #noteRtcp(ssrc: number, seen: { highest: number; window: bigint } | undefined, index: number): void {
    if (seen === undefined) {
      if (this.#rtcpWindows.size >= MAX_STREAMS) this.#rtcpWindows.clear();
      this.#rtcpWindows.set(ssrc, { highest: index, window: 1n });
      return;
    }
    if (index > seen.highest) {
      const shift = BigInt(index - seen.highest);
      seen.window = shift >= REPLAY_WINDOW ? 1n : ((seen.window << shift) | 1n) & ((1n << REPLAY_WINDOW) - 1n);
      seen.highest = index;
    } else {
      seen.window |= 1n << BigInt(seen.highest - index);
    }
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

function replayed(stream: ReceiveStream, index: bigint): boolean {
  if (index > stream.highestIndex) return false;
  const behind = stream.highestIndex - index;
  if (behind >= REPLAY_WINDOW) return true;
  return ((stream.window >> behind) & 1n) === 1n;
}

/** The fixed header, CSRC list and header extension (RFC 3550 §5.1, §5.3.1): what stays in clear. */
function rtpHeaderOctets(packet: Uint8Array): number {
  const first = packet[0] as number;
  let octets = 12 + 4 * (first & 0x0f);
  if ((first & 0x10) !== 0 && packet.length >= octets + 4) {
    octets += 4 + 4 * (((packet[octets + 2] as number) << 8) | (packet[octets + 3] as number));
  }
  return Math.min(octets, packet.length);
}

function aesCtr(keys: SessionKeys, ssrc: number, index: bigint, data: Uint8Array): Uint8Array {
  const iv = new Uint8Array(16);
  iv.set(keys.salt, 0);
  // SSRC * 2^64: octets 4-7; index * 2^16: octets 8-13.
  iv[4] = (iv[4] as number) ^ ((ssrc >>> 24) & 0xff);
  iv[5] = (iv[5] as number) ^ ((ssrc >>> 16) & 0xff);
  iv[6] = (iv[6] as number) ^ ((ssrc >>> 8) & 0xff);
  iv[7] = (iv[7] as number) ^ (ssrc & 0xff);
  for (let octet = 0; octet < 6; octet++) {
    iv[13 - octet] = (iv[13 - octet] as number) ^ Number((index >> BigInt(8 * octet)) & 0xffn);
  }
  return new Uint8Array(createCipheriv('aes-128-ctr', keys.encryption, iv).update(data));
}

function rtpTag(keys: SessionKeys, authenticated: Uint8Array, roc: number): Uint8Array {
  const rocOctets = new Uint8Array(4);
  writeUint32(rocOctets, 0, roc);
  return createHmac('sha1', keys.authentication).update(authenticated).update(rocOctets).digest().subarray(0, AUTH_TAG_OCTETS);
}

function hmac(keys: SessionKeys, authenticated: Uint8Array): Uint8Array {
  return createHmac('sha1', keys.authentication).update(authenticated).digest().subarray(0, AUTH_TAG_OCTETS);
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return (((bytes[offset] as number) << 24) | ((bytes[offset + 1] as number) << 16) | ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number)) >>> 0;
}

function writeUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 24) & 0xff;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}
