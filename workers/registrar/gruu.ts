/**
 * Globally Routable User agent URIs (RFC 5627): a URI that reaches one device of a user, not all
 * of them. A device asks for them with `Supported: gruu` and a `+sip.instance` in its Contact; the
 * registrar's 200 OK then gives, for every binding with an instance:
 * - `pub-gruu`: the AOR with `gr=<instance URN>` (RFC 5627 §3.1), stable across registrations;
 * - `temp-gruu`: `sip:tgruu.<token>@<domain>;gr` (§3.2), which names neither the user nor the
 *   device to whoever sees it. The token is the AOR and the instance, encrypted and authenticated
 *   with keys derived from the edge's nonce secret (HMAC-SHA-256 as keystream in counter mode, then
 *   HMAC-SHA-256 over the random IV and the ciphertext), so any object of the edge reads it back
 *   without storage, and a fresh one is issued with every 200 OK. Both stay valid while the user
 *   has a binding with that instance; after that a request to them gets 480 (§5.6).
 *
 * Requests to a GRUU: the caller's object reads a temp-gruu back into the pub-gruu form, and the
 * callee's object rings only the binding whose instance the `gr` parameter names.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { escapeUri, paramValue, parseUri, SipSyntaxError, type Uri } from '../../shared/grammar/index.ts';
import { isUserChar } from '../../shared/grammar/char-class.ts';

const TEMP_PREFIX = 'tgruu.';
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The instance URN of a `+sip.instance` value as bindings keep it (`<urn:uuid:...>`): the `gr` value. */
export function instanceUrn(instance: string): string {
  return instance.startsWith('<') && instance.endsWith('>') ? instance.slice(1, -1) : instance;
}

/** RFC 5627 §3.1: the public GRUU of device `instance` of `aor` (`user@domain`). */
export function publicGruu(aor: string, instance: string): string {
  const at = aor.lastIndexOf('@');
  return `sip:${escapeUri(aor.slice(0, at), isUserChar)}@${aor.slice(at + 1)};gr=${instanceUrn(instance)}`;
}

/** The instance URN a Request-URI's `gr` parameter names (a public GRUU), or undefined for any other URI. */
export function gruuInstanceOf(requestUri: string): string | undefined {
  let uri;
  try {
    uri = parseUri(requestUri);
  } catch (error) {
    if (error instanceof SipSyntaxError) return undefined;
    throw error;
  }
  if (uri.kind !== 'sip') return undefined;
  const value = paramValue(uri.params, 'gr');
  return value === undefined || value === '' ? undefined : value;
}

interface Keys {
  readonly secret: string;
  readonly encryption: Uint8Array;
  readonly authentication: Uint8Array;
}
let keys: Keys | undefined;

function keysFor(secret: string): Keys {
  if (keys?.secret !== secret) {
    keys = {
      secret,
      encryption: hmac(sha256, utf8.encode(secret), utf8.encode('sipedge temp-gruu encryption')),
      authentication: hmac(sha256, utf8.encode(secret), utf8.encode('sipedge temp-gruu authentication')),
    };
  }
  return keys;
}

/** `data` XOR the keystream HMAC(key, iv | counter), block after block. */
function xorKeystream(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  const block = new Uint8Array(IV_LENGTH + 4);
  block.set(iv);
  for (let offset = 0, counter = 0; offset < data.length; offset += 32, counter++) {
    new DataView(block.buffer).setUint32(IV_LENGTH, counter);
    const stream = hmac(sha256, key, block);
    for (let index = 0; index < 32 && offset + index < data.length; index++) out[offset + index] = (data[offset + index] ?? 0) ^ (stream[index] ?? 0);
  }
  return out;
}

function tagOf(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const mac = hmac.create(sha256, key);
  mac.update(iv);
  mac.update(ciphertext);
  return mac.digest().subarray(0, TAG_LENGTH);
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text.replaceAll('-', '+').replaceAll('_', '/')), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** RFC 5627 §3.2: a fresh temporary GRUU of device `instance` of `aor`, on `domain`. */
export function createTempGruu(aor: string, instance: string, domain: string, secret: string): string {
  const { encryption, authentication } = keysFor(secret);
  const iv = crypto.getRandomValues(new Uint8Array(IV_LENGTH));
  const ciphertext = xorKeystream(encryption, iv, utf8.encode(`${aor}\n${instanceUrn(instance)}`));
  const token = new Uint8Array(IV_LENGTH + ciphertext.length + TAG_LENGTH);
  token.set(iv);
  token.set(ciphertext, IV_LENGTH);
  token.set(tagOf(authentication, iv, ciphertext), IV_LENGTH + ciphertext.length);
  return `sip:${TEMP_PREFIX}${toBase64Url(token)}@${domain.toLowerCase()};gr`;
}

/** A temporary GRUU this edge issued, read back: the user and the device; undefined for any other URI. */
export function readTempGruu(requestUri: string, secret: string): TempGruu | undefined {
  let uri;
  try {
    uri = parseUri(requestUri);
  } catch (error) {
    if (error instanceof SipSyntaxError) return undefined;
    throw error;
  }
  return readTempGruuUri(uri, secret);
}

export interface TempGruu {
  readonly aor: string;
  readonly instanceUrn: string;
}

/** `readTempGruu` for a URI already parsed (a From or To, when routing a device's messages). */
export function readTempGruuUri(uri: Uri, secret: string): TempGruu | undefined {
  if (uri.kind !== 'sip' || uri.user?.startsWith(TEMP_PREFIX) !== true) return undefined;
  const token = fromBase64Url(uri.user.slice(TEMP_PREFIX.length));
  if (token === undefined || token.length <= IV_LENGTH + TAG_LENGTH) return undefined;
  const { encryption, authentication } = keysFor(secret);
  const iv = token.subarray(0, IV_LENGTH);
  const ciphertext = token.subarray(IV_LENGTH, token.length - TAG_LENGTH);
  const expected = tagOf(authentication, iv, ciphertext);
  const tag = token.subarray(token.length - TAG_LENGTH);
  let difference = 0;
  for (let index = 0; index < TAG_LENGTH; index++) difference |= (tag[index] ?? 0) ^ (expected[index] ?? 0);
  if (difference !== 0) return undefined;
  let plain: string;
  try {
    plain = strictUtf8.decode(xorKeystream(encryption, iv, ciphertext));
  } catch {
    return undefined;
  }
  const split = plain.indexOf('\n');
  if (split < 0) return undefined;
  return { aor: plain.slice(0, split), instanceUrn: plain.slice(split + 1) };
}

/** Whether a binding's `+sip.instance` is the device a GRUU's `gr` value names. */
export function isGruuDevice(bindingInstance: string | undefined, gr: string): boolean {
  return bindingInstance !== undefined && instanceUrn(bindingInstance).toLowerCase() === gr.toLowerCase();
}
