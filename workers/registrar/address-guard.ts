/**
 * Brute force from one source address across users (issue 3): repeated failed authentication
 * from one IP address (the client's address as Cloudflare gives it at the WebSocket upgrade,
 * `CF-Connecting-IP`, carried with the flow) is slowed, then refused for a while, whatever the
 * users it tries. The per-user guard (`auth-guard.ts`) stops guessing one password; this stops
 * trying a few common passwords on many users.
 *
 * Where the state lives: one AddressGuard Durable Object per address (`address-guard-object.ts`,
 * named `addressGuardName(ip)`), with the same state machine as the per-user guard and looser numbers (many users may share one NAT address). It is asked:
 * - once per WebSocket, when the socket is accepted (`admitAddress`): a blocked address gets an
 *   HTTP 503 or 403 with Retry-After instead of a socket;
 * - once per counted failure (`addressFailed`, a wrong digest response): the answer says whether
 *   the address is now blocked, and the object that holds the socket remembers that in memory and
 *   refuses every request carrying credentials from it (503 while slowed, 403 while locked, with
 *   Retry-After) without waking any user's object.
 * Never per successful request. A request without credentials is still challenged: a challenge
 * gives nothing to guess with.
 */
import { problemResponse } from '../api/problem.ts';
import { createResponse, getHeaderFields, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { randomTag } from '../sip/wire.ts';
import { assessGuard, type AuthGuardPolicy, type AuthGuardState } from './auth-guard.ts';

/** Failures counted per address: ten users behind one NAT can each mistype twice before anyone waits. */
export const ADDRESS_GUARD_POLICY: AuthGuardPolicy = {
  windowMs: 15 * 60_000,
  slowAfter: 20,
  lockAfter: 50,
  lockMs: 15 * 60_000,
  maxBackoffMs: 60_000,
};

/** The name of the guard object of address `ip`. */
export function addressGuardName(ip: string): string {
  return `address-guard ${ip}`;
}

/** A block in force for an address, as the guard object reports it (times in ms). */
export interface AddressBlock {
  readonly until: number;
  /** A lock-out (403), not a slow-down (503). */
  readonly locked: boolean;
}

/** The block an address guard state imposes at `now`, if any. */
export function blockOf(state: AuthGuardState, now: number): AddressBlock | undefined {
  const verdict = assessGuard(state, now);
  return verdict.kind === 'open' ? undefined : { until: state.blockedUntil, locked: verdict.kind === 'locked' };
}

export const ADDRESS_REFUSAL_REASON = 'Too Many Failed Authentications From This Address';

/**
 * The refusal of a request that carries credentials from a blocked address (RFC 3261 §21.5.4: 503
 * with Retry-After asks the client to wait; §21.4.3: 403, authorization will not help); undefined
 * when the request may go on.
 */
export function refuseFromBlockedAddress(request: SipRequest, block: AddressBlock | undefined, now: number): SipResponse | undefined {
  if (block === undefined || block.until <= now || request.method === 'ACK') return undefined;
  if (getHeaderFields(request, 'Authorization').length === 0 && getHeaderFields(request, 'Proxy-Authorization').length === 0) return undefined;
  const retryAfter = String(Math.max(1, Math.ceil((block.until - now) / 1000)));
  return createResponse(request, block.locked ? 403 : 503, ADDRESS_REFUSAL_REASON, { toTag: randomTag(), headers: [{ name: 'Retry-After', value: retryAfter }] });
}

/** The HTTP answer to a WebSocket upgrade from a blocked address: RFC 9457 problem JSON with Retry-After. */
export function upgradeRefusalResponse(block: AddressBlock, now: number): Response {
  const retryAfter = String(Math.max(1, Math.ceil((block.until - now) / 1000)));
  return problemResponse(
    {
      status: block.locked ? 403 : 503,
      title: ADDRESS_REFUSAL_REASON,
      detail: `too many failed SIP authentications from this address; retry after ${retryAfter} seconds`,
    },
    { 'Retry-After': retryAfter },
  );
}
