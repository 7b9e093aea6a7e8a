/**
 * Session timers (RFC 4028) through the B2BUA. The devices negotiate the interval and the refresher
 * end to end: Session-Expires, Min-SE and the `timer` option tag pass from one leg to the other
 * (`relay-content.ts`), and since the edge is the UAC of the callee's leg on the caller's behalf
 * (and the other way round for a request from the callee), `refresher=uac` and `refresher=uas`
 * name the same device on both legs. What the edge adds:
 *
 * - RFC 4028 §9 (as UAS of every INVITE and UPDATE a device sends it): a Session-Expires below the
 *   edge's minimum is refused with 422 (Session Interval Too Small) and a Min-SE naming that
 *   minimum; §4: it is never below 90 seconds.
 * - RFC 4028 §8.2, what a session-timer-aware proxy does with the 2xx: when the caller asked for a
 *   session timer and said `Supported: timer`, but the callee's device answered without one, the
 *   edge puts Session-Expires (the caller's interval, `refresher=uac`) and `Require: timer` into
 *   the 2xx, so the caller refreshes (§7.2) and the edge can still tell a live call from a dead one.
 * - RFC 4028 §10: "If the side not performing refreshes does not receive a session refresh request
 *   before the session expiration, it SHOULD send a BYE". Each half keeps its leg's expiry as the
 *   `session` timer on the alarm, re-armed by every 2xx to an INVITE or UPDATE on the leg (a 2xx
 *   without Session-Expires turns it off, §7.2). A device does that itself slightly before the
 *   expiry; the edge waits for the expiry proper and then ends the call with BYE on both legs, for
 *   the devices that are gone (a closed tab sends no BYE).
 * - RFC 4028 §7.3, toward a PBX (a PbxLink's callee half): a 422 to the edge's INVITE is not the
 *   call's answer: the INVITE goes again, once, with Session-Expires and Min-SE raised to the 422's
 *   Min-SE (PBXs that demand 90 s or more, where browsers ask less or nothing), the same Call-ID,
 *   From and To, the CSeq one higher and a new Via branch. A device's 422 goes back to its caller.
 */
import { getCSeq, getHeader, getHeaders, serializeMessage, setHeader, type HeaderField, type SipMessage, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { generateBranch } from '../../shared/transaction/index.ts';
import type { Branch } from './call-half.ts';
import type { CallStep } from './call-step.ts';
import { parseRequest } from './dialog-relay.ts';
import { linkIdOf } from './peer-event.ts';
import { withHeader } from './relay-content.ts';

/** RFC 4028 §4: "the minimum value of the session interval is 90 seconds" (and Min-SE's default). */
export const MIN_SE_FLOOR = 90;

export interface SessionExpires {
  readonly seconds: number;
  readonly refresher?: 'uac' | 'uas';
}

/** RFC 4028 §4: `Session-Expires: delta-seconds *(;se-params)`; undefined when absent or malformed. */
export function sessionExpiresOf(message: SipMessage): SessionExpires | undefined {
  const value = getHeader(message, 'Session-Expires');
  if (value === undefined) return undefined;
  const [delta, ...params] = value.split(';').map((part) => part.trim());
  if (delta === undefined || !/^\d{1,10}$/.test(delta)) return undefined;
  const refresher = params.map((param) => param.split('=').map((side) => side.trim().toLowerCase())).find(([name]) => name === 'refresher')?.[1];
  return { seconds: Number(delta), ...(refresher === 'uac' || refresher === 'uas' ? { refresher } : {}) };
}

/** RFC 4028 §5: `Min-SE: delta-seconds`; undefined when absent or malformed. */
export function minSeOf(message: SipMessage): number | undefined {
  const delta = getHeader(message, 'Min-SE')?.split(';')[0]?.trim();
  return delta !== undefined && /^\d{1,10}$/.test(delta) ? Number(delta) : undefined;
}

/**
 * The 422 a session refresh (or the INVITE that starts the session) gets when its Session-Expires
 * is below what the edge allows; undefined when it may go on.
 */
export function intervalTooSmall(request: SipRequest, minimumSeconds: number): { readonly status: 422; readonly reason: string; readonly headers: readonly HeaderField[] } | undefined {
  if (request.method !== 'INVITE' && request.method !== 'UPDATE') return undefined;
  const expires = sessionExpiresOf(request);
  if (expires === undefined) return undefined;
  const minimum = Math.max(minimumSeconds, MIN_SE_FLOOR, minSeOf(request) ?? 0);
  if (expires.seconds >= minimum) return undefined;
  return { status: 422, reason: 'Session Interval Too Small', headers: [{ name: 'Min-SE', value: String(minimum) }] };
}

/**
 * RFC 4028 §8.2: the header fields the 2xx to the caller's INVITE gets when the callee's device
 * answered without a session timer that the caller asked for: none when the answer has one, or
 * when the caller cannot refresh (no `Supported: timer`).
 */
export function sessionTimerForCaller(invite: SipRequest, answerHeaders: readonly HeaderField[]): HeaderField[] {
  if (answerHeaders.some((field) => field.name.toLowerCase() === 'session-expires' || field.name.toLowerCase() === 'x')) return [];
  const asked = sessionExpiresOf(invite);
  if (asked === undefined || !getHeaders(invite, 'Supported').some((tag) => tag.toLowerCase() === 'timer')) return [];
  return [
    { name: 'Session-Expires', value: `${asked.seconds};refresher=uac` },
    { name: 'Require', value: 'timer' },
  ];
}

/**
 * RFC 4028 §8.2, the proxy that asked for a session timer keeps it working: a bodiless UPDATE that
 * only refreshes the session, refused by the other device because it does not do UPDATE (405 or
 * 501: SIP.js 0.21), is answered 200 by the edge with the interval asked, so the refresher's
 * session (and this half's timer) goes on. The headers of that 200, or undefined to relay the refusal.
 */
export function refreshAnsweredByEdge(method: string, request: SipRequest, status: number): HeaderField[] | undefined {
  if (method !== 'UPDATE' || (status !== 405 && status !== 501) || request.body.length > 0) return undefined;
  const asked = sessionExpiresOf(request);
  if (asked === undefined) return undefined;
  return [{ name: 'Session-Expires', value: `${asked.seconds};refresher=${asked.refresher ?? 'uac'}` }, { name: 'Require', value: 'timer' }];
}

/**
 * This half's device refused an UPDATE because it does not do UPDATE: it takes no part in the
 * session timer, whose refreshes the edge answers on the other leg (`refreshAnsweredByEdge`); the
 * refresher's half keeps its timer, so a refresher that is gone still ends the call.
 */
export function noteRefreshRefused(step: CallStep, method: string, status: number): void {
  if (method === 'UPDATE' && (status === 405 || status === 501) && step.half.timers.some((entry) => entry.key === 'session')) step.clearTimer('session');
}

/** A 2xx to an INVITE or UPDATE went through this half's leg: the session's expiry starts again (RFC 4028 §7.2, §9). */
export function noteSessionRefresh(step: CallStep, method: string, response: SipResponse | undefined): void {
  if (response === undefined || response.status < 200 || response.status >= 300) return;
  if (method !== 'INVITE' && method !== 'UPDATE') return;
  const expires = sessionExpiresOf(response);
  if (expires === undefined) {
    // RFC 4028 §7.2: "If the 2xx response did not contain a Session-Expires header field, there is
    // no session expiration."
    if (step.half.timers.some((entry) => entry.key === 'session')) step.clearTimer('session');
    return;
  }
  step.setTimer('session', step.now + expires.seconds * 1000);
}

/** True when the branch's INVITE went again with the PBX's Min-SE (RFC 4028 §7.3); false when the 422 is the branch's answer. */
export function retryWithMinSe(step: CallStep, branch: Branch, response: SipResponse): boolean {
  const minSe = minSeOf(response);
  if (linkIdOf(step.half.aor) === undefined || branch.minSeRetried === true || minSe === undefined) return false;
  const previous = parseRequest(branch.request);
  const asked = sessionExpiresOf(previous);
  const seconds = Math.max(minSe, MIN_SE_FLOOR, asked?.seconds ?? 0);
  const seq = getCSeq(previous)?.seq ?? 1;
  const via = getHeaders(previous, 'Via')[0] ?? '';
  let request = setHeader(previous, 'Via', via.replace(/;branch=[^;,\s]*/i, `;branch=${generateBranch()}`));
  request = setHeader(request, 'CSeq', `${seq + 1} INVITE`);
  const value = `${seconds}${asked?.refresher === undefined ? '' : `;refresher=${asked.refresher}`}`;
  request = getHeader(request, 'Session-Expires') === undefined ? withHeader(request, 'Session-Expires', value) : setHeader(request, 'Session-Expires', value);
  request = getHeader(request, 'Min-SE') === undefined ? withHeader(request, 'Min-SE', `${seconds}`) : setHeader(request, 'Min-SE', `${seconds}`);
  // No `Supported: timer` is added: a caller that does not refresh leaves the refreshing to the PBX (RFC 4028 §9: refresher=uas).
  const key = step.sendRequest(request, branch.device.connectionId, { kind: 'branch', index: branch.index });
  step.forget(branch.key);
  const setup = step.half.setup;
  if (setup.kind !== 'callee') return true;
  const patch: Partial<Branch> = { key, request: serializeMessage(request), minSeRetried: true, state: 'calling' };
  step.update({ setup: { ...setup, branches: setup.branches.map((each) => (each.index === branch.index ? { ...each, ...patch } : each)) } });
  step.log('info', 'call.min-se-retried', { minSe, sessionExpires: seconds });
  return true;
}
