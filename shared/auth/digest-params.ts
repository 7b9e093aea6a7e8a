/**
 * Digest challenges (`WWW-Authenticate`, `Proxy-Authenticate`) and credentials (`Authorization`,
 * `Proxy-Authorization`) as plain data, parsed from and written to header values
 * (RFC 3261 §25.1 `digest-cln` / `dig-resp`, RFC 7616 §3.3-3.4, RFC 8760 §2).
 *
 * Parsing is tolerant in the ways deployed clients and servers differ: any spacing and folding,
 * parameter names in any case, `algorithm`/`qop`/`nc`/`stale`/`userhash` quoted or not. It is
 * strict where a mistake would change what gets hashed: duplicate or missing required parameters
 * throw `DigestParseError`. Parameters this module does not know are kept in `extra`, in order.
 */
import { DigestParseError, parseAuthItems, serializeAuthItem } from './auth-params.ts';
import type { AuthItem, AuthParam } from './auth-params.ts';

/** A Digest challenge. Values are as written (unescaped); compare tokens case-insensitively. */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly domain?: string | undefined;
  readonly opaque?: string | undefined;
  /** RFC 7616 §3.3: the nonce was stale, not the credentials wrong; retry without asking the user. */
  readonly stale: boolean;
  /** The `algorithm` token as written; absent means MD5 (see `toDigestAlgorithm`). */
  readonly algorithm?: string | undefined;
  /** The offered qop values in the server's order; empty for an RFC 2069 challenge. */
  readonly qop: readonly string[];
  readonly charset?: string | undefined;
  /** RFC 7616 §3.4.4: the server accepts a hashed username. */
  readonly userhash: boolean;
  readonly extra: readonly AuthParam[];
}

/** Digest credentials. `qop`, `nc` and `algorithm` are kept as sent because the response hashes them. */
export interface DigestCredentials {
  /** The username, or H(username:realm) when `userhash` is true; decoded when sent as `username*`. */
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  readonly algorithm?: string | undefined;
  readonly cnonce?: string | undefined;
  readonly opaque?: string | undefined;
  readonly qop?: string | undefined;
  /** The nonce count as sent: one to eight hex digits (RFC 7616 §3.4 says exactly eight). */
  readonly nc?: string | undefined;
  readonly userhash: boolean;
  readonly extra: readonly AuthParam[];
}

const CHALLENGE_PARAMS = ['realm', 'domain', 'nonce', 'opaque', 'stale', 'algorithm', 'qop', 'charset', 'userhash'];
const CREDENTIAL_PARAMS = [
  'username', 'username*', 'realm', 'nonce', 'uri', 'response', 'algorithm', 'cnonce', 'opaque', 'qop', 'nc', 'userhash',
];

interface Sorted {
  readonly known: ReadonlyMap<string, AuthParam>;
  readonly extra: readonly AuthParam[];
}

/**
 * Separates known parameters (by lowercase name) from the rest. Some servers send `qop=auth,auth-int`
 * unquoted, which the list grammar reads as `qop=auth` followed by a bare `auth-int`; such bare
 * tokens right after an unquoted qop are folded back into it. Any other bare token is an error.
 */
function sortParams(item: AuthItem, knownNames: readonly string[]): Sorted {
  const known = new Map<string, AuthParam>();
  const extra: AuthParam[] = [];
  let qopContinues = false;
  for (const param of item.params) {
    const name = param.name.toLowerCase();
    if (param.value === undefined) {
      const qop = known.get('qop');
      if (!qopContinues || qop?.value === undefined) throw new DigestParseError(`parameter "${param.name}" has no value`);
      known.set('qop', { ...qop, value: `${qop.value},${param.name}` });
      continue;
    }
    qopContinues = name === 'qop' && !param.quoted;
    if (!knownNames.includes(name)) {
      extra.push(param);
      continue;
    }
    // RFC 7616 §3.3: a directive appearing more than once makes the header invalid; hashing either
    // copy could authenticate something the sender did not mean.
    if (known.has(name)) throw new DigestParseError(`parameter "${name}" appears more than once`);
    known.set(name, param);
  }
  return { known, extra };
}

function optional(sorted: Sorted, name: string): string | undefined {
  return sorted.known.get(name)?.value;
}

function required(sorted: Sorted, name: string): string {
  const value = optional(sorted, name);
  if (value === undefined) throw new DigestParseError(`missing required parameter "${name}"`);
  return value;
}

// RFC 7616 §3.3: stale and userhash are "true" or "false", case-insensitive; anything else is false.
function flag(sorted: Sorted, name: string): boolean {
  return optional(sorted, name)?.toLowerCase() === 'true';
}

function isDigest(item: AuthItem): boolean {
  return item.scheme.toLowerCase() === 'digest';
}

function toChallenge(item: AuthItem): DigestChallenge {
  const sorted = sortParams(item, CHALLENGE_PARAMS);
  const qop = optional(sorted, 'qop');
  return {
    realm: required(sorted, 'realm'),
    nonce: required(sorted, 'nonce'),
    domain: optional(sorted, 'domain'),
    opaque: optional(sorted, 'opaque'),
    stale: flag(sorted, 'stale'),
    algorithm: optional(sorted, 'algorithm'),
    qop: qop === undefined ? [] : qop.split(',').map((value) => value.trim()).filter((value) => value !== ''),
    charset: optional(sorted, 'charset'),
    userhash: flag(sorted, 'userhash'),
    extra: sorted.extra,
  };
}

/**
 * Every Digest challenge in one header value, in order. Challenges in other schemes (`Basic`, ...)
 * are skipped; a value holding none gives an empty list. Throws `DigestParseError`.
 */
export function parseChallenges(value: string): DigestChallenge[] {
  return parseAuthItems(value).filter(isDigest).map(toChallenge);
}

/** The single Digest challenge of a `WWW-Authenticate` or `Proxy-Authenticate` value (RFC 3261 §25.1). */
export function parseChallenge(value: string): DigestChallenge {
  const items = parseAuthItems(value);
  const [item] = items;
  if (items.length !== 1 || item === undefined || !isDigest(item)) {
    throw new DigestParseError('expected exactly one Digest challenge');
  }
  return toChallenge(item);
}

// RFC 7616 §3.4.4 and RFC 8187 §3.2: username*=UTF-8''percent-encoded, for names outside ASCII.
function decodeExtendedValue(value: string): string {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (match === null || match[1]?.toLowerCase() !== 'utf-8') {
    throw new DigestParseError('username* must be UTF-8 in RFC 8187 form');
  }
  try {
    return decodeURIComponent(match[2] ?? '');
  } catch {
    throw new DigestParseError('username* has an invalid percent-encoding');
  }
}

function usernameOf(sorted: Sorted): string {
  const plain = optional(sorted, 'username');
  const extended = optional(sorted, 'username*');
  if (plain !== undefined && extended !== undefined) {
    throw new DigestParseError('username and username* must not both be present');
  }
  if (extended !== undefined) return decodeExtendedValue(extended);
  return required(sorted, 'username');
}

/**
 * The Digest credentials of an `Authorization` or `Proxy-Authorization` value. Throws
 * `DigestParseError` when the scheme is not Digest or the credentials could never verify.
 */
export function parseCredentials(value: string): DigestCredentials {
  const items = parseAuthItems(value);
  const [item] = items;
  if (items.length !== 1 || item === undefined || !isDigest(item)) {
    throw new DigestParseError('expected exactly one set of Digest credentials');
  }
  const sorted = sortParams(item, CREDENTIAL_PARAMS);
  const credentials: DigestCredentials = {
    username: usernameOf(sorted),
    realm: required(sorted, 'realm'),
    nonce: required(sorted, 'nonce'),
    uri: required(sorted, 'uri'),
    response: required(sorted, 'response'),
    algorithm: optional(sorted, 'algorithm'),
    cnonce: optional(sorted, 'cnonce'),
    opaque: optional(sorted, 'opaque'),
    qop: optional(sorted, 'qop'),
    nc: optional(sorted, 'nc'),
    userhash: flag(sorted, 'userhash'),
    extra: sorted.extra,
  };
  // RFC 7616 §3.4: cnonce and nc MUST be sent when qop is, and only then do they mean anything.
  if (credentials.qop !== undefined && (credentials.cnonce === undefined || credentials.nc === undefined)) {
    throw new DigestParseError('qop requires cnonce and nc');
  }
  if (credentials.nc !== undefined && !/^[0-9a-fA-F]{1,8}$/.test(credentials.nc)) {
    throw new DigestParseError(`nc must be hex digits, got "${credentials.nc}"`);
  }
  return credentials;
}

function quoted(name: string, value: string | undefined): AuthParam[] {
  return value === undefined ? [] : [{ name, value, quoted: true }];
}

function bare(name: string, value: string | undefined): AuthParam[] {
  return value === undefined ? [] : [{ name, value, quoted: false }];
}

/** Writes a challenge in the form of RFC 3261 §20.44; `algorithm` and `stale` as tokens, `qop` quoted. */
export function serializeChallenge(challenge: DigestChallenge): string {
  return serializeAuthItem({
    scheme: 'Digest',
    params: [
      ...quoted('realm', challenge.realm),
      ...quoted('domain', challenge.domain),
      ...quoted('nonce', challenge.nonce),
      ...quoted('opaque', challenge.opaque),
      ...bare('stale', challenge.stale ? 'true' : undefined),
      ...bare('algorithm', challenge.algorithm),
      ...quoted('qop', challenge.qop.length === 0 ? undefined : challenge.qop.join(',')),
      ...bare('charset', challenge.charset),
      ...bare('userhash', challenge.userhash ? 'true' : undefined),
      ...challenge.extra,
    ],
  });
}

/** Writes credentials in the form of RFC 3261 §22.4 and RFC 7616 §3.4: qop, nc and algorithm unquoted. */
export function serializeCredentials(credentials: DigestCredentials): string {
  return serializeAuthItem({
    scheme: 'Digest',
    params: [
      ...quoted('username', credentials.username),
      ...quoted('realm', credentials.realm),
      ...quoted('nonce', credentials.nonce),
      ...quoted('uri', credentials.uri),
      ...quoted('response', credentials.response),
      ...bare('algorithm', credentials.algorithm),
      ...quoted('cnonce', credentials.cnonce),
      ...quoted('opaque', credentials.opaque),
      ...bare('qop', credentials.qop),
      ...bare('nc', credentials.nc),
      ...bare('userhash', credentials.userhash ? 'true' : undefined),
      ...credentials.extra,
    ],
  });
}
