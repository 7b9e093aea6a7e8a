/**
 * The authenticating side (UAS, registrar, proxy): RFC 3261 §22.1-22.3, RFC 7616 §3.3-3.5, RFC 8760.
 *
 * Stateless about nonces: a nonce carries its issue time and a signature (`digest-nonce.ts`), so
 * any instance holding the secret verifies it. The only state is the caller's `NonceCounts`, which
 * this module takes and returns as plain JSON. Time is the caller's `now`, in ms.
 *
 * Verification order matters for what a client learns. The nonce's signature is checked before
 * the response, and its age only after the response: a stale answer (RFC 7616 §3.3) tells the
 * client "your password was right, retry with this new nonce", so it must not be given to a
 * wrong password.
 */
import { DigestParseError } from './auth-params.ts';
import {
  DIGEST_ALGORITHMS,
  computeDigestResponse,
  digestsEqual,
  hashOf,
  isSessionAlgorithm,
  secretSupports,
  toDigestAlgorithm,
  userhashOf,
} from './digest-hash.ts';
import type { DigestAccount, DigestAlgorithm } from './digest-hash.ts';
import { createNonce, nonceIssuedAt } from './digest-nonce.ts';
import type { NonceSecret } from './digest-nonce.ts';
import { parseCredentials, serializeChallenge } from './digest-params.ts';
import type { DigestCredentials } from './digest-params.ts';
import { checkNonceCount, nonceCountEntry, pruneNonceCounts, recordNonceCount } from './nonce-counts.ts';
import type { NonceCounts } from './nonce-counts.ts';

/**
 * Five minutes, as Kamailio's `nonce_expire`. A device that refreshes within it reuses the nonce
 * with a higher nc; one that refreshes later gets one `stale` round trip, never a password prompt.
 */
export const DEFAULT_NONCE_LIFETIME_MS = 300_000;

// Instances' clocks differ a little; a nonce from further ahead than this was not issued by a
// correctly running instance, however well signed.
const FUTURE_SKEW_MS = 30_000;

export interface ChallengeOptions {
  readonly realm: string;
  readonly algorithm: DigestAlgorithm;
  readonly secret: NonceSecret;
  /** The caller's clock, ms since the epoch. */
  readonly now: number;
  /** RFC 7616 §3.3: set when answering a `stale` verification, so the client retries silently. */
  readonly stale?: boolean;
  readonly opaque?: string;
  /** Offered qop values, preferred first. Default `['auth']`; `[]` issues an RFC 2069 challenge. */
  readonly qop?: readonly ('auth' | 'auth-int')[];
}

/** A `WWW-Authenticate` / `Proxy-Authenticate` value with a fresh signed nonce. */
export function createChallenge(options: ChallengeOptions): string {
  return challengeWith(options, options.algorithm, createNonce(options.realm, options.secret, options.now));
}

/**
 * One header value per algorithm, all with the same nonce, in the order given. RFC 8760 §2.4:
 * the server adds the challenges in its order of preference and a client takes the topmost it
 * supports, so `['SHA-256', 'MD5']` gets SHA-256 from current clients and MD5 from SIP.js and JsSIP.
 */
export function createChallenges(options: Omit<ChallengeOptions, 'algorithm'> & { readonly algorithms: readonly DigestAlgorithm[] }): string[] {
  const nonce = createNonce(options.realm, options.secret, options.now);
  return options.algorithms.map((algorithm) => challengeWith(options, algorithm, nonce));
}

function challengeWith(options: Omit<ChallengeOptions, 'algorithm'>, algorithm: DigestAlgorithm, nonce: string): string {
  return serializeChallenge({
    realm: options.realm,
    nonce,
    opaque: options.opaque,
    stale: options.stale ?? false,
    algorithm,
    qop: options.qop ?? ['auth'],
    userhash: false,
    extra: [],
  });
}

export interface VerifyOptions {
  /** The `Authorization` / `Proxy-Authorization` value, or credentials already parsed. */
  readonly authorization: string | DigestCredentials;
  readonly method: string;
  /** The Request-URI; when given, the credentials' `uri` must name it (RFC 7616 §3.4.6). */
  readonly requestUri?: string;
  /** The message body, needed when the client chose `qop=auth-int`. */
  readonly body?: Uint8Array;
  readonly realm: string;
  readonly secret: NonceSecret;
  readonly now: number;
  /**
   * The account named by the credentials' username (looked up by the caller after
   * `parseCredentials`), or `undefined` if there is none: an unknown user is answered exactly
   * like a wrong password, so that usernames cannot be probed.
   */
  readonly account: DigestAccount | undefined;
  readonly nonceCounts: NonceCounts;
  /** Algorithms accepted; default every algorithm this stack implements. */
  readonly algorithms?: readonly DigestAlgorithm[];
  readonly nonceLifetimeMs?: number;
  /**
   * Accept RFC 2069 credentials (no qop, hence no nc). Such a response is the same every time for
   * the same request, so each nonce is good for one use; a second use is answered `stale`.
   */
  readonly allowNoQop?: boolean;
}

export type DigestFailureReason =
  | 'malformed'
  | 'wrong-realm'
  | 'unsupported-algorithm'
  | 'bad-nonce'
  | 'wrong-uri'
  | 'bad-response'
  | 'stale'
  | 'replay';

export type DigestVerification =
  | {
    readonly ok: true;
    /** The account's username (not the hash, when the client sent `userhash=true`). */
    readonly username: string;
    readonly realm: string;
    readonly algorithm: DigestAlgorithm;
    readonly qop: 'auth' | 'auth-int' | undefined;
    /** The accepted nonce count; `undefined` for RFC 2069 credentials. */
    readonly nc: number | undefined;
    readonly nonceIssuedAt: number;
    /** The record with this nonce count in it: keep it for the next verification. */
    readonly nonceCounts: NonceCounts;
  }
  | {
    readonly ok: false;
    /**
     * `stale`: challenge again with `stale: true` (RFC 7616 §3.3). `malformed` and `wrong-uri`:
     * 400 (RFC 7616 §3.4.6). Everything else: a fresh 401/407 challenge (RFC 3261 §22.3), or 403
     * when the caller decides the client keeps failing.
     */
    readonly reason: DigestFailureReason;
    /** Why, for the injected logger; never sent to the client. */
    readonly detail: string;
    /** The record, pruned of expired nonces: keep it even on failure. */
    readonly nonceCounts: NonceCounts;
  };

/** Checks Digest credentials against the request they came with. Never throws for bad input. */
export function verifyCredentials(options: VerifyOptions): DigestVerification {
  const lifetime = options.nonceLifetimeMs ?? DEFAULT_NONCE_LIFETIME_MS;
  const counts = pruneNonceCounts(options.nonceCounts, options.now);
  const fail = (reason: DigestFailureReason, detail: string): DigestVerification => ({ ok: false, reason, detail, nonceCounts: counts });

  let credentials: DigestCredentials;
  try {
    credentials = typeof options.authorization === 'string' ? parseCredentials(options.authorization) : options.authorization;
  } catch (error) {
    if (error instanceof DigestParseError) return fail('malformed', error.message);
    throw error;
  }

  // RFC 3261 §22.3: credentials are matched to a challenge by realm.
  if (credentials.realm !== options.realm) return fail('wrong-realm', `realm "${credentials.realm}"`);

  const algorithm = toDigestAlgorithm(credentials.algorithm);
  if (algorithm === undefined || !(options.algorithms ?? DIGEST_ALGORITHMS).includes(algorithm)) {
    return fail('unsupported-algorithm', `algorithm "${credentials.algorithm ?? 'MD5'}"`);
  }

  const qop = credentials.qop?.toLowerCase();
  if (qop !== undefined && qop !== 'auth' && qop !== 'auth-int') return fail('malformed', `qop "${credentials.qop}"`);
  if (qop === undefined && options.allowNoQop !== true) return fail('malformed', 'credentials without qop');
  if (isSessionAlgorithm(algorithm) && credentials.cnonce === undefined) return fail('malformed', `${algorithm} without cnonce`);
  const nc = credentials.nc === undefined ? undefined : Number.parseInt(credentials.nc, 16);
  if (nc === 0) return fail('malformed', 'nc must start at 1');

  // A nonce the record tracks was verified when first accepted: its signature is not checked again.
  const issuedAt = nonceCountEntry(counts, credentials.nonce)?.issuedAt ?? nonceIssuedAt(credentials.nonce, options.realm, options.secret);
  if (issuedAt === undefined) return fail('bad-nonce', 'nonce not signed by this server for this realm');
  if (issuedAt > options.now + FUTURE_SKEW_MS) return fail('bad-nonce', 'nonce issued in the future');

  // Comparing case-insensitively tolerates clients that rewrite the scheme or host case; the
  // response hashes the uri exactly as sent, so this check only ties the credentials to the request.
  if (options.requestUri !== undefined && credentials.uri.toLowerCase() !== options.requestUri.toLowerCase()) {
    return fail('wrong-uri', `uri "${credentials.uri}" for Request-URI "${options.requestUri}"`);
  }

  const account = options.account;
  if (account === undefined) return fail('bad-response', `no account "${credentials.username}"`);
  if (!secretSupports(account, algorithm)) return fail('unsupported-algorithm', `no stored HA1 for ${algorithm}`);
  const sentUsername = credentials.userhash ? userhashOf(hashOf(algorithm), account.username, options.realm) : account.username;
  const usernameMatches = credentials.userhash
    ? digestsEqual(credentials.username, sentUsername)
    : credentials.username === sentUsername;
  const expected = computeDigestResponse({
    algorithm,
    username: account.username,
    realm: options.realm,
    secret: account,
    nonce: credentials.nonce,
    method: options.method,
    uri: credentials.uri,
    qop: credentials.qop,
    nc: credentials.nc,
    cnonce: credentials.cnonce,
    body: options.body,
  });
  if (!usernameMatches || !digestsEqual(credentials.response, expected)) {
    return fail('bad-response', `response for "${account.username}" does not match`);
  }

  // RFC 7616 §3.3: right password, old nonce: stale, so the client retries with the new nonce.
  if (options.now - issuedAt > lifetime) return fail('stale', 'nonce expired');

  const expiresAt = issuedAt + lifetime;
  // RFC 7616 §3.4: nc counts the requests sent with this nonce; a count not above the last one
  // accepted is a replay. An RFC 2069 response has no count, so its nonce is used once (as nc 1).
  const count = nc ?? 1;
  const seen = checkNonceCount(counts, credentials.nonce, issuedAt, count);
  if (seen === 'history-unknown') return fail('stale', 'nonce issued before the nonce-count record began');
  if (seen === 'replay') {
    return nc === undefined ? fail('stale', 'RFC 2069 nonce already used') : fail('replay', `nc ${count} already seen`);
  }

  return {
    ok: true,
    username: account.username,
    realm: options.realm,
    algorithm,
    qop,
    nc,
    nonceIssuedAt: issuedAt,
    nonceCounts: recordNonceCount(counts, credentials.nonce, count, expiresAt, issuedAt),
  };
}
