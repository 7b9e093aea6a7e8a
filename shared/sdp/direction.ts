/**
 * Media direction (RFC 8866 §6.7, RFC 3264 §5.1, §6.1, §8.4).
 *
 * A direction attribute at media level overrides one at session level; with neither, a stream is
 * sendrecv. Direction is always from the point of view of the description's author: `sendonly` in
 * an offer means "I will send and do not want to receive", which is how a hold is signalled.
 */

import type { SdpMedia, SdpSession } from './session.ts';
import { connectionOf } from './session.ts';
import { iceParameters } from './ice.ts';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** Where the direction in force came from. */
export type DirectionSource = 'media' | 'session' | 'default';

export interface MediaDirection {
  /** The direction in force, after accounting for an RFC 2543 hold address. */
  readonly direction: Direction;
  /** The direction the attributes state. */
  readonly declared: Direction;
  readonly source: DirectionSource;
  /**
   * True when the section's connection address is `0.0.0.0`. RFC 3264 §8.4: RFC 2543 "specified
   * that placing a user on hold was accomplished by setting the connection address to 0.0.0.0"; old
   * PBXs and phones still do, so the author cannot receive whatever the attribute says. A section
   * that carries ICE credentials is never read this way: with ICE, `c=IN IP4 0.0.0.0` (port 9) is
   * the placeholder of an offer whose candidates come later (RFC 8840 §4.1.1, RFC 8839 §5.1),
   * which werift and browsers send for a call that is anything but on hold.
   */
  readonly legacyHold: boolean;
}

/** The direction in force for a media section of `session`. */
export function mediaDirection(session: SdpSession, media: SdpMedia): MediaDirection {
  const source: DirectionSource = media.direction !== undefined ? 'media' : session.direction !== undefined ? 'session' : 'default';
  const declared = media.direction ?? session.direction ?? 'sendrecv';
  const legacyHold = connectionOf(session, media)?.ip === '0.0.0.0' && iceParameters(session, media) === undefined;
  return { direction: legacyHold ? withoutReceive(declared) : declared, declared, source, legacyHold };
}

/**
 * True when an offer puts the stream on hold: its author no longer wants to receive (`sendonly` or
 * `inactive`, RFC 3264 §8.4), or uses the RFC 2543 `c=0.0.0.0` form.
 */
export function isOnHold(session: SdpSession, media: SdpMedia): boolean {
  return !receives(mediaDirection(session, media).direction);
}

/** A copy of the media section with an explicit direction attribute. */
export function setDirection(media: SdpMedia, direction: Direction): SdpMedia {
  return { ...media, direction };
}

/**
 * The direction an answer gives a stream offered with `offered`, when the answerer itself is willing
 * to `local` (sendrecv by default). RFC 3264 §6.1: a sendonly offer is answered recvonly (or
 * inactive), a recvonly offer sendonly (or inactive), an inactive offer inactive; a sendrecv offer
 * takes whatever the answerer wants.
 */
export function answerDirection(offered: Direction, local: Direction = 'sendrecv'): Direction {
  return directionOf(receives(offered) && sends(local), sends(offered) && receives(local));
}

export function sends(direction: Direction): boolean {
  return direction === 'sendrecv' || direction === 'sendonly';
}

export function receives(direction: Direction): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}

export function directionOf(send: boolean, receive: boolean): Direction {
  if (send && receive) return 'sendrecv';
  if (send) return 'sendonly';
  if (receive) return 'recvonly';
  return 'inactive';
}

function withoutReceive(direction: Direction): Direction {
  return directionOf(sends(direction), false);
}
