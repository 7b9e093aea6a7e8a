/**
 * Checks one incoming signed request, cheapest test first: the headers' shape, the timestamp's
 * freshness, the MAC, and only then the nonce (so only authentic requests are remembered).
 */
import type { Result } from '../result.ts';
import type { ReplayGuard } from './replay-guard.ts';
import { readSignatureHeaders, type RequestSigner } from './request-signature.ts';

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

export async function verifySignedRequest(signer: RequestSigner, guard: ReplayGuard, request: IncomingSignedRequest): Promise<Result<void, AuthFailure>> {
  const headers = readSignatureHeaders((name) => request.header(name));
  if (!headers.ok) {
    const unsigned = request.header('sipedge-signature') === undefined;
    return { ok: false, error: { reason: unsigned ? 'unsigned' : 'malformed', detail: headers.detail } };
  }
  if (!guard.isFresh(headers.timestamp)) {
    return { ok: false, error: { reason: 'stale', detail: `the request's timestamp is more than ${guard.maxSkewMs / 1000} s from the node's clock` } };
  }
  const parts = { method: request.method, path: request.path, timestamp: headers.timestamp, nonce: headers.nonce, body: request.body };
  if (!(await signer.verify(parts, headers.signature))) {
    return { ok: false, error: { reason: 'bad-signature', detail: 'the signature does not match the request and the shared secret' } };
  }
  if (!guard.remember(headers.nonce, headers.timestamp)) {
    return { ok: false, error: { reason: 'replayed', detail: 'this nonce was already used' } };
  }
  return { ok: true, value: undefined };
}
