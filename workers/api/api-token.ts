/**
 * The bearer tokens of `/api/v1` as strings: `sipedge.<domain>.<id>.<secret>`, the domain in
 * base64url so that the edge knows which Directory holds the token, a public id (for listing and
 * revoking) and 256 random bits of secret.
 *
 * At rest only the SHA-256 of the secret is kept. A slow password hash (bcrypt, scrypt, Argon2)
 * protects secrets a person chose, which an attacker can guess; 256 random bits cannot be guessed,
 * so a stolen table of SHA-256 digests yields nothing, and every API request stays one fast hash.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PREFIX = 'sipedge';

export interface TokenParts {
  readonly domain: string;
  readonly id: string;
  readonly secret: string;
}

/** RFC 4648 §5, unpadded. */
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** The bytes of unpadded base64url `text`, or undefined when it is not that. */
export function fromBase64url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    return Uint8Array.from(atob(text.replaceAll('-', '+').replaceAll('_', '/')), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function randomText(bytes: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** A new token for `domain`: its parts and the string given once to its holder. */
export function newToken(domain: string): TokenParts & { readonly token: string } {
  const parts = { domain, id: randomText(9), secret: randomText(32) };
  return { ...parts, token: `${PREFIX}.${base64url(encoder.encode(domain))}.${parts.id}.${parts.secret}` };
}

/** The parts of a token string, or undefined when it is not one. */
export function parseToken(token: string): TokenParts | undefined {
  const [prefix, domain, id, secret, ...rest] = token.split('.');
  if (prefix !== PREFIX || domain === undefined || id === undefined || secret === undefined || rest.length > 0) return undefined;
  const domainBytes = fromBase64url(domain);
  if (domainBytes === undefined || domainBytes.length === 0 || !/^[A-Za-z0-9_-]{12}$/.test(id) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return undefined;
  return { domain: decoder.decode(domainBytes), id, secret };
}

/** What the Directory stores for `secret`: its SHA-256, in hex. */
export async function secretDigest(secret: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(secret)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
