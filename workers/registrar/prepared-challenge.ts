/**
 * A challenge prepared ahead, so that the object holding a socket can answer a device's next
 * request without credentials itself: the 401 that starts every registration of a client that
 * does not reuse nonces (RFC 7616 §3.4 allows reuse; many clients and load generators take a
 * fresh challenge each time), and the 407 that starts every call and message (RFC 3261 §22.3: the
 * edge is the caller's first-hop proxy), then cost no round trip to the user's object, and the ACK
 * of such a 407 (RFC 3261 §17.2.1, hop by hop) none either.
 *
 * The user's object issues it (its clock, its secret, its brute-force guard): it hands one out
 * with a 2xx to a REGISTER, and with an INVITE or MESSAGE that passed authentication, only while
 * the user has no recent failed attempt, so a user who is being slowed down or locked out is
 * answered by the object, as before; one whose lock-out starts while a challenge is held gets that
 * challenge once, and the 403 or 503 at its next attempt with credentials. Each prepared challenge
 * answers one request and is dropped `PREPARED_CHALLENGE_TTL_MS` after it arrived. The nonce is
 * the object's own (`shared/auth`), so the answer is verified, and found stale, as any other.
 */
import { createResponse, getCallId, getCSeq, getHeaderFields, getTo, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { refuseRelayed } from '../user/relay-checks.ts';
import { randomTag } from '../sip/wire.ts';
import { checkRegister, type RegistrarNames } from './register-checks.ts';

export interface PreparedChallenge {
  /** The challenges (one per algorithm, one fresh nonce): WWW-Authenticate of a 401, or Proxy-Authenticate of a 407. */
  readonly values: readonly string[];
  /** The user's domain (the realm) and the registrar's other names for it (`RegistrarNames`), as the object checks them. */
  readonly realm: string;
  readonly aliases: readonly string[];
}

/** Well within the nonce lifetime (five minutes), so the nonce is fresh when the device answers. */
export const PREPARED_CHALLENGE_TTL_MS = 60_000;

/** The requests a prepared challenge may answer: those the user's object would challenge first. */
export function takesPreparedChallenge(request: SipRequest): boolean {
  if (request.method === 'REGISTER') return getHeaderFields(request, 'Authorization').length === 0;
  if (request.method !== 'INVITE' && request.method !== 'MESSAGE') return false;
  return getHeaderFields(request, 'Proxy-Authorization').length === 0 && getTo(request)?.tag === undefined;
}

/**
 * The 401 or 407 for `request` with the prepared challenge, when the user's object would answer
 * it with a plain challenge too: a REGISTER without credentials that passes the registrar's checks
 * (`host`: the host the device's WebSocket connected to), or an INVITE or MESSAGE outside a dialog
 * without credentials that the edge can relay (`refuseRelayed`). Undefined otherwise: the request
 * goes to the object.
 */
export function answerWithPrepared(request: SipRequest, prepared: PreparedChallenge, host: string | undefined): SipResponse | undefined {
  if (!takesPreparedChallenge(request)) return undefined;
  if (request.method === 'REGISTER') {
    const names: RegistrarNames = { realm: prepared.realm, host, aliases: prepared.aliases };
    if (checkRegister(request, names) !== undefined) return undefined;
    return createResponse(request, 401, undefined, { toTag: randomTag(), headers: prepared.values.map((value) => ({ name: 'WWW-Authenticate', value })) });
  }
  if (refuseRelayed(request) !== undefined) return undefined;
  return createResponse(request, 407, undefined, { toTag: randomTag(), headers: prepared.values.map((value) => ({ name: 'Proxy-Authenticate', value })) });
}

/** What names the ACK of a 407 answered from a prepared challenge (RFC 3261 §17.1.1.3: same Call-ID and CSeq number). */
export function challengedInviteKey(message: SipRequest): string | undefined {
  const callId = getCallId(message);
  const cseq = getCSeq(message);
  return callId === undefined || cseq === undefined ? undefined : `${cseq.seq} ${callId}`;
}
