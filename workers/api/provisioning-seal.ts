/**
 * Sealing a provisioning link's configuration: AES-256-GCM under a key derived (HKDF-SHA-256,
 * RFC 5869) from the link's token. The edge keeps the sealed text and the token's SHA-256, never
 * the token, so what is at rest, a password included, opens only with the link itself.
 */
import { base64url, fromBase64url } from './api-token.ts';

const encoder = new TextEncoder();
const INFO = encoder.encode('sipedge provisioning link');

async function keyOf(token: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(token), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: INFO }, material, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

export async function seal(token: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await keyOf(token), encoder.encode(plaintext)));
  const out = new Uint8Array(iv.length + ciphertext.length);
  out.set(iv, 0);
  out.set(ciphertext, iv.length);
  return base64url(out);
}

/** The plaintext, or undefined when `sealed` was not sealed with `token`. */
export async function unseal(token: string, sealed: string): Promise<string | undefined> {
  const bytes = fromBase64url(sealed);
  if (bytes === undefined || bytes.length < 12 + 16) return undefined;
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes.subarray(0, 12) }, await keyOf(token), bytes.subarray(12));
    return new TextDecoder().decode(plain);
  } catch {
    return undefined;
  }
}
