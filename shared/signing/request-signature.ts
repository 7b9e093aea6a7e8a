/**
 * Signed requests between the edge and a media node, both ways (the edge's control calls, the
 * node's heartbeats and session-end reports): HMAC-SHA-256 with the shared secret over
 *
 *   "sipedge-v1" LF METHOD LF path-and-query LF timestamp LF nonce LF body
 *
 * carried in three headers: `Sipedge-Timestamp` (Unix seconds), `Sipedge-Nonce` (16-64 URL-safe
 * characters, fresh per request) and `Sipedge-Signature` (`v1=` and the MAC in lower-case hex).
 * The timestamp bounds how long a captured request stays usable and the nonce, remembered for that
 * long, makes it usable once (see `replay-guard.ts`). The body is signed as sent, byte for byte.
 *
 * WebCrypto only, in `shared/` so both sides sign and verify with this same module: the media node
 * (its control API, its reports to the edge) and the edge Worker (heartbeats, session ends).
 */

export const TIMESTAMP_HEADER = 'sipedge-timestamp';
export const NONCE_HEADER = 'sipedge-nonce';
export const SIGNATURE_HEADER = 'sipedge-signature';

const VERSION = 'v1';
const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
const TIMESTAMP_PATTERN = /^\d{1,12}$/;
const SIGNATURE_PATTERN = /^v1=([0-9a-f]{64})$/;

export interface SignedParts {
  readonly method: string;
  /** The request target as sent: path and query, e.g. `/v1/sessions/abc?x=1`. */
  readonly path: string;
  /** Unix seconds. */
  readonly timestamp: number;
  readonly nonce: string;
  readonly body: Uint8Array;
}

/** The three headers of a signed request, already lower-case. */
export type SignatureHeaders = Readonly<Record<typeof TIMESTAMP_HEADER | typeof NONCE_HEADER | typeof SIGNATURE_HEADER, string>>;

const encoder = new TextEncoder();

export class RequestSigner {
  readonly #key: Promise<CryptoKey>;

  constructor(secret: string) {
    this.#key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  }

  /** Headers that sign a request; `nowMs` and `nonce` are for tests. */
  async sign(request: { method: string; path: string; body?: Uint8Array | string }, nowMs = Date.now(), nonce = newNonce()): Promise<SignatureHeaders> {
    const timestamp = Math.floor(nowMs / 1000);
    const body = typeof request.body === 'string' ? encoder.encode(request.body) : (request.body ?? new Uint8Array(0));
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await this.#key, signedBytes({ method: request.method, path: request.path, timestamp, nonce, body })));
    return { [TIMESTAMP_HEADER]: String(timestamp), [NONCE_HEADER]: nonce, [SIGNATURE_HEADER]: `${VERSION}=${toHex(mac)}` };
  }

  /** Whether `signature` (the header's value) signs `parts`; the comparison is WebCrypto's, in constant time. */
  async verify(parts: SignedParts, signature: string): Promise<boolean> {
    const match = SIGNATURE_PATTERN.exec(signature);
    if (match === null) return false;
    return crypto.subtle.verify('HMAC', await this.#key, fromHex(match[1] as string), signedBytes(parts));
  }
}

/** The three headers read and checked for shape, or which is wrong. */
export function readSignatureHeaders(
  get: (name: string) => string | undefined,
): { ok: true; timestamp: number; nonce: string; signature: string } | { ok: false; detail: string } {
  const timestamp = get(TIMESTAMP_HEADER);
  const nonce = get(NONCE_HEADER);
  const signature = get(SIGNATURE_HEADER);
  if (timestamp === undefined || nonce === undefined || signature === undefined) {
    return { ok: false, detail: `a signed request carries the ${TIMESTAMP_HEADER}, ${NONCE_HEADER} and ${SIGNATURE_HEADER} headers` };
  }
  if (!TIMESTAMP_PATTERN.test(timestamp)) return { ok: false, detail: `${TIMESTAMP_HEADER} must be Unix seconds` };
  if (!NONCE_PATTERN.test(nonce)) return { ok: false, detail: `${NONCE_HEADER} must be 16-64 letters, digits, '-' or '_'` };
  if (!SIGNATURE_PATTERN.test(signature)) return { ok: false, detail: `${SIGNATURE_HEADER} must be v1= and 64 lower-case hex digits` };
  return { ok: true, timestamp: Number(timestamp), nonce, signature };
}

/** 128 random bits, base64url: unguessable and never repeated in practice. */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function signedBytes(parts: SignedParts): Uint8Array<ArrayBuffer> {
  // The fields before the body cannot hold a line feed (method and path are HTTP tokens, the
  // others are checked above), so the framing is unambiguous.
  const head = encoder.encode(`sipedge-${VERSION}\n${parts.method.toUpperCase()}\n${parts.path}\n${parts.timestamp}\n${parts.nonce}\n`);
  const out = new Uint8Array(head.length + parts.body.length);
  out.set(head, 0);
  out.set(parts.body, head.length);
  return out;
}

function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
