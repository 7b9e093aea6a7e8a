/**
 * Digest authentication of a request from one of this user's devices, against the user's stored
 * HA1s, with the brute-force guard and its persisted lock-out: one function for the registrar
 * (401) and for the requests the edge relays for the user, INVITE and MESSAGE, which it challenges
 * as the caller's first-hop proxy (RFC 3261 §22.3: 407). Failures of either kind count towards the
 * same lock-out: a password guessed through INVITEs is as guessed as one guessed through REGISTERs.
 *
 * Authorization follows authentication (RFC 3261 §10.3 step 4 for REGISTER, §22.3 for a proxy): the
 * digest username must be this object's account, so a user may act only as itself.
 */
import { pruneNonceCounts } from '../../shared/auth/index.ts';
import { createResponse, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import type { Logger } from '../logger.ts';
import type { AuthGuardPolicy } from '../registrar/auth-guard.ts';
import { authenticateRegister, type Challenger } from '../registrar/registrar-auth.ts';
import type { Flow } from '../sip/flow.ts';
import { randomTag } from '../sip/wire.ts';
import type { UserState } from './user-registrar.ts';
import type { UserStore } from './user-store.ts';

export interface UserAuthContext {
  readonly aor: string;
  readonly request: SipRequest;
  readonly flow: Flow;
  readonly now: number;
  /** The digest realm: the SIP domain, lower-cased. */
  readonly realm: string;
  readonly nonceSecret: string;
  readonly store: UserStore;
  readonly log: Logger;
  readonly guardPolicy?: AuthGuardPolicy;
}

export type UserAuth =
  | { readonly ok: true; readonly state: UserState }
  | { readonly ok: false; readonly state: UserState; readonly response: SipResponse; /** A wrong answer, counted by brute-force guards. */ readonly counted: boolean };

export function authenticateUser(state: UserState, context: UserAuthContext, challenger: Challenger): UserAuth {
  const { request, now, store, log } = context;
  const auth = authenticateRegister({
    request,
    realm: context.realm,
    secret: context.nonceSecret,
    now,
    credentials: state.account,
    nonceCounts: pruneNonceCounts(state.nonceCounts, now),
    guard: state.guard,
    guardPolicy: context.guardPolicy,
    challenger,
    actingUser: context.aor.slice(0, context.aor.lastIndexOf('@')),
  });
  let next: UserState = { ...state, nonceCounts: auth.nonceCounts, guard: auth.guard };
  const refuse = (status: number, reason?: string, headers: SipResponse['headers'] = [], counted = false): UserAuth => ({
    ok: false,
    state: next,
    response: createResponse(request, status, reason, { toTag: randomTag(), headers }),
    counted,
  });
  if (!auth.ok) {
    if (auth.event) log[auth.event.level](auth.event.event, { aor: context.aor, method: request.method, remote: context.flow.remoteAddress, ...auth.event.fields });
    if (auth.guard.locked && !state.guard.locked && state.account !== undefined) {
      // A lock-out outlives an eviction; slow-downs are short and stay in memory.
      store.saveLockout(auth.guard.blockedUntil);
      next = { ...next, lockoutStored: true };
    }
    return refuse(auth.status, auth.reason, auth.headers, auth.counted === true);
  }
  if (next.lockoutStored) {
    store.clearLockout();
    next = { ...next, lockoutStored: false };
  }
  const account = state.account;
  if (account === undefined || auth.username !== account.username || context.aor !== account.aor) {
    // RFC 3261 §10.3 step 4 (and §22.3 for a proxy): the authenticated user acts only as itself.
    return refuse(403, `${auth.username} may not act as ${context.aor}`);
  }
  return { ok: true, state: next };
}
