export { AUTH_TAG_OCTETS, SrtpReceiver, SrtpSender, type MasterKey, type SrtpRefusal, type Unprotected } from './srtp-context.ts';
export { MASTER_KEY_OCTETS, MASTER_SALT_OCTETS, deriveSessionKeys, type SessionKeys } from './srtp-key-derivation.ts';
export { SDES_SUITE, chooseSdesKey, isSavp, newMasterKey, sdesLine } from './sdes-keying.ts';
