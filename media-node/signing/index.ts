// The signing protocol itself lives in shared/signing/ (the edge verifies the node's requests with
// it); the node adds its in-memory record of nonces.
export type { ReplayGuardOptions } from './replay-guard.ts';
export { ReplayGuard } from './replay-guard.ts';
export type { AuthFailure, AuthFailureReason, IncomingSignedRequest, NonceGuard, SignatureHeaders, SignedParts } from '../../shared/signing/index.ts';
export {
  DEFAULT_MAX_SKEW_MS,
  NONCE_HEADER,
  RequestSigner,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  newNonce,
  readSignatureHeaders,
  verifySignedRequest,
} from '../../shared/signing/index.ts';
