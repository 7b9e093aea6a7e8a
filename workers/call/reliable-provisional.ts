/**
 * Reliable provisional responses and PRACK (RFC 3262) through the B2BUA, relayed end to end when
 * the caller supports them: the `100rel` option tag crosses in Supported and Require
 * (`relay-content.ts`), so a callee's device sends its 18x reliably only when the caller's device
 * can acknowledge it.
 *
 * ```
 *   caller's device        caller's half                 callee's half          callee's device
 *                                                        branch <--- 18x, Require: 100rel, RSeq: n
 *        <--- 18x, Require: 100rel, RSeq: n (again every T1, doubling, until the PRACK)
 *   PRACK, RAck: n c INVITE --> matched, relayed --------> PRACK, RAck: n c' INVITE on the
 *                                                        branch's early dialog ----------->
 *        <--- 200 (PRACK) <--------------- answer <---------------------------- 200 (PRACK)
 * ```
 *
 * - One branch's reliable responses reach the caller (the first one to send one): the caller has
 *   one early dialog and one RSeq space, and the edge reuses that branch's RSeq numbers, which
 *   already run one by one (RFC 3262 §3). Reliable responses of the other branches are PRACKed by
 *   the edge itself and reach the caller as plain provisionals (unless the caller required 100rel:
 *   then not at all, since every provisional it gets must then be reliable).
 * - RFC 3262 §4: a retransmission (an RSeq already seen on the branch) is dropped, not PRACKed again.
 * - RFC 3262 §3: "The UAS MUST NOT send a second reliable provisional response until the first is
 *   acknowledged": the callee's device keeps that rule on its leg, and its PRACK comes only after
 *   the caller's, so the caller's leg keeps it too.
 * - RFC 3262 §3: a PRACK that "does not match any unacknowledged reliable provisional response"
 *   gets 481; "If a reliable provisional response is retransmitted for 64*T1 seconds without
 *   reception of a corresponding PRACK, the UAS SHOULD reject the original request with a 5xx".
 * - The PRACK the edge sends takes the next CSeq of the branch's early dialog; the dialog the 2xx
 *   confirms goes on from there (`confirmedDialog`), or the device would refuse the next request
 *   as out of order.
 */
import { createDialogRequest, createUacDialog, incomingRequestDialogId, receiveDialogRequest, type Dialog } from '../../shared/dialog/index.ts';
import { createResponse, getCSeq, getHeader, getHeaders, serializeMessage, type HeaderField, type SipMessage, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { edgeVia } from '../sip/edge-ua.ts';
import type { Branch, HalfCall } from './call-half.ts';
import type { CallStep } from './call-step.ts';
import { parseRequest, relayToPeer, sameDialog } from './dialog-relay.ts';
import type { PeerEvent } from './peer-event.ts';
import { contentOf, EMPTY_CONTENT } from './relay-content.ts';

/** RFC 3261 §17.1.1.1: T1, the first retransmission interval (RFC 3262 §3 reuses it). */
const T1_MS = 500;

type RequestEvent = Extract<PeerEvent, { type: 'request' }>;

/** A reliable provisional response the caller has not acknowledged yet (the caller's half). */
export interface PendingReliable {
  readonly rseq: number;
  /** The response as sent, sent again until the PRACK. */
  readonly wire: string;
  readonly interval: number;
  readonly giveUpAt: number;
}

function hasTag(message: SipMessage, header: 'Supported' | 'Require', tag: string): boolean {
  return getHeaders(message, header).some((value) => value.toLowerCase() === tag);
}

/** RFC 3262 §7.1: `RSeq: 1*DIGIT`. */
function rseqOf(message: SipMessage): number | undefined {
  const value = getHeader(message, 'RSeq')?.trim();
  return value !== undefined && /^\d{1,10}$/.test(value) ? Number(value) : undefined;
}

/** RFC 3262 §7.2: `RAck: response-num CSeq-num Method`. */
function rackOf(message: SipMessage): { readonly rseq: number; readonly cseq: number; readonly method: string } | undefined {
  const parts = getHeader(message, 'RAck')?.trim().split(/\s+/);
  if (parts?.length !== 3 || !/^\d{1,10}$/.test(parts[0]!) || !/^\d{1,10}$/.test(parts[1]!)) return undefined;
  return { rseq: Number(parts[0]), cseq: Number(parts[1]), method: parts[2]!.toUpperCase() };
}

/** A provisional response with `Require: 100rel` and an RSeq: the sender waits for a PRACK. */
export function isReliable(response: SipResponse): boolean {
  return response.status > 100 && hasTag(response, 'Require', '100rel') && rseqOf(response) !== undefined;
}

/** Require without 100rel: for a provisional passed to the caller as a plain one. */
export function withoutReliability(headers: readonly HeaderField[]): HeaderField[] {
  return headers.flatMap((field) => {
    if (field.name.toLowerCase() !== 'require') return [field];
    const tags = field.value.split(',').map((tag) => tag.trim()).filter((tag) => tag.length > 0 && tag.toLowerCase() !== '100rel');
    return tags.length === 0 ? [] : [{ name: field.name, value: tags.join(', ') }];
  });
}

export type BranchReliability =
  /** Not reliable: pass it on as it is. */
  | { readonly kind: 'unreliable' }
  /** A retransmission: drop it. */
  | { readonly kind: 'duplicate' }
  /** Relay it to the caller reliably, with this RSeq; the caller's PRACK comes back to the branch. */
  | { readonly kind: 'relay'; readonly rseq: number }
  /** PRACKed by the edge; pass it on as a plain provisional, or not at all when the caller requires 100rel. */
  | { readonly kind: 'absorbed'; readonly callerRequires: boolean };

/** The callee's half got a provisional response on a branch: decides who acknowledges it. */
export function receiveBranchProvisional(step: CallStep, branch: Branch, response: SipResponse, relayable: boolean): BranchReliability {
  const rseq = rseqOf(response);
  if (!isReliable(response) || rseq === undefined) return { kind: 'unreliable' };
  if (branch.rseq !== undefined && rseq <= branch.rseq) return { kind: 'duplicate' };
  const invite = parseRequest(branch.request);
  const early = branch.early ?? createUacDialog(invite, response);
  const setup = step.half.setup;
  if (setup.kind !== 'callee') return { kind: 'unreliable' };
  const callerSupports = hasTag(invite, 'Supported', '100rel') || hasTag(invite, 'Require', '100rel');
  if (relayable && callerSupports && (setup.reliableBranch === undefined || setup.reliableBranch === branch.index)) {
    updateBranch(step, branch.index, { early, rseq });
    step.update({ setup: { ...calleeSetupOf(step.half), reliableBranch: branch.index } });
    return { kind: 'relay', rseq };
  }
  const cseq = getCSeq(invite)?.seq ?? 0;
  const flow = step.deviceFlow(branch.device);
  const prack = createDialogRequest(early, 'PRACK', { via: edgeVia(step.context.domain, flow.transport), headers: [{ name: 'RAck', value: `${rseq} ${cseq} INVITE` }] });
  updateBranch(step, branch.index, { early: prack.dialog, rseq });
  step.sendRequest(prack.request, flow.connectionId, { kind: 'local', method: 'PRACK' });
  return { kind: 'absorbed', callerRequires: hasTag(invite, 'Require', '100rel') };
}

/** The caller's PRACK, relayed by the caller's half: the same PRACK on the relaying branch's early dialog. */
export function prackToBranch(step: CallStep, event: RequestEvent): void {
  const setup = step.half.setup;
  const branch = setup.kind === 'callee' && setup.reliableBranch !== undefined ? setup.branches[setup.reliableBranch] : undefined;
  const rseq = event.headers.find((field) => field.name.toLowerCase() === 'rack')?.value.trim().split(/\s+/)[0];
  if (branch?.early === undefined || branch.state === 'failed' || rseq === undefined) {
    step.peer({ type: 'answer', relayId: event.relayId, status: 481, reason: 'Call/Transaction Does Not Exist', content: EMPTY_CONTENT, headers: [] });
    return;
  }
  const cseq = getCSeq(parseRequest(branch.request))?.seq ?? 0;
  const flow = step.deviceFlow(branch.device);
  // A 2xx may overtake the PRACK (RFC 3262 §3 allows a final response once no offer is pending):
  // the PRACK then goes in the confirmed dialog, whose CSeq has moved on from the early one's.
  const confirmed = branch.state === 'answered' && step.half.dialog !== undefined && step.half.dialog.state !== 'terminated' ? step.half.dialog : undefined;
  const prack = createDialogRequest(confirmed ?? branch.early, 'PRACK', {
    via: edgeVia(step.context.domain, flow.transport),
    headers: [{ name: 'RAck', value: `${rseq} ${cseq} INVITE` }],
    ...(event.content.body.length === 0 ? {} : { body: event.content.body, contentType: event.content.contentType ?? 'application/sdp' }),
  });
  if (confirmed === undefined) updateBranch(step, branch.index, { early: prack.dialog });
  else step.update({ dialog: prack.dialog });
  step.sendRequest(prack.request, flow.connectionId, { kind: 'outbound', relayId: event.relayId, method: 'PRACK' });
}

/** The dialog a branch's 2xx confirms, its CSeq carried on from the PRACKs sent in the early dialog. */
export function confirmedDialog(branch: Branch, response: SipResponse): Dialog {
  const dialog = createUacDialog(parseRequest(branch.request), response);
  const sent = branch.early?.localSeq;
  return sent !== undefined && (dialog.localSeq === undefined || sent > dialog.localSeq) ? { ...dialog, localSeq: sent } : dialog;
}

/** The caller's half sent a reliable provisional response: it goes again until its PRACK. */
export function startReliable(step: CallStep, response: SipResponse): void {
  const rseq = rseqOf(response);
  if (rseq === undefined) return;
  step.update({ reliable: { rseq, wire: serializeMessage(response), interval: T1_MS, giveUpAt: step.now + 64 * T1_MS } });
  step.setTimer('reliable', step.now + T1_MS);
}

/** No more retransmissions: the PRACK came, or the INVITE got its final response. */
export function stopReliable(step: CallStep): void {
  if (step.half.reliable === undefined) return;
  step.update({ reliable: undefined });
  step.clearTimer('reliable');
}

/** The `reliable` timer: send the provisional again, or give up. */
export function onReliableTimer(step: CallStep, giveUp: () => void): void {
  const pending = step.half.reliable;
  if (pending === undefined) return;
  if (step.now >= pending.giveUpAt) {
    stopReliable(step);
    step.log('warn', 'call.prack-timeout', { rseq: pending.rseq });
    return giveUp();
  }
  step.sendDirect(pending.wire, step.deviceFlow().connectionId);
  const interval = pending.interval * 2;
  step.update({ reliable: { ...pending, interval } });
  step.setTimer('reliable', Math.min(step.now + interval, pending.giveUpAt));
}

/** A PRACK from this half's device: matched to the pending reliable provisional and relayed, or 481. */
export function onPrack(step: CallStep, request: SipRequest, key: string): void {
  const half = step.half;
  const respond = (status: number, reason?: string): void => step.sendResponse(key, createResponse(request, status, reason));
  const pending = half.reliable;
  const rack = rackOf(request);
  const id = incomingRequestDialogId(request);
  const inviteSeq = half.setup.kind === 'caller' ? getCSeq(parseRequest(half.setup.invite))?.seq : undefined;
  if (pending === undefined || rack === undefined || half.dialog === undefined || id === undefined || !sameDialog(half.dialog.id, id)) return respond(481);
  if (rack.rseq !== pending.rseq || rack.cseq !== inviteSeq || rack.method !== 'INVITE') return respond(481);
  const checked = receiveDialogRequest(half.dialog, request);
  if (!checked.accepted) return respond(checked.status, checked.reason);
  const content = contentOf(request);
  if (content === undefined) return respond(415, 'Body Is Not UTF-8 Text');
  step.update({ dialog: checked.dialog });
  stopReliable(step);
  relayToPeer(step, request, key, content, [{ name: 'RAck', value: `${rack.rseq} ${rack.cseq} INVITE` }]);
}

function calleeSetupOf(half: HalfCall) {
  if (half.setup.kind !== 'callee') throw new TypeError('the caller half has no fork');
  return half.setup;
}

/** Changes one branch of the callee's fork. */
export function updateBranch(step: CallStep, index: number, patch: Partial<Branch>): void {
  const setup = calleeSetupOf(step.half);
  step.update({ setup: { ...setup, branches: setup.branches.map((branch) => (branch.index === index ? { ...branch, ...patch } : branch)) } });
}
