/**
 * Checks one incoming signed request, cheapest test first: the headers' shape, the timestamp's
 * freshness, the MAC, and only then the nonce (so only authentic requests are remembered).
 *
 * Where nonces are remembered is the receiver's business: the media node keeps them in memory
 * (`ReplayGuard`), the edge in its MediaFleet object's SQLite, behind an RPC; hence a `remember`
 * that may be asynchronous.
 */
import { readSignatureHeaders, type RequestSigner } from './request-signature.ts';

/** How far a request's timestamp may be from the receiver's clock, either way. */
export const DEFAULT_MAX_SKEW_MS = 30_000;

export type AuthFailureReason = 'unsigned' | 'malformed' | 'stale' | 'bad-signature' | 'replayed';

export interface AuthFailure {
  readonly reason: AuthFailureReason;
  readonly detail: string;
}

export interface IncomingSignedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: Uint8Array;
  /** A header by lower-case name. */
  header(name: string): string | undefined;
}

/** The replay half of the check: the receiver's clock and its record of nonces. */
export interface NonceGuard {
  readonly maxSkewMs: number;
  /** Whether a request stamped `timestampSeconds` is within `maxSkewMs` of the receiver's clock. */
  isFresh(timestampSeconds: number): boolean;
  /** Records `nonce`; false if it was already recorded (a replay). */
  remember(nonce: string, timestampSeconds: number): boolean | Promise<boolean>;
}

/** When a nonce stamped `timestampSeconds` may be forgotten: past this, its timestamp is stale anyway (a second's margin for rounding). */
export function nonceExpiry(timestampSeconds: number, maxSkewMs: number): number {
  return timestampSeconds * 1000 + maxSkewMs + 1000;
}

export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly error: AuthFailure };

export async function verifySignedRequest(signer: RequestSigner, guard: NonceGuard, request: IncomingSignedRequest): Promise<VerifyResult> {
  const headers = readSignatureHeaders((name) => request.header(name));
  if (!headers.ok) {
    const unsigned = request.header('sipedge-signature') === undefined;
    return { ok: false, error: { reason: unsigned ? 'unsigned' : 'malformed', detail: headers.detail } };
  }
  if (!guard.isFresh(headers.timestamp)) {
    return { ok: false, error: { reason: 'stale', detail: `the request's timestamp is more than ${guard.maxSkewMs / 1000} s from the receiver's clock` } };
  }
  const parts = { method: request.method, path: request.path, timestamp: headers.timestamp, nonce: headers.nonce, body: request.body };
  if (!(await signer.verify(parts, headers.signature))) {
    return { ok: false, error: { reason: 'bad-signature', detail: 'the signature does not match the request and the shared secret' } };
  }
  if (!(await guard.remember(headers.nonce, headers.timestamp))) {
    return { ok: false, error: { reason: 'replayed', detail: 'this nonce was already used' } };
  }
  return { ok: true };
}
