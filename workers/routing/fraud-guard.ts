/**
 * The toll-fraud guard's limits: concurrent outbound calls (one slot per call id, freed by
 * `releaseOutbound` or after 4 hours) and call attempts in the last minute, per user and per
 * domain. Refusals are 503 Service Unavailable with a reason naming the limit (RFC 3261 §21.5.4:
 * the server cannot take the call now; the caller may try again later).
 *
 * What counts as an attempt: every outbound plan asked for a real call that is not itself refused
 * by a limit (so a user who keeps dialling while over the limit recovers a minute after stopping).
 * Dry runs count nothing and take no slot.
 *
 * The rules are here; where slots and attempts are kept is the `GuardLedger`'s business (SQLite in
 * the Routing object).
 */
import type { Limits } from './routing-config.ts';

export const SLOT_LIFETIME_MS = 4 * 60 * 60 * 1000;
export const ATTEMPT_WINDOW_MS = 60 * 1000;

export interface GuardLedger {
  /** Forgets slots expired at `now` and attempts older than the window. */
  purge(now: number): void;
  /** Open slots, of `user` or of the whole domain. */
  slotCount(user?: string): number;
  hasSlot(callId: string): boolean;
  /** Attempts at or after `since`, of `user` or of the whole domain. */
  attemptCount(since: number, user?: string): number;
  recordAttempt(user: string, at: number): void;
  takeSlot(callId: string, user: string, expiresAt: number): void;
  /** False when there was no such slot. */
  releaseSlot(callId: string): boolean;
}

export interface Refusal {
  readonly status: number;
  readonly reason: string;
}

/** The attempt-rate refusal, if any; does not record. */
export function attemptRefusal(ledger: GuardLedger, limits: Limits, user: string, now: number): Refusal | undefined {
  ledger.purge(now);
  const since = now - ATTEMPT_WINDOW_MS;
  if (limits.user_attempts_per_minute !== null && ledger.attemptCount(since, user) >= limits.user_attempts_per_minute) {
    return { status: 503, reason: 'Too many call attempts per minute for this user' };
  }
  if (limits.domain_attempts_per_minute !== null && ledger.attemptCount(since) >= limits.domain_attempts_per_minute) {
    return { status: 503, reason: 'Too many call attempts per minute for this domain' };
  }
  return undefined;
}

/** The concurrency refusal for a new call, if any; a call that already holds a slot is never refused. */
export function concurrencyRefusal(ledger: GuardLedger, limits: Limits, user: string, callId: string, now: number): Refusal | undefined {
  ledger.purge(now);
  if (ledger.hasSlot(callId)) return undefined;
  if (limits.user_concurrent_calls !== null && ledger.slotCount(user) >= limits.user_concurrent_calls) {
    return { status: 503, reason: 'Too many concurrent calls for this user' };
  }
  if (limits.domain_concurrent_calls !== null && ledger.slotCount() >= limits.domain_concurrent_calls) {
    return { status: 503, reason: 'Too many concurrent calls for this domain' };
  }
  return undefined;
}

/** Takes (or renews) the call's slot. */
export function takeSlot(ledger: GuardLedger, user: string, callId: string, now: number): void {
  ledger.takeSlot(callId, user, now + SLOT_LIFETIME_MS);
}
