/** Digest authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760): both the challenging and the answering side. */
export { DigestParseError } from './auth-params.ts';
export type { AuthParam } from './auth-params.ts';
export {
  DIGEST_ALGORITHMS,
  computeDigestResponse,
  computeHA1,
  computeHA2,
  digestHex,
  digestsEqual,
  hashOf,
  isSessionAlgorithm,
  secretSupports,
  toDigestAlgorithm,
  userHA1,
  userhashOf,
} from './digest-hash.ts';
export type { DigestAccount, DigestAlgorithm, DigestHashName, DigestResponseInput, DigestSecret } from './digest-hash.ts';
export { parseChallenge, parseChallenges, parseCredentials, serializeChallenge, serializeCredentials } from './digest-params.ts';
export type { DigestChallenge, DigestCredentials } from './digest-params.ts';
export { createNonce, nonceIssuedAt } from './digest-nonce.ts';
export type { NonceSecret } from './digest-nonce.ts';
export { checkNonceCount, createNonceCounts, MAX_TRACKED_NONCES, nonceCountEntry, pruneNonceCounts, recordNonceCount } from './nonce-counts.ts';
export type { NonceCountCheck, NonceCountEntry, NonceCounts } from './nonce-counts.ts';
export { DEFAULT_NONCE_LIFETIME_MS, createChallenge, createChallenges, verifyCredentials } from './digest-server.ts';
export type { ChallengeOptions, DigestFailureReason, DigestVerification, VerifyOptions } from './digest-server.ts';
export { answerChallenge, authorize, createDigestClientState, credentialsHeaderName, selectChallenge } from './digest-client.ts';
export type { AnswerChallengeOptions, Authorization, AuthorizeOptions, ChallengeAnswer, DigestClientState, SelectedChallenge } from './digest-client.ts';
