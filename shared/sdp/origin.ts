/**
 * The `o=` line across a session's life (RFC 8866 §5.2, RFC 3264 §8).
 *
 * RFC 3264 §8: "When issuing an offer that modifies the session, the "o=" line of the new SDP MUST
 * be identical to that in the previous SDP, except that the version in the origin field MUST
 * increment by one from the previous SDP. If the version in the origin line does not increment, the
 * SDP MUST be identical to the SDP with that version number." PJSIP-based PBXs such as Asterisk take a
 * re-offer whose version did not move to change nothing, so a forgotten increment loses a hold.
 */

import { ipVersionOf, type SdpOrigin, type SdpSession } from './session.ts';
import { serializeSdp } from './serialize-sdp.ts';
import { SdpError } from './sdp-error.ts';

export interface NewOriginOptions {
  /** The originator's address; RFC 8866 §5.2 allows any address of the host, it is not used for media. */
  readonly address: string;
  /** `-` by default, RFC 8866 §5.2's value for hosts without user ids, which also reveals nothing. */
  readonly username?: string;
  /** Decimal digits; a random 62-bit number by default. */
  readonly sessionId?: string;
  /** Decimal digits; `1` by default. */
  readonly sessionVersion?: string;
}

/**
 * An origin for a new session. RFC 8866 §5.2 leaves the session id's allocation to the tool and
 * asks only that origin fields be globally unique; 62 random bits are, and stay below 2^63 for
 * peers that read the id as a signed 64-bit integer.
 */
export function newOrigin(options: NewOriginOptions): SdpOrigin {
  const sessionId = options.sessionId ?? randomSessionId();
  const sessionVersion = options.sessionVersion ?? '1';
  if (!/^\d+$/.test(sessionId) || !/^\d+$/.test(sessionVersion)) {
    throw new SdpError('invalid-argument', 'an origin session id and version are decimal digits (RFC 8866 §5.2)');
  }
  return {
    username: options.username ?? '-',
    sessionId,
    sessionVersion,
    netType: 'IN',
    ipVer: ipVersionOf(options.address),
    address: options.address,
  };
}

/** The origin of the next description of a session: the same, with the version one higher when it changed. */
export function nextOrigin(previous: SdpOrigin, changed: boolean): SdpOrigin {
  if (!changed) return { ...previous };
  return { ...previous, sessionVersion: (BigInt(previous.sessionVersion) + 1n).toString() };
}

/** True when two descriptions say the same thing, apart from their `o=` lines. */
export function sameSdpContent(a: SdpSession, b: SdpSession): boolean {
  return serializeSdp({ ...a, origin: b.origin }) === serializeSdp(b);
}

/**
 * The description to send on a leg that already sent `previous`: `next` under `previous`'s origin,
 * its version incremented by exactly one if anything changed, and unchanged if nothing did. With no
 * previous description, `next` is the first and is returned as is.
 */
export function reviseSdp(previous: SdpSession | undefined, next: SdpSession): SdpSession {
  if (previous === undefined) return next;
  return { ...next, origin: nextOrigin(previous.origin, !sameSdpContent(previous, next)) };
}

function randomSessionId(): string {
  const words = crypto.getRandomValues(new Uint32Array(2));
  const high = BigInt((words[0] ?? 0) >>> 2);
  const low = BigInt(words[1] ?? 0);
  return ((high << 32n) | low).toString();
}
