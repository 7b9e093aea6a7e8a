/**
 * The replay list of one SRTP or SRTCP stream (RFC 3711 §3.3.2): a sliding window of 64 packet
 * indexes below the highest one received. An index is a 48-bit SRTP index (ROC * 2^16 + SEQ, exact
 * in a double) or a 31-bit SRTCP index; the 64-bit bitmap is two 32-bit words, so the per-packet
 * path makes no BigInt.
 */

export const REPLAY_WINDOW = 64;

export class ReplayWindow {
  /** Highest index received; bit 0 of the bitmap stands for it, bit n for `highest - n`. */
  #highest: number;
  /** Bits 0-31 and 32-63 of the bitmap. */
  #low = 1;
  #high = 0;

  /** The window after the stream's first authenticated packet, `index`. */
  constructor(index: number) {
    this.#highest = index;
  }

  get highest(): number {
    return this.#highest;
  }

  /** True when `index` was received already or is too old to tell (§3.3.2: then it is dropped). */
  replayed(index: number): boolean {
    if (index > this.#highest) return false;
    const behind = this.#highest - index;
    if (behind >= REPLAY_WINDOW) return true;
    const bit = behind < 32 ? this.#low >>> behind : this.#high >>> (behind - 32);
    return (bit & 1) === 1;
  }

  /** Records `index`, authenticated and not `replayed`; a higher one slides the window up. */
  note(index: number): void {
    if (index > this.#highest) {
      const shift = index - this.#highest;
      if (shift >= REPLAY_WINDOW) {
        this.#high = 0;
        this.#low = 0;
      } else if (shift >= 32) {
        this.#high = this.#low << (shift - 32);
        this.#low = 0;
      } else {
        this.#high = (this.#high << shift) | (this.#low >>> (32 - shift));
        this.#low <<= shift;
      }
      this.#low |= 1;
      this.#highest = index;
      return;
    }
    const behind = this.#highest - index;
    if (behind < 32) this.#low |= 1 << behind;
    else if (behind < REPLAY_WINDOW) this.#high |= 1 << (behind - 32);
  }
}
