/**
 * The part of a registration that survives an eviction or a deploy, and nothing more (DESIGN.md,
 * cost): a refresh that succeeds changes none of it, so it writes no row.
 *
 * Every phase that needs the connection (registered, sending, unregistering) is stored as
 * `active`: the connection does not survive the object, so an object that wakes up to an `active`
 * record registers again at once, as Asterisk does when a reliable transport shuts down.
 */
import type { RegisterSession } from './register-request.ts';
import type { Outcome, RegistrationState } from './registration-machine.ts';

export type RecordPhase = 'stopped' | 'delaying' | 'active' | 'retrying' | 'rejected' | 'failed';

export interface RegistrationRecord {
  readonly phase: RecordPhase;
  readonly nextAt?: number;
  readonly retries: number;
  /** The last failure, kept for the API across restarts (successes are not stored). */
  readonly last?: Outcome;
}

export function recordOf(state: RegistrationState): RegistrationRecord {
  switch (state.phase) {
    case 'registered':
    case 'sending':
    case 'unregistering':
      return { phase: 'active', retries: state.retries };
    case 'delaying':
    case 'retrying':
    case 'rejected':
      return { phase: state.phase, retries: state.retries, ...(state.nextAt === undefined ? {} : { nextAt: state.nextAt }), ...failure(state.last) };
    case 'failed':
    case 'stopped':
      return { phase: state.phase, retries: state.retries, ...failure(state.last) };
  }
}

function failure(last: Outcome | undefined): { last?: Outcome } {
  return last === undefined || (last.status >= 200 && last.status < 300) ? {} : { last };
}

/** The state an object resumes with; `active` registers again at `now`. */
export function restoreRegistration(record: RegistrationRecord, session: RegisterSession, now: number): RegistrationState {
  const base = { retries: record.retries, flowLosses: 0, session, ...(record.last === undefined ? {} : { last: record.last }) };
  switch (record.phase) {
    case 'active':
      return { ...base, phase: 'retrying', nextAt: now };
    case 'delaying':
    case 'retrying':
    case 'rejected':
      return { ...base, phase: record.phase, nextAt: record.nextAt ?? now };
    case 'failed':
    case 'stopped':
      return { ...base, phase: record.phase };
  }
}
