/**
 * The toll-fraud limits, over an in-memory ledger and a fake clock: concurrent calls per user and
 * per domain (slots released or expiring after 4 hours), attempts per minute (a sliding minute).
 */
import { describe, expect, it } from 'vitest';
import { attemptRefusal, concurrencyRefusal, SLOT_LIFETIME_MS, takeSlot, type GuardLedger } from '../../workers/routing/fraud-guard.ts';
import type { Limits } from '../../workers/routing/routing-config.ts';
import { FakeClock } from '../support/fake-clock.ts';

class MemoryLedger implements GuardLedger {
  slots = new Map<string, { user: string; expiresAt: number }>();
  attempts: { user: string; at: number }[] = [];

  purge(now: number): void {
    for (const [id, slot] of this.slots) if (slot.expiresAt <= now) this.slots.delete(id);
    this.attempts = this.attempts.filter((attempt) => attempt.at >= now - 60_000);
  }
  slotCount(user?: string): number {
    return [...this.slots.values()].filter((slot) => user === undefined || slot.user === user).length;
  }
  hasSlot(callId: string): boolean {
    return this.slots.has(callId);
  }
  attemptCount(since: number, user?: string): number {
    return this.attempts.filter((attempt) => attempt.at >= since && (user === undefined || attempt.user === user)).length;
  }
  recordAttempt(user: string, at: number): void {
    this.attempts.push({ user, at });
  }
  takeSlot(callId: string, user: string, expiresAt: number): void {
    this.slots.set(callId, { user, expiresAt });
  }
  releaseSlot(callId: string): boolean {
    return this.slots.delete(callId);
  }
}

const limits: Limits = { user_concurrent_calls: 2, domain_concurrent_calls: 3, user_attempts_per_minute: 3, domain_attempts_per_minute: 5 };

describe('concurrent outbound calls', () => {
  it('refuses a user\'s third call with 503 until one ends', () => {
    const ledger = new MemoryLedger();
    const clock = new FakeClock(1_000);
    takeSlot(ledger, 'alice', 'c1', clock.now());
    takeSlot(ledger, 'alice', 'c2', clock.now());
    expect(concurrencyRefusal(ledger, limits, 'alice', 'c3', clock.now())).toEqual({ status: 503, reason: 'Too many concurrent calls for this user' });
    expect(concurrencyRefusal(ledger, limits, 'bob', 'c4', clock.now())).toBeUndefined();
    ledger.releaseSlot('c1');
    expect(concurrencyRefusal(ledger, limits, 'alice', 'c3', clock.now())).toBeUndefined();
  });

  it('never refuses a call that already holds its slot', () => {
    const ledger = new MemoryLedger();
    takeSlot(ledger, 'alice', 'c1', 0);
    takeSlot(ledger, 'alice', 'c2', 0);
    expect(concurrencyRefusal(ledger, limits, 'alice', 'c2', 0)).toBeUndefined();
  });

  it('counts the whole domain', () => {
    const ledger = new MemoryLedger();
    for (const [user, id] of [['a', '1'], ['b', '2'], ['c', '3']] as const) takeSlot(ledger, user, id, 0);
    expect(concurrencyRefusal(ledger, limits, 'd', '4', 0)).toEqual({ status: 503, reason: 'Too many concurrent calls for this domain' });
  });

  it('frees slots that were never released after 4 hours', () => {
    const ledger = new MemoryLedger();
    const clock = new FakeClock(0);
    takeSlot(ledger, 'alice', 'c1', clock.now());
    takeSlot(ledger, 'alice', 'c2', clock.now());
    clock.advance(SLOT_LIFETIME_MS - 1);
    expect(concurrencyRefusal(ledger, limits, 'alice', 'c3', clock.now())).toBeDefined();
    clock.advance(1);
    expect(concurrencyRefusal(ledger, limits, 'alice', 'c3', clock.now())).toBeUndefined();
  });

  it('has no limit when the limit is null', () => {
    const ledger = new MemoryLedger();
    for (let i = 0; i < 10; i++) takeSlot(ledger, 'alice', `c${i}`, 0);
    expect(concurrencyRefusal(ledger, { ...limits, user_concurrent_calls: null, domain_concurrent_calls: null }, 'alice', 'new', 0)).toBeUndefined();
  });
});

describe('call attempts per minute', () => {
  it('refuses the fourth attempt within a minute, and allows it a minute after the first', () => {
    const ledger = new MemoryLedger();
    const clock = new FakeClock(0);
    for (let i = 0; i < 3; i++) {
      expect(attemptRefusal(ledger, limits, 'alice', clock.now())).toBeUndefined();
      ledger.recordAttempt('alice', clock.now());
      clock.advance(10_000);
    }
    expect(attemptRefusal(ledger, limits, 'alice', clock.now())).toEqual({ status: 503, reason: 'Too many call attempts per minute for this user' });
    clock.advanceTo(60_001);
    expect(attemptRefusal(ledger, limits, 'alice', clock.now())).toBeUndefined();
  });

  it('limits the domain as a whole', () => {
    const ledger = new MemoryLedger();
    for (const user of ['a', 'b', 'c', 'd', 'e']) ledger.recordAttempt(user, 0);
    expect(attemptRefusal(ledger, limits, 'f', 1)).toEqual({ status: 503, reason: 'Too many call attempts per minute for this domain' });
  });
});
