/**
 * HMAC-SHA1 (RFC 2104 over FIPS 180-4 SHA-1), the authentication of AES_CM_128_HMAC_SHA1_80
 * (RFC 3711 §4.2.1), keyed once per session key and run in plain JavaScript.
 *
 * Why not `createHmac`: every call makes a native object that V8 tracks with a weak handle, one
 * per packet, and the scavenger pays for each dead one (see `aes-counter-mode.ts`). Here the
 * inner and outer hash states after the padded key (the first block of each hash) are computed
 * once, so a packet costs its own blocks plus one outer block, and no allocation at all.
 */

const BLOCK_OCTETS = 64;
export const SHA1_OCTETS = 20;
/** FIPS 180-4 §5.3.1: H(0). */
const INITIAL = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0);

export class HmacSha1 {
  /** Hash states after ipad XOR key and opad XOR key (RFC 2104 §2). */
  readonly #inner = new Int32Array(5);
  readonly #outer = new Int32Array(5);
  /** Reused per call: the running state, the last (padded) block and the message schedule. */
  readonly #state = new Int32Array(5);
  readonly #block = new Uint8Array(BLOCK_OCTETS);
  readonly #schedule = new Int32Array(80);

  constructor(key: Uint8Array) {
    if (key.length > BLOCK_OCTETS) throw new RangeError(`HMAC-SHA1 keys longer than ${BLOCK_OCTETS} octets are not used by SRTP`);
    const pad = new Uint8Array(BLOCK_OCTETS);
    pad.set(key);
    for (let i = 0; i < BLOCK_OCTETS; i++) pad[i] = (pad[i] as number) ^ 0x36;
    this.#inner.set(INITIAL);
    this.#compress(this.#inner, pad, 0);
    for (let i = 0; i < BLOCK_OCTETS; i++) pad[i] = (pad[i] as number) ^ 0x36 ^ 0x5c;
    this.#outer.set(INITIAL);
    this.#compress(this.#outer, pad, 0);
  }

  /**
   * The HMAC of `message[0, length)`, followed, when `roc` is given, by `roc` as 4 octets in network
   * order (RFC 3711 §4.2: M = Authenticated Portion || ROC); its first `tagOctets` octets are
   * written to `out` at `at`.
   */
  tag(message: Uint8Array, length: number, roc: number | undefined, out: Uint8Array, at: number, tagOctets: number): void {
    const state = this.#state;
    const block = this.#block;
    state.set(this.#inner);
    let offset = 0;
    for (; offset + BLOCK_OCTETS <= length; offset += BLOCK_OCTETS) this.#compress(state, message, offset);
    let filled = length - offset;
    for (let i = 0; i < filled; i++) block[i] = message[offset + i] as number;
    if (roc !== undefined) {
      for (let shift = 24; shift >= 0; shift -= 8) {
        block[filled++] = (roc >>> shift) & 0xff;
        if (filled === BLOCK_OCTETS) {
          this.#compress(state, block, 0);
          filled = 0;
        }
      }
    }
    const messageOctets = BLOCK_OCTETS + length + (roc === undefined ? 0 : 4);
    this.#finish(state, filled, messageOctets);
    // Outer hash: opad block (in #outer), then the 20-octet inner digest.
    writeDigest(state, block, 0);
    state.set(this.#outer);
    this.#finish(state, SHA1_OCTETS, BLOCK_OCTETS + SHA1_OCTETS);
    for (let i = 0; i < tagOctets; i++) out[at + i] = ((state[i >>> 2] as number) >>> (24 - 8 * (i & 3))) & 0xff;
  }

  /** FIPS 180-4 §5.1.1: pads the `filled` octets in the block with 1, zeros and the length in bits; hashes them. */
  #finish(state: Int32Array, filled: number, messageOctets: number): void {
    const block = this.#block;
    block[filled++] = 0x80;
    if (filled > BLOCK_OCTETS - 8) {
      block.fill(0, filled);
      this.#compress(state, block, 0);
      filled = 0;
    }
    block.fill(0, filled, BLOCK_OCTETS - 8);
    const bits = messageOctets * 8;
    writeWord(block, BLOCK_OCTETS - 8, Math.floor(bits / 0x100000000));
    writeWord(block, BLOCK_OCTETS - 4, bits >>> 0);
    this.#compress(state, block, 0);
  }

  /** FIPS 180-4 §6.1.2: one 64-octet block at `offset`, unrolled five rounds at a time. */
  #compress(state: Int32Array, bytes: Uint8Array, offset: number): void {
    const w = this.#schedule;
    for (let t = 0; t < 16; t++, offset += 4) {
      w[t] = ((bytes[offset] as number) << 24) | ((bytes[offset + 1] as number) << 16) | ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number);
    }
    for (let t = 16; t < 80; t++) {
      const x = (w[t - 3] as number) ^ (w[t - 8] as number) ^ (w[t - 14] as number) ^ (w[t - 16] as number);
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = state[0] as number;
    let b = state[1] as number;
    let c = state[2] as number;
    let d = state[3] as number;
    let e = state[4] as number;
    // Each line is one round with the variables renamed instead of rotated: the round's new `a`
    // lands in the variable that held `e`, and `b` is rotated left by 30 in place.
    for (let t = 0; t < 20; t += 5) {
      e = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + (w[t] as number) + 0x5a827999) | 0;
      b = (b << 30) | (b >>> 2);
      d = (((e << 5) | (e >>> 27)) + ((a & b) | (~a & c)) + d + (w[t + 1] as number) + 0x5a827999) | 0;
      a = (a << 30) | (a >>> 2);
      c = (((d << 5) | (d >>> 27)) + ((e & a) | (~e & b)) + c + (w[t + 2] as number) + 0x5a827999) | 0;
      e = (e << 30) | (e >>> 2);
      b = (((c << 5) | (c >>> 27)) + ((d & e) | (~d & a)) + b + (w[t + 3] as number) + 0x5a827999) | 0;
      d = (d << 30) | (d >>> 2);
      a = (((b << 5) | (b >>> 27)) + ((c & d) | (~c & e)) + a + (w[t + 4] as number) + 0x5a827999) | 0;
      c = (c << 30) | (c >>> 2);
    }
    for (let t = 20; t < 40; t += 5) {
      e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (w[t] as number) + 0x6ed9eba1) | 0;
      b = (b << 30) | (b >>> 2);
      d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + (w[t + 1] as number) + 0x6ed9eba1) | 0;
      a = (a << 30) | (a >>> 2);
      c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + (w[t + 2] as number) + 0x6ed9eba1) | 0;
      e = (e << 30) | (e >>> 2);
      b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + (w[t + 3] as number) + 0x6ed9eba1) | 0;
      d = (d << 30) | (d >>> 2);
      a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + (w[t + 4] as number) + 0x6ed9eba1) | 0;
      c = (c << 30) | (c >>> 2);
    }
    for (let t = 40; t < 60; t += 5) {
      e = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (w[t] as number) + 0x8f1bbcdc) | 0;
      b = (b << 30) | (b >>> 2);
      d = (((e << 5) | (e >>> 27)) + ((a & b) | (a & c) | (b & c)) + d + (w[t + 1] as number) + 0x8f1bbcdc) | 0;
      a = (a << 30) | (a >>> 2);
      c = (((d << 5) | (d >>> 27)) + ((e & a) | (e & b) | (a & b)) + c + (w[t + 2] as number) + 0x8f1bbcdc) | 0;
      e = (e << 30) | (e >>> 2);
      b = (((c << 5) | (c >>> 27)) + ((d & e) | (d & a) | (e & a)) + b + (w[t + 3] as number) + 0x8f1bbcdc) | 0;
      d = (d << 30) | (d >>> 2);
      a = (((b << 5) | (b >>> 27)) + ((c & d) | (c & e) | (d & e)) + a + (w[t + 4] as number) + 0x8f1bbcdc) | 0;
      c = (c << 30) | (c >>> 2);
    }
    for (let t = 60; t < 80; t += 5) {
      e = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (w[t] as number) + 0xca62c1d6) | 0;
      b = (b << 30) | (b >>> 2);
      d = (((e << 5) | (e >>> 27)) + (a ^ b ^ c) + d + (w[t + 1] as number) + 0xca62c1d6) | 0;
      a = (a << 30) | (a >>> 2);
      c = (((d << 5) | (d >>> 27)) + (e ^ a ^ b) + c + (w[t + 2] as number) + 0xca62c1d6) | 0;
      e = (e << 30) | (e >>> 2);
      b = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + b + (w[t + 3] as number) + 0xca62c1d6) | 0;
      d = (d << 30) | (d >>> 2);
      a = (((b << 5) | (b >>> 27)) + (c ^ d ^ e) + a + (w[t + 4] as number) + 0xca62c1d6) | 0;
      c = (c << 30) | (c >>> 2);
    }
    state[0] = ((state[0] as number) + a) | 0;
    state[1] = ((state[1] as number) + b) | 0;
    state[2] = ((state[2] as number) + c) | 0;
    state[3] = ((state[3] as number) + d) | 0;
    state[4] = ((state[4] as number) + e) | 0;
  }
}

function writeDigest(state: Int32Array, out: Uint8Array, at: number): void {
  for (let i = 0; i < 5; i++) writeWord(out, at + 4 * i, state[i] as number);
}

function writeWord(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 24) & 0xff;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}
