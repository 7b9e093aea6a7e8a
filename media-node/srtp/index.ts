export { SrtpReceiver, SrtpSender, type MasterKey, type SrtpRefusal, type SrtpSuite, type Unprotected } from './srtp-context.ts';
export { GCM_MASTER_SALT_OCTETS, MASTER_KEY_OCTETS, MASTER_SALT_OCTETS, deriveSessionKeys, type SessionKeys } from './srtp-key-derivation.ts';
export { AesGcmTransform } from './aes-gcm-transform.ts';
export { SDES_SUITE, chooseSdesKey, isSavp, newMasterKey, sdesLine } from './sdes-keying.ts';
