/**
 * SDES keying of the PBX leg (RFC 4568): which `a=crypto` line of an RTP/SAVP offer or answer the
 * node takes, the master key it carries, and the node's own line.
 *
 * The node speaks AES_CM_128_HMAC_SHA1_80, the suite every SDES-capable PBX and trunk offers
 * (RFC 4568 §6.2.1), with one inline key, no MKI and no session parameters. A line it cannot honour
 * (another suite, an MKI, a key derivation rate, unencrypted or unauthenticated SRTP) is passed
 * over; when no line is left the stream cannot be accepted (§5.1.3: answered 488).
 */
import { decodeKeySalt, encodeKeySalt, sdesCryptos, SdpError, type SdesCrypto, type SdpMedia } from '../../shared/sdp/index.ts';
import type { MasterKey } from './srtp-context.ts';
import { MASTER_KEY_OCTETS, MASTER_SALT_OCTETS } from './srtp-key-derivation.ts';

export const SDES_SUITE = 'AES_CM_128_HMAC_SHA1_80';

export function isSavp(media: SdpMedia): boolean {
  return /^RTP\/SAVP$/i.test(media.protocol);
}

/** The first line of `media` the node can honour, with its key; undefined if none. Throws `SdpError` for a malformed line. */
export function chooseSdesKey(media: SdpMedia): { readonly tag: number; readonly key: MasterKey } | undefined {
  for (const crypto of sdesCryptos(media)) {
    const key = usableKey(crypto);
    if (key !== undefined) return { tag: crypto.tag, key };
  }
  return undefined;
}

/** A fresh master key and salt from the system's CSPRNG (RFC 4568 §6.1: random, per direction). */
export function newMasterKey(): MasterKey {
  const octets = crypto.getRandomValues(new Uint8Array(MASTER_KEY_OCTETS + MASTER_SALT_OCTETS));
  return { key: octets.slice(0, MASTER_KEY_OCTETS), salt: octets.slice(MASTER_KEY_OCTETS) };
}

/** The node's `a=crypto` line for `key`, under `tag` (an answer repeats the offer's tag, §5.1.2). */
export function sdesLine(tag: number, key: MasterKey): SdesCrypto {
  const octets = new Uint8Array(MASTER_KEY_OCTETS + MASTER_SALT_OCTETS);
  octets.set(key.key, 0);
  octets.set(key.salt, MASTER_KEY_OCTETS);
  return { tag, suite: SDES_SUITE, keys: [{ method: 'inline', keySalt: encodeKeySalt(octets) }], sessionParams: [] };
}

function usableKey(crypto: SdesCrypto): MasterKey | undefined {
  if (crypto.suite !== SDES_SUITE || crypto.sessionParams.length > 0 || crypto.keys.length !== 1) return undefined;
  const [key] = crypto.keys;
  if (key === undefined || key.method !== 'inline' || key.mki !== undefined) return undefined;
  let octets: Uint8Array;
  try {
    octets = decodeKeySalt(key);
  } catch (error) {
    if (error instanceof SdpError) return undefined;
    throw error;
  }
  if (octets.length !== MASTER_KEY_OCTETS + MASTER_SALT_OCTETS) return undefined;
  return { key: octets.slice(0, MASTER_KEY_OCTETS), salt: octets.slice(MASTER_KEY_OCTETS) };
}
