/**
 * Digest authentication of a REGISTER (RFC 3261 §10.3 steps 3-4, §22; RFC 7616; RFC 8760) against
 * a user's stored HA1s, with the brute-force guard in front; and the same for the requests a user
 * sends through the edge (INVITE, MESSAGE), which the edge challenges as a proxy does (RFC 3261
 * §22.3: 407 with Proxy-Authenticate, answered with Proxy-Authorization). Pure: the caller keeps
 * `nonceCounts` and `guard` and logs `event`.
 *
 * Nonces are stateless and signed (shared/auth), so the only state is the `nc` record, kept in
 * memory: a client may reuse a nonce with a higher nc for five minutes without a new 401
 * (RFC 7616 §3.4), and after an eviction an old nonce is answered `stale`, never a password prompt.
 */
import {
  DigestParseError,
  createChallenges,
  parseCredentials,
  verifyCredentials,
  type DigestAlgorithm,
  type DigestCredentials,
  type NonceCounts,
  type NonceSecret,
} from '../../shared/auth/index.ts';
import { getHeaders, type HeaderField, type SipRequest } from '../../shared/message/index.ts';
import { assessGuard, recordFailure, recordSuccess, type AuthGuardPolicy, type AuthGuardState } from './auth-guard.ts';

/**
 * The order of the challenges: RFC 8760 §2.4, the preferred algorithm first, since a client "MUST
 * use the topmost header field that it supports". SIP.js 0.21 and JsSIP 3.13 keep only the *last*
 * WWW-Authenticate (their parsers replace the header on each occurrence) and give up unless it is
 * MD5, so MD5 last serves them as well.
 */
export const CHALLENGE_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

/** A user's digest secrets: HA1 = H(username:realm:password) per hash, never the password. */
export interface StoredCredentials {
  readonly username: string;
  readonly ha1: { readonly MD5: string; readonly 'SHA-256': string };
}

export interface AuthInput {
  readonly request: SipRequest;
  readonly realm: string;
  readonly secret: NonceSecret;
  readonly now: number;
  /** The credentials of the AOR being registered, or undefined when there is no such user. */
  readonly credentials: StoredCredentials | undefined;
  readonly nonceCounts: NonceCounts;
  readonly guard: AuthGuardState;
  readonly guardPolicy?: AuthGuardPolicy;
  /**
   * Who challenges: the registrar (401, WWW-Authenticate / Authorization; the default) or the edge
   * as the caller's first hop (RFC 3261 §22.3: 407, Proxy-Authenticate / Proxy-Authorization).
   */
  readonly challenger?: Challenger;
  /** The user the request acts as: credentials under any other username are refused with 403 (sipedge has no aliases). */
  readonly actingUser?: string;
}

export type Challenger = 'registrar' | 'proxy';

/** The status and header names of each challenger (RFC 3261 §22.2, §22.3). */
const CHALLENGE_HEADERS: Readonly<Record<Challenger, { status: 401 | 407; challenge: string; credentials: string }>> = {
  registrar: { status: 401, challenge: 'WWW-Authenticate', credentials: 'Authorization' },
  proxy: { status: 407, challenge: 'Proxy-Authenticate', credentials: 'Proxy-Authorization' },
};

export interface AuthEvent {
  readonly level: 'info' | 'warn';
  readonly event: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export type AuthOutcome =
  | { readonly ok: true; readonly username: string; readonly nonceCounts: NonceCounts; readonly guard: AuthGuardState }
  | {
    readonly ok: false;
    readonly status: number;
    readonly reason?: string;
    readonly headers: readonly HeaderField[];
    readonly nonceCounts: NonceCounts;
    readonly guard: AuthGuardState;
    readonly event?: AuthEvent;
    /** A wrong answer (a digest response that does not match, or an unknown user): what brute-force guards count. */
    readonly counted?: boolean;
  };

export function authenticateRegister(input: AuthInput): AuthOutcome {
  const { request, now } = input;
  const names = CHALLENGE_HEADERS[input.challenger ?? 'registrar'];
  const refuse = (status: number, headers: HeaderField[], extra: { reason?: string; guard?: AuthGuardState; nonceCounts?: NonceCounts; event?: AuthEvent; counted?: boolean } = {}): AuthOutcome => ({
    ok: false,
    status,
    headers,
    reason: extra.reason,
    guard: extra.guard ?? input.guard,
    nonceCounts: extra.nonceCounts ?? input.nonceCounts,
    event: extra.event,
    counted: extra.counted ?? false,
  });
  const challenge = (stale = false): HeaderField[] =>
    createChallenges({ realm: input.realm, secret: input.secret, now, algorithms: CHALLENGE_ALGORITHMS, stale }).map((value) => ({
      name: names.challenge,
      value,
    }));

  const blocked = blockedResponse(input.guard, now);
  if (blocked !== undefined) return refuse(blocked.status, blocked.headers, { reason: blocked.reason });

  const credentials = credentialsFor(request, input.realm, names.credentials);
  // RFC 3261 §22.1: no credentials for this realm yet: challenge.
  if (credentials === undefined) return refuse(names.status, challenge());
  if (credentials === 'malformed') return refuse(400, [], { reason: `malformed ${names.credentials} header` });
  if (input.actingUser !== undefined && credentials.username !== input.actingUser) return refuse(403, [], { reason: `${credentials.username} may not act as ${input.actingUser}` });

  const stored = input.credentials;
  const account = stored !== undefined && credentials.username === stored.username ? { username: stored.username, ha1: stored.ha1 } : undefined;
  const verification = verifyCredentials({
    authorization: credentials,
    method: request.method,
    requestUri: request.uri,
    body: request.body,
    realm: input.realm,
    secret: input.secret,
    now,
    account,
    nonceCounts: input.nonceCounts,
    algorithms: CHALLENGE_ALGORITHMS,
  });
  if (verification.ok) {
    return { ok: true, username: verification.username, nonceCounts: verification.nonceCounts, guard: recordSuccess(input.guard) };
  }
  const nonceCounts = verification.nonceCounts;
  switch (verification.reason) {
    case 'stale':
      // RFC 7616 §3.3: right password, old nonce: the client retries silently with the new one.
      return refuse(names.status, challenge(true), { nonceCounts });
    case 'replay':
      // Right password, an nc already accepted: the request itself is refused, but `stale` too
      // (RFC 7616 §3.3: "the nonce is invalid and the response is valid for that nonce"). A phone
      // that sent a request again after its socket dropped under it (an edge restart) gets a
      // fresh nonce instead of a password failure; a replaying third party learns nothing it can
      // answer without the password.
      return refuse(names.status, challenge(true), {
        nonceCounts,
        event: { level: 'info', event: 'auth.replayed', fields: { detail: verification.detail } },
      });
    case 'malformed':
    case 'wrong-uri':
      // RFC 7616 §3.4.6: credentials that do not describe this request are a bad request.
      return refuse(400, [], { reason: `${names.credentials}: ${verification.detail}`, nonceCounts });
    case 'bad-response': {
      const failure = recordFailure(input.guard, now, input.guardPolicy);
      const fields = { username: credentials.username, failures: failure.state.failures, detail: verification.detail };
      const event: AuthEvent =
        failure.verdict.kind === 'locked'
          ? { level: 'warn', event: 'auth.locked', fields: { ...fields, retryAfter: failure.verdict.retryAfterSeconds } }
          : failure.verdict.kind === 'slowed'
            ? { level: 'warn', event: 'auth.slowed', fields: { ...fields, retryAfter: failure.verdict.retryAfterSeconds } }
            : { level: 'warn', event: 'auth.failed', fields };
      const response = blockedResponse(failure.state, now);
      if (response !== undefined) return refuse(response.status, response.headers, { reason: response.reason, guard: failure.state, nonceCounts, event, counted: true });
      return refuse(names.status, challenge(), { guard: failure.state, nonceCounts, event, counted: true });
    }
    default:
      // A nonce we did not sign, an algorithm we did not offer: a fresh challenge.
      return refuse(names.status, challenge(), {
        nonceCounts,
        event: { level: 'info', event: 'auth.rejected', fields: { reason: verification.reason, detail: verification.detail } },
      });
  }
}

/** The credentials for `realm` among the request's `header` fields; 'malformed' when they do not parse. */
function credentialsFor(request: SipRequest, realm: string, header: string): DigestCredentials | 'malformed' | undefined {
  let malformed = false;
  for (const value of getHeaders(request, header)) {
    try {
      const credentials = parseCredentials(value);
      if (credentials.realm === realm) return credentials;
    } catch (error) {
      if (!(error instanceof DigestParseError)) throw error;
      malformed = true;
    }
  }
  return malformed ? 'malformed' : undefined;
}

function blockedResponse(guard: AuthGuardState, now: number): { status: number; reason: string; headers: HeaderField[] } | undefined {
  const verdict = assessGuard(guard, now);
  if (verdict.kind === 'open') return undefined;
  const headers = [{ name: 'Retry-After', value: String(verdict.retryAfterSeconds) }];
  // RFC 3261 §21.5.4: 503 with Retry-After asks the client to wait; §21.4.3: 403, authorization
  // will not help (for the lock-out, whatever the password).
  return verdict.kind === 'locked'
    ? { status: 403, reason: 'Too Many Failed Authentications', headers }
    : { status: 503, reason: 'Too Many Failed Authentications, Retry Later', headers };
}
