/**
 * The digest computation (RFC 7616 §3.4.1-3.4.3, RFC 3261 §22.4, RFC 8760 for SIP), synchronous
 * so that it runs inside a Durable Object handler without awaiting WebCrypto.
 *
 *   response = KD(H(A1), unq(nonce) ":" nc ":" unq(cnonce) ":" unq(qop) ":" H(A2))   qop present
 *   response = KD(H(A1), unq(nonce) ":" H(A2))                                      RFC 2069 style
 */
import { md5 } from '@noble/hashes/legacy.js';
import { sha256, sha512_256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** The hash functions registered for Digest (RFC 7616 §6.1; RFC 8760 §2.2 for SIP). */
export type DigestHashName = 'MD5' | 'SHA-256' | 'SHA-512-256';

/** An algorithm token as it appears in `algorithm=`, in its registered spelling. */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

// RFC 8760 §2.2 and RFC 7616 §6.1: each hash also has a session variant.
const ALGORITHMS: Readonly<Record<DigestAlgorithm, { readonly hash: DigestHashName; readonly session: boolean }>> = {
  'SHA-512-256': { hash: 'SHA-512-256', session: false },
  'SHA-512-256-sess': { hash: 'SHA-512-256', session: true },
  'SHA-256': { hash: 'SHA-256', session: false },
  'SHA-256-sess': { hash: 'SHA-256', session: true },
  MD5: { hash: 'MD5', session: false },
  'MD5-sess': { hash: 'MD5', session: true },
};

/** Every algorithm this stack implements, strongest first. */
export const DIGEST_ALGORITHMS = Object.keys(ALGORITHMS) as readonly DigestAlgorithm[];

/** How the secret is known: the password, or HA1 = H(username ":" realm ":" password) per hash. */
export type DigestSecret =
  | { readonly password: string }
  | { readonly ha1: Readonly<Partial<Record<DigestHashName, string>>> };

/** An account as the authenticating side knows it; `username` is the auth username, not the URI user. */
export type DigestAccount = { readonly username: string } & DigestSecret;

const HASHES = { MD5: md5, 'SHA-256': sha256, 'SHA-512-256': sha512_256 } as const;
const utf8 = new TextEncoder();

/**
 * The registered algorithm for an `algorithm=` token, or `undefined` when this stack does not
 * implement it. RFC 7616 §3.3: an absent parameter means MD5. Tokens compare case-insensitively
 * because deployed servers write `md5` and `sha-256`.
 */
export function toDigestAlgorithm(token: string | undefined): DigestAlgorithm | undefined {
  if (token === undefined) return 'MD5';
  const wanted = token.toLowerCase();
  return DIGEST_ALGORITHMS.find((algorithm) => algorithm.toLowerCase() === wanted);
}

export function hashOf(algorithm: DigestAlgorithm): DigestHashName {
  return ALGORITHMS[algorithm].hash;
}

export function isSessionAlgorithm(algorithm: DigestAlgorithm): boolean {
  return ALGORITHMS[algorithm].session;
}

/** H(data): the lowercase hex digest (RFC 7616 §3.4: "LHEX"). */
export function digestHex(hash: DigestHashName, data: string | Uint8Array): string {
  return bytesToHex(HASHES[hash](typeof data === 'string' ? utf8.encode(data) : data));
}

/** H(username ":" realm ":" password): what an operator stores instead of the password. */
export function userHA1(hash: DigestHashName, username: string, realm: string, password: string): string {
  return digestHex(hash, `${username}:${realm}:${password}`);
}

/** RFC 7616 §3.4.4: the value sent as `username` when `userhash=true`. */
export function userhashOf(hash: DigestHashName, username: string, realm: string): string {
  return digestHex(hash, `${username}:${realm}`);
}

/** Whether `secret` can answer for `algorithm` (a stored HA1 is specific to one hash). */
export function secretSupports(secret: DigestSecret, algorithm: DigestAlgorithm): boolean {
  return 'password' in secret || secret.ha1[hashOf(algorithm)] !== undefined;
}

export interface DigestResponseInput {
  readonly algorithm: DigestAlgorithm;
  /** The real username, also when the client sends `userhash=true`. */
  readonly username: string;
  readonly realm: string;
  readonly secret: DigestSecret;
  readonly nonce: string;
  readonly method: string;
  /** The `uri` parameter exactly as sent (RFC 7616 §3.4.6). */
  readonly uri: string;
  /** `auth`, `auth-int`, or `undefined` for the RFC 2069 form. Used as sent, since it is hashed. */
  readonly qop?: string | undefined;
  /** The eight hex digits exactly as sent. */
  readonly nc?: string | undefined;
  readonly cnonce?: string | undefined;
  /** The message body, for `auth-int`; absent means empty. */
  readonly body?: Uint8Array | undefined;
}

/** H(A1) for this exchange (RFC 7616 §3.4.2). */
export function computeHA1(input: DigestResponseInput): string {
  const hash = hashOf(input.algorithm);
  const base = 'password' in input.secret
    ? userHA1(hash, input.username, input.realm, input.secret.password)
    : input.secret.ha1[hash]?.toLowerCase();
  if (base === undefined) throw new RangeError(`no stored HA1 for ${hash}`);
  if (!isSessionAlgorithm(input.algorithm)) return base;
  // RFC 7616 §3.4.2: for -sess, A1 = H(username:realm:password) ":" nonce ":" cnonce.
  if (input.cnonce === undefined) throw new RangeError(`${input.algorithm} needs a cnonce`);
  return digestHex(hash, `${base}:${input.nonce}:${input.cnonce}`);
}

/** H(A2) (RFC 7616 §3.4.3): `auth-int` also covers H(entity-body). */
export function computeHA2(input: DigestResponseInput): string {
  const hash = hashOf(input.algorithm);
  if (input.qop?.toLowerCase() === 'auth-int') {
    const bodyHash = digestHex(hash, input.body ?? new Uint8Array(0));
    return digestHex(hash, `${input.method}:${input.uri}:${bodyHash}`);
  }
  return digestHex(hash, `${input.method}:${input.uri}`);
}

/**
 * The `response` value. Throws `RangeError` for inputs no caller should build: a stored-HA1 secret
 * without an HA1 for this hash, a `-sess` algorithm without cnonce, or a qop without nc and cnonce.
 */
export function computeDigestResponse(input: DigestResponseInput): string {
  const hash = hashOf(input.algorithm);
  const ha1 = computeHA1(input);
  const ha2 = computeHA2(input);
  if (input.qop === undefined) {
    // RFC 2069 §2.1.2 (kept by RFC 2617 §3.2.2.1 and RFC 3261 §22.4 for older clients).
    return digestHex(hash, `${ha1}:${input.nonce}:${ha2}`);
  }
  if (input.nc === undefined || input.cnonce === undefined) throw new RangeError('qop needs nc and cnonce');
  return digestHex(hash, `${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`);
}

/**
 * Compares two hex digests without an early exit, so that the time taken does not reveal how many
 * leading characters of a guessed response were right. Case-insensitive: some clients send
 * uppercase hex. The lengths are public (they follow from the algorithm).
 */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const left = a.toLowerCase();
  const right = b.toLowerCase();
  let difference = 0;
  for (let i = 0; i < left.length; i += 1) difference |= left.charCodeAt(i) ^ right.charCodeAt(i);
  return difference === 0;
}
