/**
 * Self-verifying nonces, so that any Durable Object instance can check a nonce it did not issue,
 * with no storage (RFC 7616 §3.3 suggests a nonce built from a time-stamp and a private key).
 *
 *   nonce = base64url( issued-at (8 octets, ms, big-endian)
 *                    | random (12 octets)
 *                    | HMAC-SHA-256(secret, issued-at | random | realm)[0..16) )
 *
 * 36 octets give 48 characters with no padding and nothing that needs escaping in a quoted-string.
 * The realm is under the MAC so that a nonce issued for one realm is refused in another.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** The server's nonce key: bytes, or a string taken as UTF-8. */
export type NonceSecret = Uint8Array | string;

const TIME_LENGTH = 8;
const RANDOM_LENGTH = 12;
// 128 bits of tag: forging a nonce is as hard as guessing a random 128-bit value.
const TAG_LENGTH = 16;
const SIGNED_LENGTH = TIME_LENGTH + RANDOM_LENGTH;
const NONCE_LENGTH = SIGNED_LENGTH + TAG_LENGTH;
const NONCE_PATTERN = /^[A-Za-z0-9_-]{48}$/;
// Below this a secret is guessable offline from a single captured nonce.
const MIN_SECRET_LENGTH = 16;

const utf8 = new TextEncoder();

/** The part of noble's HMAC used here. */
interface Mac {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
  clone(): Mac;
}

/**
 * The HMAC keyed with the last secret seen, cloned for each nonce: keying hashes the key twice
 * (inner and outer pads), half the work of signing a nonce, and the secret rarely changes.
 */
let keyed: { readonly secret: NonceSecret; readonly mac: Mac } | undefined;

function macFor(secret: NonceSecret): Mac {
  if (keyed?.secret === secret) return keyed.mac.clone();
  const key = typeof secret === 'string' ? utf8.encode(secret) : secret;
  if (key.length < MIN_SECRET_LENGTH) throw new RangeError(`the nonce secret needs at least ${MIN_SECRET_LENGTH} bytes`);
  // A byte secret may be changed in place by its owner: only a string (immutable) is kept.
  const mac = hmac.create(sha256, key);
  if (typeof secret === 'string') keyed = { secret, mac };
  return mac.clone();
}

function tagOf(secret: NonceSecret, signed: Uint8Array, realm: string): Uint8Array {
  const mac = macFor(secret);
  mac.update(signed);
  mac.update(utf8.encode(realm));
  return mac.digest().subarray(0, TAG_LENGTH);
}

function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  const binary = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i += 1) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}

/**
 * Nonces signed here lately, with what they were signed for: most are answered within a round
 * trip, and checking one found here needs no HMAC. Oldest first; at most `RECENT_NONCES`.
 */
const recent = new Map<string, { readonly realm: string; readonly secret: NonceSecret; readonly issuedAt: number }>();
const RECENT_NONCES = 256;

/** A fresh nonce for `realm`, stamped with `now` (ms since the epoch, from the caller's clock). */
export function createNonce(realm: string, secret: NonceSecret, now: number): string {
  if (!Number.isSafeInteger(now) || now < 0) throw new RangeError('now must be a non-negative integer of milliseconds');
  const bytes = new Uint8Array(NONCE_LENGTH);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(now));
  crypto.getRandomValues(bytes.subarray(TIME_LENGTH, SIGNED_LENGTH));
  bytes.set(tagOf(secret, bytes.subarray(0, SIGNED_LENGTH), realm), SIGNED_LENGTH);
  const nonce = toBase64Url(bytes);
  // Only string secrets: a byte secret may be changed in place by its owner.
  if (typeof secret === 'string') {
    recent.set(nonce, { realm, secret, issuedAt: now });
    if (recent.size > RECENT_NONCES) recent.delete(recent.keys().next().value ?? '');
  }
  return nonce;
}

/** The issue time of a nonce this server signed for `realm`, or `undefined` for any other string. */
export function nonceIssuedAt(nonce: string, realm: string, secret: NonceSecret): number | undefined {
  const known = recent.get(nonce);
  if (known !== undefined && known.realm === realm && known.secret === secret) return known.issuedAt;
  if (!NONCE_PATTERN.test(nonce)) return undefined;
  const bytes = fromBase64Url(nonce);
  const signed = bytes.subarray(0, SIGNED_LENGTH);
  if (!sameBytes(bytes.subarray(SIGNED_LENGTH), tagOf(secret, signed, realm))) return undefined;
  return Number(new DataView(bytes.buffer).getBigUint64(0));
}
