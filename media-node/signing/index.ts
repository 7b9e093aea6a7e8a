export type { ReplayGuardOptions } from './replay-guard.ts';
export { DEFAULT_MAX_SKEW_MS, ReplayGuard } from './replay-guard.ts';
export type { SignatureHeaders, SignedParts } from './request-signature.ts';
export { NONCE_HEADER, RequestSigner, SIGNATURE_HEADER, TIMESTAMP_HEADER, newNonce, readSignatureHeaders } from './request-signature.ts';
export type { AuthFailure, AuthFailureReason, IncomingSignedRequest } from './verify-request.ts';
export { verifySignedRequest } from './verify-request.ts';
