/**
 * The registration of a link as the API shows it: one of a few states an operator reads at a
 * glance, with the times and the last status line that explain it.
 *
 *   unregistered   register is off, or the link was stopped
 *   registering    waiting for the initial random delay, or the first REGISTER is under way
 *   registered     with `expires_at` (and `refresh_at`, when the refresh goes)
 *   retrying       a temporary failure (408, 5xx, 6xx, a lost connection): next try at `next_attempt_at`
 *   rejected       refused (403, or another final response) and configured to try again at `next_attempt_at`
 *   failed         refused for good: no more attempts until the link is configured again
 *   unregistering  the REGISTER with expires=0 is under way
 */
import type { ConnectionState } from './link-connection.ts';
import type { Outcome, RegistrationState } from './registration-machine.ts';

export type RegistrationStatus = 'unregistered' | 'registering' | 'registered' | 'retrying' | 'rejected' | 'failed' | 'unregistering';

export interface OutcomeView {
  readonly at: string;
  /** `200 OK`, `403 Forbidden`; timeouts read `408 Request Timeout`, transport failures `503 Service Unavailable`. */
  readonly status_line: string;
  readonly detail?: string;
  /** The state the link went into because of it. */
  readonly state: RegistrationStatus;
}

/** An outcome with the state it led to, as the link keeps its recent history. */
export interface RecentOutcome {
  readonly outcome: Outcome;
  readonly state: RegistrationStatus;
}

export interface RegistrationView {
  readonly state: RegistrationStatus;
  readonly registered_at?: string;
  readonly expires_at?: string;
  readonly refresh_at?: string;
  readonly next_attempt_at?: string;
  /** Failures since the last success that led to a retry (Asterisk's count, bounded by max_retries). */
  readonly retries: number;
  readonly last_status?: string;
  readonly detail?: string;
  /** The Contact the link registers. */
  readonly contact?: string;
  readonly connection: ConnectionState;
  /** The latest outcomes, newest last (kept in memory: an eviction clears them). */
  readonly recent: readonly OutcomeView[];
}

export const RECENT_OUTCOMES = 10;

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

export function outcomeView({ outcome, state }: RecentOutcome): OutcomeView {
  return {
    at: new Date(outcome.at).toISOString(),
    status_line: `${outcome.status} ${outcome.reason}`,
    ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
    state,
  };
}

export function statusOf(state: RegistrationState): RegistrationStatus {
  switch (state.phase) {
    case 'stopped':
      return 'unregistered';
    case 'delaying':
      return 'registering';
    case 'sending':
      return state.attempt?.refresh === true ? 'registered' : 'registering';
    default:
      return state.phase;
  }
}

export interface StatusInput {
  readonly state: RegistrationState;
  readonly contact: string;
  readonly connection: ConnectionState;
  readonly recent: readonly RecentOutcome[];
}

export function registrationView({ state, contact, connection, recent }: StatusInput): RegistrationView {
  const status = statusOf(state);
  const waiting = state.phase === 'delaying' || state.phase === 'retrying' || state.phase === 'rejected';
  const registered = status === 'registered';
  // Absent values stay undefined, which JSON leaves out.
  return {
    state: status,
    registered_at: registered ? iso(state.registeredAt) : undefined,
    expires_at: registered ? iso(state.expiresAt) : undefined,
    refresh_at: state.phase === 'registered' ? iso(state.nextAt) : undefined,
    next_attempt_at: waiting ? iso(state.nextAt) : undefined,
    retries: state.retries,
    last_status: state.last === undefined ? undefined : `${state.last.status} ${state.last.reason}`,
    detail: state.last?.detail,
    contact,
    connection,
    recent: recent.map(outcomeView),
  };
}
