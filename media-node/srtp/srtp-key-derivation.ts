/**
 * SRTP session keys from a master key and salt (RFC 3711 §4.3) for the two suites the node speaks:
 * AES_CM_128_HMAC_SHA1_80 (RFC 4568 §6.2.1, SDES on the PBX leg; DTLS-SRTP profile 0x0001 on the
 * browser leg), with a 112-bit master salt, and AEAD_AES_128_GCM (RFC 7714 §11, profile 0x0007),
 * with a 96-bit one. Both use a 128-bit master key, a key derivation rate of 0 (each key derived
 * once) and the AES-CM pseudo-random function (§4.3.3), whose input is the label XORed into the
 * salt at octet 7 (`r` is 0), times 2^16.
 */
import { createCipheriv } from 'node:crypto';

export const MASTER_KEY_OCTETS = 16;
export const MASTER_SALT_OCTETS = 14;
/** RFC 7714 §11: the 96-bit master salt of AEAD_AES_128_GCM. */
export const GCM_MASTER_SALT_OCTETS = 12;

/** RFC 3711 §4.3.2 and §4.3.2's SRTCP counterparts. */
const LABELS = {
  rtpEncryption: 0x00,
  rtpAuthentication: 0x01,
  rtpSalt: 0x02,
  rtcpEncryption: 0x03,
  rtcpAuthentication: 0x04,
  rtcpSalt: 0x05,
} as const;

/** The keys of one direction of one protocol (SRTP or SRTCP). */
export interface SessionKeys {
  /** 128-bit AES key. */
  readonly encryption: Uint8Array;
  /** 160-bit HMAC-SHA1 key. */
  readonly authentication: Uint8Array;
  /** Session salt, as long as the master salt (112 bits, or 96 for GCM). */
  readonly salt: Uint8Array;
}

export function deriveSessionKeys(masterKey: Uint8Array, masterSalt: Uint8Array, protocol: 'rtp' | 'rtcp'): SessionKeys {
  if (masterKey.length !== MASTER_KEY_OCTETS || (masterSalt.length !== MASTER_SALT_OCTETS && masterSalt.length !== GCM_MASTER_SALT_OCTETS)) {
    throw new RangeError(`SRTP wants a ${MASTER_KEY_OCTETS}-octet key and a ${MASTER_SALT_OCTETS}-octet (or, for GCM, ${GCM_MASTER_SALT_OCTETS}-octet) salt`);
  }
  const rtp = protocol === 'rtp';
  return {
    encryption: prf(masterKey, masterSalt, rtp ? LABELS.rtpEncryption : LABELS.rtcpEncryption, 16),
    authentication: prf(masterKey, masterSalt, rtp ? LABELS.rtpAuthentication : LABELS.rtcpAuthentication, 20),
    salt: prf(masterKey, masterSalt, rtp ? LABELS.rtpSalt : LABELS.rtcpSalt, masterSalt.length),
  };
}

/**
 * RFC 3711 §4.3.3: AES-CM keystream under the master key, IV = (label at octet 7 XOR salt) * 2^16.
 * A 96-bit salt is taken as the first 12 octets of a 112-bit one (zeros after), as libsrtp, and so
 * every browser, does.
 */
function prf(masterKey: Uint8Array, masterSalt: Uint8Array, label: number, octets: number): Uint8Array {
  const iv = new Uint8Array(16);
  iv.set(masterSalt, 0);
  iv[7] = (iv[7] as number) ^ label;
  const cipher = createCipheriv('aes-128-ctr', masterKey, iv);
  return new Uint8Array(cipher.update(new Uint8Array(octets)));
}
