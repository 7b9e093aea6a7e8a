/**
 * DTLS-SRTP parameters in SDP: the certificate fingerprint (RFC 8122 §5) and the connection role
 * `a=setup` (RFC 4145 §4, applied to DTLS by RFC 5763 §5).
 */

import { SdpError } from './sdp-error.ts';
import type { SdpMedia, SdpSession } from './session.ts';

export interface DtlsFingerprint {
  /** The hash function, lower-cased: `sha-256` (RFC 8122 §5 compares it case-insensitively). */
  readonly hash: string;
  /** Colon-separated upper-case hex octets, as RFC 8122 §5 writes them. */
  readonly value: string;
}

export type SetupRole = 'actpass' | 'active' | 'passive' | 'holdconn';

const SETUP_ROLES: readonly string[] = ['actpass', 'active', 'passive', 'holdconn'];

/**
 * The fingerprint in force for a media section: media level over session level (RFC 8122 §5 allows
 * both; Firefox writes it at session level, Chrome per section). Only one fingerprint per level is
 * read, since sdp-transform keeps the last `a=fingerprint` line of each.
 */
export function dtlsFingerprint(session: SdpSession, media: SdpMedia): DtlsFingerprint | undefined {
  const fingerprint = media.fingerprint ?? session.fingerprint;
  if (fingerprint === undefined) return undefined;
  return { hash: fingerprint.type.toLowerCase(), value: fingerprint.hash.toUpperCase() };
}

/** A copy of the media section carrying `fingerprint`. */
export function setDtlsFingerprint(media: SdpMedia, fingerprint: DtlsFingerprint): SdpMedia {
  return { ...media, fingerprint: { type: fingerprint.hash, hash: fingerprint.value } };
}

/**
 * The `a=setup` role in force for a media section, media level over session level, or undefined
 * when absent. Throws `SdpError` for a value RFC 4145 §4 does not define.
 */
export function setupRole(session: SdpSession, media: SdpMedia): SetupRole | undefined {
  const setup = media.setup ?? session.setup;
  if (setup === undefined) return undefined;
  if (!isSetupRole(setup)) throw new SdpError('invalid-attribute', `a=setup:${setup} is not actpass, active, passive or holdconn (RFC 4145 §4)`);
  return setup;
}

/** A copy of the media section with an explicit `a=setup` role. */
export function setSetupRole(media: SdpMedia, role: SetupRole): SdpMedia {
  return { ...media, setup: role };
}

/**
 * The role an answer takes for an offered role. RFC 5763 §5: the offerer uses actpass and "the
 * answerer MUST use either a setup attribute value of setup:active or setup:passive"; active "allows
 * the answer and the DTLS handshake to occur in parallel. Thus, setup:active is RECOMMENDED", and it
 * is what sipedge answers unless told otherwise. An offer without `a=setup` is `active` by RFC 4145
 * §4.1's default, so the answer is `passive`.
 */
export function answerSetupRole(offered: SetupRole | undefined, prefer: 'active' | 'passive' = 'active'): SetupRole {
  switch (offered) {
    case 'actpass':
      return prefer;
    case 'active':
    case undefined:
      return 'passive';
    case 'passive':
      return 'active';
    case 'holdconn':
      return 'holdconn';
  }
}

function isSetupRole(value: string): value is SetupRole {
  return SETUP_ROLES.includes(value);
}
