/**
 * Signed HTTP requests between the edge and its media nodes (HMAC-SHA-256, timestamp and nonce),
 * both ways. Not SIP: a layer of its own that imports nothing.
 */
export type { SignatureHeaders, SignedParts } from './request-signature.ts';
export { NONCE_HEADER, RequestSigner, SIGNATURE_HEADER, TIMESTAMP_HEADER, newNonce, readSignatureHeaders } from './request-signature.ts';
export type { AuthFailure, AuthFailureReason, IncomingSignedRequest, NonceGuard, VerifyResult } from './verify-request.ts';
export { DEFAULT_MAX_SKEW_MS, nonceExpiry, verifySignedRequest } from './verify-request.ts';
