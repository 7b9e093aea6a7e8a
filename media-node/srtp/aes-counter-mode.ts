/**
 * AES-128 counter-mode keystream under one session key, for both SRTP suites: AES-CM
 * (RFC 3711 §4.1.1) and the CTR half of AES-GCM (RFC 7714 §8.1, SP 800-38D §6.5).
 *
 * One `aes-128-ecb` cipher is made per key and kept: a packet's counter blocks are written into a
 * reused buffer and encrypted in one `update()` call. A `createCipheriv` per packet would cost
 * ~3-8 us of CPU and, worse, one native object per packet that V8 tracks with a weak handle: the
 * scavenger walks every dead one (~1 ms per 5,000), and at thousands of packets a second those
 * walks set the media node's p99 latency.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, type Cipher } from 'node:crypto';

export const AES_BLOCK_OCTETS = 16;
/** Counter blocks for a 1,500-octet packet; the buffer grows for larger ones. */
const INITIAL_BLOCKS = 96;

export class AesCounterMode {
  /** The first counter block of the next `keystream` call, written by the caller. */
  readonly counter = new Uint8Array(AES_BLOCK_OCTETS);
  readonly #ecb: Cipher;
  #blocks = Buffer.alloc(INITIAL_BLOCKS * AES_BLOCK_OCTETS);

  constructor(key: Uint8Array) {
    this.#ecb = createCipheriv('aes-128-ecb', key, null);
    this.#ecb.setAutoPadding(false);
  }

  /**
   * AES_K(counter), AES_K(counter + 1), ... for `blocks` blocks, the last 32 bits of the counter
   * counting modulo 2^32: GCM's inc32, and AES-CM's addition too, since an SRTP IV ends in 16 zero
   * bits and no packet is 2^16 blocks long.
   */
  keystream(blocks: number): Buffer {
    const octets = blocks * AES_BLOCK_OCTETS;
    if (this.#blocks.length < octets) this.#blocks = Buffer.alloc(octets);
    const counters = this.#blocks;
    const counter = this.counter;
    const low = (((counter[12] as number) << 24) | ((counter[13] as number) << 16) | ((counter[14] as number) << 8) | (counter[15] as number)) >>> 0;
    for (let block = 0, at = 0; block < blocks; block++, at += AES_BLOCK_OCTETS) {
      for (let i = 0; i < 12; i++) counters[at + i] = counter[i] as number;
      const value = (low + block) >>> 0;
      counters[at + 12] = value >>> 24;
      counters[at + 13] = (value >>> 16) & 0xff;
      counters[at + 14] = (value >>> 8) & 0xff;
      counters[at + 15] = value & 0xff;
    }
    return this.#ecb.update(counters.subarray(0, octets));
  }
}

/** `out[at + i] = input[start + i] XOR keystream[keyAt + i]` for the octets of `input[start, end)`. */
export function xorKeystream(input: Uint8Array, start: number, end: number, keystream: Uint8Array, keyAt: number, out: Uint8Array, at: number): void {
  for (let i = 0; i < end - start; i++) out[at + i] = (input[start + i] as number) ^ (keystream[keyAt + i] as number);
}

/** The number of blocks that cover `octets`. */
export function blocksFor(octets: number): number {
  return Math.ceil(octets / AES_BLOCK_OCTETS);
}
