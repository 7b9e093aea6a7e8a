/**
 * When an outbound registration tries again, and how each failure is classed: the rules of
 * Asterisk's res_pjsip_outbound_registration (`handle_registration_response`), so that a link
 * configured like an Asterisk registration behaves like one.
 */
import type { PbxLinkConfig } from './link-config.ts';

/** Asterisk's REREGISTER_BUFFER_TIME: a refresh goes this many seconds before the binding expires. */
export const REREGISTER_BUFFER_SECONDS = 10;

/** A source of uniform numbers in [0, 1): `Math.random` unless a test fixes it. */
export type Random = () => number;

/**
 * Milliseconds from a 2xx to the refresh: like Asterisk, `REREGISTER_BUFFER_SECONDS` before the
 * granted expiry, but never sooner than half-way, so that a short expiry (a registrar may grant
 * less than asked, RFC 3261 §10.2.4) does not make the link re-register in a tight loop.
 */
export function refreshDelayMs(grantedSeconds: number): number {
  return (grantedSeconds - Math.min(REREGISTER_BUFFER_SECONDS, grantedSeconds / 2)) * 1000;
}

/**
 * Asterisk's `sip_outbound_registration_is_temporal` (taken from pjsua): responses that say "try
 * again later" rather than "no". 401/407 are temporal only when `auth_rejection_permanent` is off.
 * A transaction timeout counts as 408 and a transport failure as 503 (RFC 3261 §8.1.3.1).
 */
export function isTemporal(status: number, config: PbxLinkConfig): boolean {
  if (status === 408 || status === 500 || status === 502 || status === 503 || status === 504) return true;
  if ((status === 401 || status === 407) && !config.auth_rejection_permanent) return true;
  return status >= 600 && status < 700;
}

/**
 * A retry `seconds` from now, jittered down by up to a tenth so that links refused together (a
 * registrar restarting, a trunk outage) do not come back in lock-step; never later than configured.
 */
export function jitteredDelayMs(seconds: number, random: Random): number {
  return Math.round(seconds * 1000 * (1 - 0.1 * random()));
}

/**
 * Asterisk's `max_random_initial_delay`: the first REGISTER after start-up or a configuration
 * change waits a random time below it, so that many links starting together spread out.
 */
export function initialDelayMs(config: PbxLinkConfig, random: Random): number {
  return Math.floor(random() * config.max_random_initial_delay * 1000);
}

const RECONNECT_BASE_MS = 1000;
const RECONNECT_CAP_MS = 60_000;

/**
 * After the connection of a registered link closes: exponential backoff from 1 s, capped at 60 s,
 * with "equal jitter" (half fixed, half random). `losses` counts the flows lost in a row (1 for the
 * first), so a server that accepts and then drops every connection is not hammered.
 */
export function reconnectDelayMs(losses: number, random: Random): number {
  const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** Math.max(0, losses - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * RFC 3261 §20.33: `Retry-After: delta-seconds [comment] *(;params)`; the seconds, or undefined
 * when the header is absent or does not start with a number.
 */
export function retryAfterSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(\d{1,10})/.exec(value);
  if (match === null) return undefined;
  const seconds = Number(match[1]);
  return seconds > 0 ? seconds : undefined;
}
