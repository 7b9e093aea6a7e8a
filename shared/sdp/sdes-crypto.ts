/**
 * SDES keys for SRTP (RFC 4568), as PBXs and trunks send them on RTP/SAVP legs.
 *
 * ```
 * a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]      (RFC 4568 §9.1)
 * key-params = key-param *(";" key-param)
 * key-param  = "inline:" key-salt ["|" lifetime] ["|" mki]           (RFC 4568 §6.1)
 * lifetime   = ["2^"] 1*DIGIT
 * mki        = mki-value ":" mki-length
 * ```
 */

import { SdpError } from './sdp-error.ts';
import type { SdpMedia } from './session.ts';

export interface SdesKey {
  /** `inline`, the only key method RFC 4568 defines. */
  readonly method: string;
  /** Base64 of the master key followed by the master salt. */
  readonly keySalt: string;
  /** Master key lifetime in packets, as written: `2^31` or `1048576`. */
  readonly lifetime?: string;
  /** Master key identifier carried in each packet, and its length in octets. */
  readonly mki?: { readonly value: number; readonly length: number };
}

export interface SdesCrypto {
  /** Identifies the line; the answer repeats the tag of the line it accepts (RFC 4568 §5). */
  readonly tag: number;
  /** `AES_CM_128_HMAC_SHA1_80`, `AES_CM_128_HMAC_SHA1_32`, `AES_256_CM_HMAC_SHA1_80`, `AEAD_AES_128_GCM`, ... */
  readonly suite: string;
  readonly keys: readonly SdesKey[];
  /** Session parameters as written: `KDR=1`, `UNENCRYPTED_SRTCP`, `FEC_ORDER=FEC_SRTP`. */
  readonly sessionParams: readonly string[];
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The media section's `a=crypto` lines, in preference order. Throws `SdpError` for a malformed one. */
export function sdesCryptos(media: SdpMedia): SdesCrypto[] {
  return (media.crypto ?? []).map((crypto) =>
    parseCrypto(`${String(crypto.id)} ${crypto.suite} ${crypto.config}${crypto.sessionConfig === undefined ? '' : ` ${crypto.sessionConfig}`}`),
  );
}

/** Parses one crypto attribute: `a=crypto:...`, `crypto:...`, or the bare value. */
export function parseCrypto(text: string): SdesCrypto {
  const value = text.trim().replace(/^a=/, '').replace(/^crypto:/, '');
  const [tag, suite, keyParams, ...sessionParams] = value.split(/\s+/);
  if (tag === undefined || !/^\d{1,9}$/.test(tag) || suite === undefined || !/^[A-Za-z0-9_]+$/.test(suite) || keyParams === undefined) {
    throw invalid(text);
  }
  return { tag: Number(tag), suite, keys: keyParams.split(';').map((param) => parseKey(param, text)), sessionParams };
}

/** Writes a crypto attribute as `crypto:...`, without the `a=` prefix. */
export function serializeCrypto(crypto: SdesCrypto): string {
  const keys = crypto.keys.map(serializeKey).join(';');
  return [`crypto:${String(crypto.tag)}`, crypto.suite, keys, ...crypto.sessionParams].join(' ');
}

/** A copy of the media section whose `a=crypto` lines are `cryptos`, in that order. */
export function setCryptos(media: SdpMedia, cryptos: readonly SdesCrypto[]): SdpMedia {
  const { crypto: _previous, ...rest } = media;
  if (cryptos.length === 0) return rest;
  return {
    ...rest,
    crypto: cryptos.map((crypto) => {
      const entry = { id: crypto.tag, suite: crypto.suite, config: crypto.keys.map(serializeKey).join(';') };
      return crypto.sessionParams.length === 0 ? entry : { ...entry, sessionConfig: crypto.sessionParams.join(' ') };
    }),
  };
}

/**
 * The offered line an answerer takes: the first, in the offerer's order of preference, whose suite
 * the answerer supports. Undefined when none is: the RTP/SAVP stream must then be refused
 * (RFC 4568 §5).
 */
export function chooseCrypto(offered: readonly SdesCrypto[], supportedSuites: readonly string[]): SdesCrypto | undefined {
  return offered.find((crypto) => supportedSuites.includes(crypto.suite));
}

/** The master key and salt octets of an inline key. Throws `SdpError` if it is not base64. */
export function decodeKeySalt(key: SdesKey): Uint8Array {
  if (!BASE64.test(key.keySalt)) throw new SdpError('invalid-attribute', 'SDES key-salt is not base64 (RFC 4568 §6.1)');
  return Uint8Array.from(atob(key.keySalt), (char) => char.charCodeAt(0));
}

/** Base64 of key-and-salt octets, for writing an `inline:` key. */
export function encodeKeySalt(octets: Uint8Array): string {
  return btoa(String.fromCharCode(...octets));
}

function parseKey(param: string, line: string): SdesKey {
  const colon = param.indexOf(':');
  if (colon <= 0) throw invalid(line);
  const method = param.slice(0, colon);
  const [keySalt, ...rest] = param.slice(colon + 1).split('|');
  if (keySalt === undefined || !BASE64.test(keySalt) || rest.length > 2) throw invalid(line);
  let lifetime: string | undefined;
  let mki: SdesKey['mki'];
  for (const part of rest) {
    const mkiMatch = /^(\d+):(\d{1,3})$/.exec(part);
    if (mkiMatch !== null && mki === undefined) mki = { value: Number(mkiMatch[1]), length: Number(mkiMatch[2]) };
    else if (/^(2\^)?\d+$/.test(part) && lifetime === undefined && mki === undefined) lifetime = part;
    else throw invalid(line);
  }
  return { method, keySalt, ...(lifetime === undefined ? {} : { lifetime }), ...(mki === undefined ? {} : { mki }) };
}

function serializeKey(key: SdesKey): string {
  let info = key.keySalt;
  if (key.lifetime !== undefined) info += `|${key.lifetime}`;
  if (key.mki !== undefined) info += `|${String(key.mki.value)}:${String(key.mki.length)}`;
  return `${key.method}:${info}`;
}

function invalid(line: string): SdpError {
  return new SdpError('invalid-attribute', `malformed a=crypto (RFC 4568 §9.1): ${line.trim()}`);
}
