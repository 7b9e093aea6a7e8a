/**
 * What makes a captured signed request useless: its timestamp must be within `maxSkewMs` of the
 * node's clock (stale otherwise), and its nonce must not have been seen while that timestamp could
 * still pass (replayed otherwise). A nonce is remembered only until its request would be stale
 * anyway, so the record holds about one skew window of requests; only requests whose signature
 * verified are recorded, so a stranger cannot fill it.
 */
import type { Clock } from '../../shared/clock/index.ts';
import { systemClock } from '../../shared/clock/index.ts';
import { DEFAULT_MAX_SKEW_MS, nonceExpiry, type NonceGuard } from '../../shared/signing/index.ts';

export interface ReplayGuardOptions {
  /** Default 30 s. */
  readonly maxSkewMs?: number;
  readonly clock?: Clock;
}

export class ReplayGuard implements NonceGuard {
  readonly maxSkewMs: number;
  readonly #clock: Clock;
  /** Nonce -> when it may be forgotten; in insertion order, which is close to expiry order. */
  readonly #seen = new Map<string, number>();

  constructor(options: ReplayGuardOptions = {}) {
    this.maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
    this.#clock = options.clock ?? systemClock;
  }

  get remembered(): number {
    return this.#seen.size;
  }

  /** Whether a request stamped `timestampSeconds` is within the allowed clock skew, either way. */
  isFresh(timestampSeconds: number): boolean {
    return Math.abs(this.#clock.now() - timestampSeconds * 1000) <= this.maxSkewMs;
  }

  /** Records `nonce`; false if it was already recorded (a replay). */
  remember(nonce: string, timestampSeconds: number): boolean {
    const now = this.#clock.now();
    this.#forgetExpired(now);
    if (this.#seen.has(nonce)) return false;
    // Past this, `isFresh` refuses the timestamp, so the nonce need not be kept.
    this.#seen.set(nonce, nonceExpiry(timestampSeconds, this.maxSkewMs));
    return true;
  }

  #forgetExpired(now: number): void {
    for (const [nonce, expires] of this.#seen) {
      // Entries were inserted in about timestamp order; stop at the first live one, and the few a
      // skewed sender put out of order are forgotten a little later.
      if (expires > now) break;
      this.#seen.delete(nonce);
    }
  }
}
