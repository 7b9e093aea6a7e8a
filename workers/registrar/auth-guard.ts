/**
 * Brute-force protection for one user's credentials, as plain JSON and pure functions.
 *
 *   open --(slowAfter failures)--> slowed: each further failure blocks the next check for a
 *                                  doubling interval (503 + Retry-After, nothing verified)
 *   slowed --(lockAfter failures)--> locked for lockMs (403 + Retry-After, nothing verified)
 *   any --(success)--> open;  failures older than windowMs are forgotten
 *
 * Only wrong answers count (a digest response that does not match, or an unknown user): a first
 * REGISTER without credentials, a stale nonce or a replayed nc are protocol, not guessing.
 */

export interface AuthGuardPolicy {
  readonly windowMs: number;
  readonly slowAfter: number;
  readonly lockAfter: number;
  readonly lockMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_AUTH_GUARD_POLICY: AuthGuardPolicy = {
  windowMs: 15 * 60_000,
  slowAfter: 5,
  lockAfter: 10,
  lockMs: 15 * 60_000,
  maxBackoffMs: 30_000,
};

export interface AuthGuardState {
  /** Failures counted since `windowStart`. */
  readonly failures: number;
  readonly windowStart: number;
  /** No credentials are checked before this time (ms). */
  readonly blockedUntil: number;
  /** The block is a lock-out (403), not a slow-down (503). */
  readonly locked: boolean;
}

export const OPEN_GUARD: AuthGuardState = { failures: 0, windowStart: 0, blockedUntil: 0, locked: false };

export type GuardVerdict =
  | { readonly kind: 'open' }
  | { readonly kind: 'slowed'; readonly retryAfterSeconds: number }
  | { readonly kind: 'locked'; readonly retryAfterSeconds: number };

export function assessGuard(state: AuthGuardState, now: number): GuardVerdict {
  if (now >= state.blockedUntil) return { kind: 'open' };
  const retryAfterSeconds = Math.max(1, Math.ceil((state.blockedUntil - now) / 1000));
  return state.locked ? { kind: 'locked', retryAfterSeconds } : { kind: 'slowed', retryAfterSeconds };
}

export interface FailureRecord {
  readonly state: AuthGuardState;
  /** What this failure changed: the start of a slow-down or of a lock-out, for the log. */
  readonly verdict: GuardVerdict;
}

export function recordFailure(state: AuthGuardState, now: number, policy: AuthGuardPolicy = DEFAULT_AUTH_GUARD_POLICY): FailureRecord {
  const fresh = state.failures === 0 || now - state.windowStart > policy.windowMs || (state.locked && now >= state.blockedUntil);
  const failures = fresh ? 1 : state.failures + 1;
  const windowStart = fresh ? now : state.windowStart;
  let next: AuthGuardState;
  if (failures >= policy.lockAfter) {
    next = { failures, windowStart, blockedUntil: now + policy.lockMs, locked: true };
  } else if (failures >= policy.slowAfter) {
    const backoff = Math.min(policy.maxBackoffMs, 1000 * 2 ** (failures - policy.slowAfter));
    next = { failures, windowStart, blockedUntil: now + backoff, locked: false };
  } else {
    next = { failures, windowStart, blockedUntil: 0, locked: false };
  }
  return { state: next, verdict: assessGuard(next, now) };
}

export function recordSuccess(state: AuthGuardState): AuthGuardState {
  return state.failures === 0 && state.blockedUntil === 0 ? state : OPEN_GUARD;
}
