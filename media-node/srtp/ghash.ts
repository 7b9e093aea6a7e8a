/**
 * GHASH (NIST SP 800-38D §6.4), the authentication half of AES-GCM (RFC 7714 uses it for
 * AEAD_AES_128_GCM), in plain JavaScript with 32-bit integers.
 *
 * Multiplication by the hash subkey H in GF(2^128) uses Shoup's 8-bit table: the 256 multiples of
 * H by every 8-bit polynomial (4 KiB), computed once per key, so a block costs 16 table look-ups,
 * shifts and XORs. A 128-bit value is four 32-bit words, the first holding octets 0-3 (GCM's bit
 * order: the most significant bit of octet 0 is the coefficient of x^0, of octet 15 x^120).
 * As with any table-driven GHASH (OpenSSL's fallback without PCLMULQDQ too), which entries are read
 * depends on the data: not constant-time against a cache-timing observer on the same machine.
 */

const GHASH_BLOCK_OCTETS = 16;
/** GCM's R (SP 800-38D §6.3): x^128 = x^7 + x^2 + x + 1, as the top octet of the first word. */
const R = 0xe1000000 | 0;

/**
 * Entry n: what multiplying by x^8 folds back into the first word when the octet n (the
 * coefficients of x^120 to x^127) is shifted out past x^127: eight one-bit steps, each
 * reducing by R.
 */
const REDUCTION = Int32Array.from({ length: 256 }, (_, octet) => {
  let top = 0;
  let low = octet;
  for (let step = 0; step < 8; step++) {
    const carry = low & 1;
    low >>>= 1;
    top = (top >>> 1) ^ (carry === 0 ? 0 : R);
  }
  return top;
});

export class Ghash {
  /** Entry n (words 4n to 4n+3): H times the 8-bit polynomial n, bit 7 of n being x^0. */
  readonly #table = new Int32Array(1024);
  /** The running value Y (SP 800-38D §6.4), reused per call. */
  readonly #y = new Int32Array(4);
  /** A final partial block, zero-padded. */
  readonly #partial = new Uint8Array(GHASH_BLOCK_OCTETS);

  /** `h` is the hash subkey, AES_K(0^128). */
  constructor(h: Uint8Array) {
    const table = this.#table;
    let v0 = readWord(h, 0);
    let v1 = readWord(h, 4);
    let v2 = readWord(h, 8);
    let v3 = readWord(h, 12);
    setEntry(table, 128, v0, v1, v2, v3);
    // H * x, ..., H * x^7: each a right shift by one bit, reduced by R.
    for (let entry = 64; entry > 0; entry >>>= 1) {
      const carry = v3 & 1;
      v3 = (v3 >>> 1) | (v2 << 31);
      v2 = (v2 >>> 1) | (v1 << 31);
      v1 = (v1 >>> 1) | (v0 << 31);
      v0 = (v0 >>> 1) ^ (carry === 0 ? 0 : R);
      setEntry(table, entry, v0, v1, v2, v3);
    }
    for (let power = 2; power <= 128; power <<= 1) {
      for (let low = 1; low < power; low++) {
        for (let word = 0; word < 4; word++) table[4 * (power + low) + word] = (table[4 * power + word] as number) ^ (table[4 * low + word] as number);
      }
    }
  }

  /**
   * GHASH_H(A || 0^v || C || 0^u || [len(A)]64 || [len(C)]64) (SP 800-38D §7.1 step 5), with A the
   * octets `aad[aadStart, aadEnd)` and C the octets `ciphertext[start, end)`, XORed with the 16
   * octets of `mask` from `maskAt` (AES_K(J0), making it GCM's tag) and written to `out` at `at`.
   */
  tag(aad: Uint8Array, aadStart: number, aadEnd: number, ciphertext: Uint8Array, start: number, end: number, mask: Uint8Array, maskAt: number, out: Uint8Array, at: number): void {
    const y = this.#y;
    y.fill(0);
    this.#absorb(aad, aadStart, aadEnd);
    this.#absorb(ciphertext, start, end);
    const aadBits = (aadEnd - aadStart) * 8;
    const bits = (end - start) * 8;
    y[0] = (y[0] as number) ^ Math.floor(aadBits / 0x100000000);
    y[1] = (y[1] as number) ^ aadBits;
    y[2] = (y[2] as number) ^ Math.floor(bits / 0x100000000);
    y[3] = (y[3] as number) ^ bits;
    this.#multiply();
    for (let word = 0; word < 4; word++) {
      const value = (y[word] as number) ^ readWord(mask, maskAt + 4 * word);
      const offset = at + 4 * word;
      out[offset] = (value >>> 24) & 0xff;
      out[offset + 1] = (value >>> 16) & 0xff;
      out[offset + 2] = (value >>> 8) & 0xff;
      out[offset + 3] = value & 0xff;
    }
  }

  /** Y = (Y XOR X) * H for each block X of `bytes[start, end)`, the last one zero-padded. */
  #absorb(bytes: Uint8Array, start: number, end: number): void {
    const y = this.#y;
    let offset = start;
    for (; offset + GHASH_BLOCK_OCTETS <= end; offset += GHASH_BLOCK_OCTETS) {
      y[0] = (y[0] as number) ^ readWord(bytes, offset);
      y[1] = (y[1] as number) ^ readWord(bytes, offset + 4);
      y[2] = (y[2] as number) ^ readWord(bytes, offset + 8);
      y[3] = (y[3] as number) ^ readWord(bytes, offset + 12);
      this.#multiply();
    }
    if (offset === end) return;
    const partial = this.#partial;
    partial.fill(0);
    for (let i = 0; offset + i < end; i++) partial[i] = bytes[offset + i] as number;
    for (let word = 0; word < 4; word++) y[word] = (y[word] as number) ^ readWord(partial, 4 * word);
    this.#multiply();
  }

  /** Y = Y * H: Horner's rule over Y's octets from the x^120-x^127 one down, times x^8 between octets. */
  #multiply(): void {
    const y = this.#y;
    const table = this.#table;
    let z0 = 0;
    let z1 = 0;
    let z2 = 0;
    let z3 = 0;
    for (let word = 3; word >= 0; word--) {
      const value = y[word] as number;
      // From the word's low octet up: octet 15 holds the highest powers.
      for (let shift = 0; shift < 32; shift += 8) {
        const digit = 4 * ((value >>> shift) & 0xff);
        const reduction = REDUCTION[z3 & 0xff] as number;
        z3 = (z3 >>> 8) | (z2 << 24);
        z2 = (z2 >>> 8) | (z1 << 24);
        z1 = (z1 >>> 8) | (z0 << 24);
        z0 = (z0 >>> 8) ^ reduction;
        z0 ^= table[digit] as number;
        z1 ^= table[digit + 1] as number;
        z2 ^= table[digit + 2] as number;
        z3 ^= table[digit + 3] as number;
      }
    }
    y[0] = z0;
    y[1] = z1;
    y[2] = z2;
    y[3] = z3;
  }
}

function setEntry(table: Int32Array, entry: number, v0: number, v1: number, v2: number, v3: number): void {
  table[4 * entry] = v0;
  table[4 * entry + 1] = v1;
  table[4 * entry + 2] = v2;
  table[4 * entry + 3] = v3;
}

function readWord(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] as number) << 24) | ((bytes[offset + 1] as number) << 16) | ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number);
}
