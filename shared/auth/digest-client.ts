/**
 * The answering side (UAC): the edge authenticating to a PBX or trunk after a 401 or 407
 * (RFC 3261 §22.2-22.3, RFC 7616 §3.4, RFC 8760 §2.4).
 *
 * The caller keeps the chosen challenge and a `DigestClientState` (plain JSON) between requests,
 * so that it can send the next request with the same nonce and the next nonce count instead of
 * waiting for another challenge.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import {
  DIGEST_ALGORITHMS,
  computeDigestResponse,
  hashOf,
  isSessionAlgorithm,
  secretSupports,
  toDigestAlgorithm,
  userhashOf,
} from './digest-hash.ts';
import type { DigestAccount, DigestAlgorithm } from './digest-hash.ts';
import { DigestParseError } from './auth-params.ts';
import { parseChallenges, serializeCredentials } from './digest-params.ts';
import type { DigestChallenge } from './digest-params.ts';

/** The last nonce count sent per nonce, most recent last. */
export interface DigestClientState {
  readonly counts: readonly { readonly nonce: string; readonly nc: number }[];
}

// A UAC talks to a handful of realms; older nonces are dead once a server has issued new ones.
const MAX_REMEMBERED_NONCES = 16;
const CNONCE_BYTES = 16;

export function createDigestClientState(): DigestClientState {
  return { counts: [] };
}

/** RFC 3261 §22.2-22.3: a 401 is answered in `Authorization`, a 407 in `Proxy-Authorization`. */
export function credentialsHeaderName(status: 401 | 407): 'Authorization' | 'Proxy-Authorization' {
  return status === 401 ? 'Authorization' : 'Proxy-Authorization';
}

/** The challenge a client should answer, with the choices it implies. */
export interface SelectedChallenge {
  readonly challenge: DigestChallenge;
  readonly algorithm: DigestAlgorithm;
  readonly qop: 'auth' | 'auth-int' | undefined;
}

// RFC 7616 §3.3: with both offered, `auth` is enough for SIP; `auth-int` would tie the
// credentials to a body that a B2BUA or a re-INVITE may change.
function qopFor(challenge: DigestChallenge): SelectedChallenge['qop'] | null {
  const offered = challenge.qop.map((value) => value.toLowerCase());
  if (offered.length === 0) return undefined;
  if (offered.includes('auth')) return 'auth';
  if (offered.includes('auth-int')) return 'auth-int';
  return null;
}

/**
 * The first challenge, in the server's order, that this client can answer (RFC 8760 §2.4: the
 * server lists its preferred algorithm first and the UAC "MUST use the topmost header field that
 * it supports"). `headerValues` are the WWW-Authenticate or Proxy-Authenticate values in message
 * order. Values that do not parse are skipped, as is anything needing an algorithm, qop, or
 * stored HA1 the client lacks.
 */
export function selectChallenge(
  headerValues: readonly string[],
  account: DigestAccount,
  algorithms: readonly DigestAlgorithm[] = DIGEST_ALGORITHMS,
): SelectedChallenge | undefined {
  for (const value of headerValues) {
    let challenges: DigestChallenge[];
    try {
      challenges = parseChallenges(value);
    } catch (error) {
      if (error instanceof DigestParseError) continue;
      throw error;
    }
    for (const challenge of challenges) {
      const algorithm = toDigestAlgorithm(challenge.algorithm);
      const qop = qopFor(challenge);
      if (algorithm === undefined || !algorithms.includes(algorithm) || qop === null) continue;
      if (!secretSupports(account, algorithm)) continue;
      return { challenge, algorithm, qop };
    }
  }
  return undefined;
}

export interface AuthorizeOptions {
  readonly selected: SelectedChallenge;
  /** The auth username and its secret; the username need not be the From or Request-URI user. */
  readonly account: DigestAccount;
  readonly method: string;
  /** The Request-URI of the request being sent (RFC 3261 §22.4: the digest-uri). */
  readonly uri: string;
  /** The body, hashed only under `auth-int`. */
  readonly body?: Uint8Array;
  readonly state: DigestClientState;
  /** A fixed client nonce, for reproducing published examples; otherwise 128 random bits. */
  readonly cnonce?: string;
}

export interface Authorization {
  /** The `Authorization` or `Proxy-Authorization` value. */
  readonly value: string;
  /** The state with this nonce count in it: keep it for the next request. */
  readonly state: DigestClientState;
}

function nextCount(state: DigestClientState, nonce: string): { readonly nc: number; readonly state: DigestClientState } {
  const previous = state.counts.find((entry) => entry.nonce === nonce)?.nc ?? 0;
  const nc = previous + 1;
  const others = state.counts.filter((entry) => entry.nonce !== nonce);
  return { nc, state: { counts: [...others, { nonce, nc }].slice(-MAX_REMEMBERED_NONCES) } };
}

/**
 * Credentials answering `selected` for one request. Call again with the same selection and the
 * returned state to reuse the nonce for a later request (RFC 7616 §3.4: nc then increases by one).
 */
export function authorize(options: AuthorizeOptions): Authorization {
  const { challenge, algorithm, qop } = options.selected;
  const counted = nextCount(options.state, challenge.nonce);
  // RFC 7616 §3.4: nc is eight hex digits; -sess needs a cnonce even in RFC 2069 form.
  const nc = qop === undefined ? undefined : counted.nc.toString(16).padStart(8, '0');
  const cnonce = qop === undefined && !isSessionAlgorithm(algorithm)
    ? undefined
    : options.cnonce ?? bytesToHex(crypto.getRandomValues(new Uint8Array(CNONCE_BYTES)));
  const response = computeDigestResponse({
    algorithm,
    username: options.account.username,
    realm: challenge.realm,
    secret: options.account,
    nonce: challenge.nonce,
    method: options.method,
    uri: options.uri,
    qop,
    nc,
    cnonce,
    body: options.body,
  });
  const value = serializeCredentials({
    // RFC 7616 §3.4.4: hash the username only when the server said it accepts that.
    username: challenge.userhash ? userhashOf(hashOf(algorithm), options.account.username, challenge.realm) : options.account.username,
    realm: challenge.realm,
    nonce: challenge.nonce,
    uri: options.uri,
    response,
    // Echo the server's spelling; RFC 7616 §3.4 says the value must be one the server offered.
    algorithm: challenge.algorithm ?? 'MD5',
    cnonce,
    opaque: challenge.opaque,
    qop,
    nc,
    userhash: challenge.userhash,
    extra: [],
  });
  return { value, state: qop === undefined ? options.state : counted.state };
}

export interface AnswerChallengeOptions extends Omit<AuthorizeOptions, 'selected'> {
  /** The WWW-Authenticate or Proxy-Authenticate values of the 401/407, in message order. */
  readonly challenges: readonly string[];
  /** Algorithms the client is willing to use; default every algorithm this stack implements. */
  readonly algorithms?: readonly DigestAlgorithm[];
}

export type ChallengeAnswer =
  | (Authorization & { readonly ok: true; readonly selected: SelectedChallenge })
  | { readonly ok: false; readonly reason: 'no-supported-challenge'; readonly detail: string };

/** Picks the challenge to answer and answers it: the usual reaction to a 401 or 407. */
export function answerChallenge(options: AnswerChallengeOptions): ChallengeAnswer {
  const selected = selectChallenge(options.challenges, options.account, options.algorithms);
  if (selected === undefined) {
    return { ok: false, reason: 'no-supported-challenge', detail: `none of ${options.challenges.length} challenge value(s) can be answered` };
  }
  return { ok: true, selected, ...authorize({ ...options, selected }) };
}
