/**
 * A registrar challenge prepared ahead, so that the object holding a socket can answer a device's
 * next credential-less REGISTER itself: the 401 that starts every registration of a client that
 * does not reuse nonces (RFC 7616 §3.4 allows reuse; many clients and load generators take a
 * fresh challenge each time) then costs no round trip to the user's object.
 *
 * The user's object issues it (its clock, its secret, its brute-force guard): it hands one out
 * with a 2xx only while the user has no recent failed attempt, so a user who is being slowed down
 * or locked out is answered by the object, as before; one whose lock-out starts while a challenge
 * is held gets that 401 once, and the 403 or 503 at its next attempt with credentials. Each
 * prepared challenge answers one REGISTER and is dropped `PREPARED_CHALLENGE_TTL_MS` after it
 * arrived.
 */
import { createResponse, getHeaderFields, type HeaderField, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { randomTag } from '../sip/wire.ts';
import { checkRegister, type RegistrarNames } from './register-checks.ts';

export interface PreparedChallenge {
  /** The WWW-Authenticate fields of the 401 (one per algorithm, one fresh nonce). */
  readonly headers: readonly HeaderField[];
  /** The user's domain (the realm) and the registrar's other names for it (`RegistrarNames`), as the object checks them. */
  readonly realm: string;
  readonly aliases: readonly string[];
}

/** Well within the nonce lifetime (five minutes), so the nonce is fresh when the device answers. */
export const PREPARED_CHALLENGE_TTL_MS = 60_000;

/**
 * The 401 for `request` with the prepared challenge, when the user's object would answer it with
 * a plain challenge too: a REGISTER without credentials that passes the registrar's checks
 * (`host`: the host the device's WebSocket connected to). Undefined otherwise: the request goes to the object.
 */
export function answerWithPrepared(request: SipRequest, prepared: PreparedChallenge, host: string | undefined): SipResponse | undefined {
  if (request.method !== 'REGISTER' || getHeaderFields(request, 'Authorization').length > 0) return undefined;
  const names: RegistrarNames = { realm: prepared.realm, host, aliases: prepared.aliases };
  if (checkRegister(request, names) !== undefined) return undefined;
  return createResponse(request, 401, undefined, { toTag: randomTag(), headers: prepared.headers });
}
