/**
 * The registrar as one SipUser object runs it: the in-memory state of one address-of-record, what
 * a REGISTER or the alarm does to it, and what goes to storage when.
 *
 * What is persisted when (DESIGN.md, cost):
 * - the account: when the API creates or replaces it;
 * - a binding: when it is created, changes (contact, flow, Call-ID, Path), is removed, or its
 *   exact expiry passes the stored bound (about one refresh in `boundRefreshes`);
 * - a lock-out: when one starts (and its row is cleared on the next success);
 * - never: the exact expiry, the CSeq of a plain refresh, the nonce counts, failure counters.
 * After an eviction the state is rebuilt from storage: bindings expire at their bound, and nonces
 * issued before are answered `stale` (one extra round trip, no password prompt).
 *
 * The alarm: one per object, armed for the earliest deadline of a `TimerSet` holding one timer per
 * binding at its stored bound; when it rings, every binding whose expiry has passed is removed.
 */
import { createNonceCounts, type NonceCounts } from '../../shared/auth/index.ts';
import { emptyTimerSet, setTimer, type TimerSet } from '../../shared/clock/index.ts';
import { createResponse, type HeaderField, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import type { Logger } from '../logger.ts';
import { DEFAULT_AUTH_GUARD_POLICY, OPEN_GUARD, type AuthGuardPolicy, type AuthGuardState } from '../registrar/auth-guard.ts';
import type { Binding } from '../registrar/binding.ts';
import { processRegister, type Gruus } from '../registrar/register.ts';
import { createTempGruu, publicGruu } from '../registrar/gruu.ts';
import { checkRegister } from '../registrar/register-checks.ts';
import { DEFAULT_REGISTRAR_POLICY, type RegistrarPolicy } from '../registrar/registrar-policy.ts';
import type { Flow } from '../sip/flow.ts';
import { randomTag } from '../sip/wire.ts';
import type { Account } from './account.ts';
import { authenticateUser } from './user-auth.ts';
import type { UserStore } from './user-store.ts';

export interface UserState {
  readonly account: Account | undefined;
  readonly bindings: readonly Binding[];
  readonly nonceCounts: NonceCounts;
  readonly guard: AuthGuardState;
  /** A lock-out row is in storage. */
  readonly lockoutStored: boolean;
  readonly timers: TimerSet;
}


export function loadUserState(store: UserStore, now: number, guardPolicy: AuthGuardPolicy = DEFAULT_AUTH_GUARD_POLICY): UserState {
  const bindings = store.loadBindings();
  const lockedUntil = store.loadLockout();
  const guard = lockedUntil !== undefined && lockedUntil > now
    ? { failures: guardPolicy.lockAfter, windowStart: now, blockedUntil: lockedUntil, locked: true }
    : OPEN_GUARD;
  return {
    account: store.loadAccount(),
    bindings,
    // RFC 7616 §3.4: without the record of nonce counts from before, older nonces are refused as stale.
    nonceCounts: createNonceCounts(now),
    guard,
    lockoutStored: lockedUntil !== undefined,
    timers: timersFor(bindings),
  };
}

export function timersFor(bindings: readonly Binding[]): TimerSet {
  return bindings.reduce((timers, binding) => setTimer(timers, `binding ${binding.key}`, binding.expiresBound), emptyTimerSet);
}

export interface RegisterContext {
  readonly aor: string;
  readonly request: SipRequest;
  readonly flow: Flow;
  readonly now: number;
  /** The SIP domain, which is also the digest realm. */
  readonly domain: string;
  readonly nonceSecret: string;
  readonly store: UserStore;
  readonly log: Logger;
  readonly policy?: RegistrarPolicy;
  readonly guardPolicy?: AuthGuardPolicy;
  /** SIPEDGE_REGISTRAR_ALIASES, as `registrarAliases` reads it: more names of this registrar. */
  readonly registrarAliases?: readonly string[];
}

export interface Handled {
  readonly state: UserState;
  readonly response: SipResponse;
  /** The credentials were a wrong answer (what the per-address guard counts). */
  readonly authFailed?: boolean;
}

/** RFC 3261 §10.3, in its order: checks, authentication, authorization, then the bindings. */
export function handleRegister(state: UserState, context: RegisterContext): Handled {
  const { request, now, store, log } = context;
  const realm = context.domain.toLowerCase();
  const respond = (next: UserState, status: number, reason?: string, headers: readonly HeaderField[] = []): Handled => ({
    state: next,
    response: createResponse(request, status, reason, { toTag: randomTag(), headers }),
  });

  // RFC 3261 §10.3 steps 1, 2, 5 and 6.
  const rejection = checkRegister(request, { realm, host: context.flow.host, aliases: context.registrarAliases ?? [] });
  if (rejection) return respond(state, rejection.status, rejection.reason, rejection.headers);

  // Steps 3-4 (step 4: the authenticated user may change only its own bindings).
  const auth = authenticateUser(state, { ...context, realm }, 'registrar');
  const next = auth.state;
  if (!auth.ok) return { state: next, response: auth.response, authFailed: auth.counted };

  const gruus = (binding: Binding): Gruus => ({
    pub: publicGruu(context.aor, binding.instance ?? ''),
    temp: createTempGruu(context.aor, binding.instance ?? '', realm, context.nonceSecret),
  });
  const outcome = processRegister({ request, flow: context.flow, now, bindings: state.bindings, policy: context.policy ?? DEFAULT_REGISTRAR_POLICY, gruus });
  for (const key of outcome.removed) store.deleteBinding(key);
  for (const binding of outcome.written) store.saveBinding(binding);
  if (outcome.written.length > 0 || outcome.removed.length > 0) {
    log.info('registrar.bindings.changed', {
      aor: context.aor,
      written: outcome.written.map((binding) => binding.key),
      removed: outcome.removed,
      bindings: outcome.bindings.length,
    });
  }
  // On failure `outcome.bindings` is what was there before.
  return respond({ ...next, bindings: outcome.bindings, timers: timersFor(outcome.bindings) }, outcome.status, outcome.reason, outcome.headers);
}

/** The alarm: removes every binding whose expiry has passed, from memory and storage. */
export function expireBindings(state: UserState, now: number, store: UserStore, log: Logger): UserState {
  const expired = state.bindings.filter((binding) => binding.expiresAt <= now);
  if (expired.length === 0) return state;
  for (const binding of expired) store.deleteBinding(binding.key);
  log.info('registrar.bindings.expired', { removed: expired.map((binding) => binding.key) });
  const bindings = state.bindings.filter((binding) => binding.expiresAt > now);
  return { ...state, bindings, timers: timersFor(bindings) };
}
