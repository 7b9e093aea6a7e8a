/**
 * The one answer a caller gets when every branch of the fork failed: RFC 3261 §16.7 step 6 picks
 * the "best" final response, which for a B2BUA in front of a user's own devices reads as:
 *
 * 1. a 6xx from any device wins (RFC 3261 §16.7: 6xx means no device will take the call; 603
 *    Decline is a user pressing "reject");
 * 2. branches cancelled by the edge (487) say nothing about the callee; if nothing else is left,
 *    the answer is 487;
 * 3. every device that answered said busy (486, 600): 486 Busy Here;
 * 4. no device could be reached (timeout 408, 480, a failed flow 430, 503, or one that asked the
 *    edge itself for credentials): 480 Temporarily Unavailable, which is also the answer when
 *    nobody is registered;
 * 5. otherwise the lowest other failure (a 488 from every device that cannot take the offer).
 */
import { reasonPhrase } from '../../shared/message/index.ts';

export interface ForkFailure {
  readonly status: number;
  readonly reason: string;
}

const BUSY = new Set([486, 600]);
const UNREACHABLE = new Set([401, 404, 407, 408, 410, 430, 480, 503]);

export const NOBODY_REGISTERED: ForkFailure = { status: 480, reason: 'Temporarily Unavailable' };

export function forkFailure(statuses: readonly number[]): ForkFailure {
  const global = statuses.find((status) => status >= 600);
  if (global !== undefined) return { status: global, reason: reasonPhrase(global) };
  const heard = statuses.filter((status) => status !== 487);
  if (heard.length === 0) return statuses.length === 0 ? NOBODY_REGISTERED : { status: 487, reason: 'Request Terminated' };
  const reachable = heard.filter((status) => !UNREACHABLE.has(status));
  if (reachable.length === 0) return NOBODY_REGISTERED;
  if (reachable.every((status) => BUSY.has(status))) return { status: 486, reason: 'Busy Here' };
  const other = Math.min(...reachable.filter((status) => !BUSY.has(status)));
  return { status: other, reason: reasonPhrase(other) };
}
