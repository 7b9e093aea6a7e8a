/**
 * Attended transfer (RFC 3515 REFER whose Refer-To carries a Replaces, RFC 3891; the flow of RFC
 * 5589 §7), done by the edge itself: a user talks to B, consults C on a second call, and transfers
 * B to C. Both calls are the user's, so both of the user's legs are halves of the user's object,
 * and the dialog the Replaces names is found there.
 *
 * The approach, and why: the edge is the B2BUA of both calls, so it joins B's leg and C's leg
 * itself instead of relaying the REFER to B (whose client would then send an INVITE with Replaces
 * toward C, which the edge would have to match to C's leg, fork to C's one device, and which SIP.js
 * and JsSIP each handle their own way). What the joining asks of B's and C's clients is a plain
 * re-INVITE, offerless on one side (RFC 3725 §5, flow IV's third-party call control), which
 * unmodified SIP.js and JsSIP both answer, so the transfer works whatever B and C run, and B and C
 * stay in their dialogs: to them the far party just changed.
 *
 * ```
 *   A (transferor)        A's object: halves X (A-B) and Y (A-C)     B's half        C's half
 *   REFER on X, Refer-To: <sip:C?Replaces=Y's dialog>
 *        <-- 202, NOTIFY "100 Trying"
 *                         join (answerer, report to X) ---------------> peer := C's half
 *                         join (offerer) --------------------------------------------> peer := B's half
 *                         Y: BYE to A                                                   re-INVITE C, no SDP
 *                                                                       <-- answer (2xx, C's offer)
 *                                                      re-INVITE B with C's offer
 *                                                      B's 2xx (answer): ACK B
 *                                                                       --- ack (B's answer) -->  ACK C, answer
 *                         X <-- joined 200 ------------------------------
 *        <-- NOTIFY "200 OK" (terminated), BYE on X
 * ```
 *
 * - The Replaces names A's own leg of the consultation call (RFC 3891 §3: Call-ID, to-tag and
 *   from-tag); the two tags are matched in either order, since SIP.js writes them as its remote and
 *   local tags and JsSIP as the dialog's To and From tags. A Replaces that names no confirmed call of
 *   the user: the REFER is accepted and its NOTIFY says 481 (RFC 3891 §3), and both calls go on.
 * - From the join on, X and Y have no peer (`peer()` drops their events): B's and C's halves peer
 *   with each other (`HalfCall.peer`), in their own objects, and the call lives on there.
 * - A join that fails (a device refuses the re-INVITE, or it times out) ends B's and C's legs with
 *   BYE, and A's NOTIFY carries the failure.
 * - A party behind a PbxLink, or a REFER or INVITE with Replaces from a PBX: refused with 403
 *   before anything changes. The media node anchors such a call's media, and re-pointing a PBX leg
 *   at a browser's ICE/DTLS offer is a media-node re-offer the joining does not drive.
 * - RFC 3891 §3 INVITE with Replaces from a device (`inviteWithReplaces`): SIP.js and JsSIP send
 *   one as transferee of a REFER with Replaces, which the edge never relays, so it comes from a
 *   device of the same user taking a call over from another (call pull). The edge finds the named
 *   dialog among the user's calls (481 when there is none), re-INVITEs the far party with the new
 *   device's offer, answers the new INVITE with the far party's answer, and BYEs the old device.
 */
import { createDialogRequest, receiveDialogResponse } from '../../shared/dialog/index.ts';
import { createResponse, getCSeq, type SipRequest } from '../../shared/message/index.ts';
import { edgeContact, edgeVia, randomHex } from '../sip/edge-ua.ts';
import { halfKey, peerAddress, type HalfCall } from './call-half.ts';
import type { CallStep } from './call-step.ts';
import { endCall, inviteInProgress, relayToDevice, sendAck, type Outcome } from './dialog-relay.ts';
import { INVITE_RELAY, linkIdOf, type Content, type HalfAddress, type PeerEvent } from './peer-event.ts';
import type { CallerAnswer } from './caller-setup.ts';
import { contentOf, EMPTY_CONTENT } from './relay-content.ts';
import { noteSessionRefresh } from './session-timer.ts';

/** The dialog a Replaces header names (RFC 3891 §6.1). */
export interface Replaces {
  readonly callId: string;
  readonly toTag: string;
  readonly fromTag: string;
}

export type Join =
  /** The transferor's leg that carried the REFER: waits for the outcome of the join, NOTIFYs it, and ends. */
  | { readonly kind: 'referred'; readonly event: string }
  /** The transferor's leg the Replaces named: ended, with no peer any more. */
  | { readonly kind: 'replaced' }
  /** The leg re-INVITEd with the offerer's offer: waits for that offer, then for its device's answer. */
  | { readonly kind: 'answerer'; readonly relayId: string; readonly stage: 'offer' | 'answer'; readonly report?: HalfAddress };

type JoinEvent = Extract<PeerEvent, { type: 'join' }>;
type AnswerEvent = Extract<PeerEvent, { type: 'answer' }>;

const TRANSFERRED = 'SIP;cause=200;text="Call transferred"';

/**
 * RFC 3891 §6.1: `Replaces = callid *(SEMI replaces-param)`, with `to-tag` and `from-tag` required;
 * in a Refer-To URI it is escaped (RFC 3261 §19.1.1). Undefined when it is not one.
 */
export function parseReplaces(escaped: string): Replaces | undefined {
  let value: string;
  try {
    value = decodeURIComponent(escaped);
  } catch {
    return undefined;
  }
  const [callId, ...params] = value.split(';').map((part) => part.trim());
  const param = (name: string): string | undefined =>
    params.find((each) => each.toLowerCase().startsWith(`${name}=`))?.slice(name.length + 1);
  const toTag = param('to-tag');
  const fromTag = param('from-tag');
  if (callId === undefined || callId.length === 0 || toTag === undefined || fromTag === undefined || toTag.length === 0 || fromTag.length === 0) return undefined;
  return { callId, toTag, fromTag };
}

/** True when the leg of `half` is the dialog with this Call-ID and these two tags, in either order. */
export function namesDialog(half: HalfCall, callId: string, tagA: string, tagB: string): boolean {
  const id = half.dialog?.id;
  if (id === undefined || id.callId !== callId) return false;
  return (id.localTag === tagA && id.remoteTag === tagB) || (id.localTag === tagB && id.remoteTag === tagA);
}

/** The REFER with Replaces from this half's device (A, on X): accepted and carried out by the edge. */
export function referWithReplaces(step: CallStep, request: SipRequest, key: string, replaces: Replaces): void {
  const half = step.half;
  const respond = (status: number, reason?: string): void => step.sendResponse(key, createResponse(request, status, reason));
  const replaced = step.context.dialogOf?.(replaces.callId, replaces.toTag, replaces.fromTag);
  if (replaced !== undefined && replaced.id === half.id) return respond(403, 'Replaces Names The Referred Call');
  if (linkIdOf(half.aor) !== undefined || linkIdOf(half.peerAor) !== undefined || (replaced !== undefined && linkIdOf(replaced.peerAor) !== undefined)) {
    return respond(403, 'Attended Transfer With A PBX Party Not Supported');
  }
  if (half.join !== undefined || replaced?.join !== undefined || inviteInProgress(half) || (replaced !== undefined && inviteInProgress(replaced))) return respond(491);
  // RFC 3515 §2.4.6: the NOTIFYs' Event carries the REFER's CSeq as its id.
  const event = `refer;id=${getCSeq(request)?.seq ?? 0}`;
  respond(202);
  notify(step, event, 100, 'Trying', false);
  if (replaced === undefined) {
    step.log('info', 'call.attended-transfer', { outcome: 'no such dialog' });
    return notify(step, event, 481, 'Call/Transaction Does Not Exist', true);
  }
  const relayId = randomHex(8);
  const transferee = peerAddress(half);
  const target = peerAddress(replaced);
  step.log('info', 'call.attended-transfer', { transferee: transferee.aor, target: target.aor, replaced: replaced.id });
  step.tell(transferee, { type: 'join', relayId, peer: target, offerer: false, report: { aor: half.aor, role: half.role, id: half.id } });
  step.tell(target, { type: 'join', relayId, peer: transferee, offerer: true });
  step.effects.push({ type: 'replaced', key: halfKey(replaced.role, replaced.id) });
  step.update({ join: { kind: 'referred', event } });
  step.setTimer('join', step.now + 2 * step.context.policy.relayTimeoutMs);
}

/**
 * RFC 3891 §3: the caller's INVITE (this fresh caller half) carries a Replaces: the call it names
 * moves to this device. The far party's half is joined to this one as offerer with this INVITE's
 * offer, under the INVITE's relay id: its device's answer is this INVITE's answer (`answerCaller`),
 * and this device's ACK is relayed to it like any.
 */
export function inviteWithReplaces(step: CallStep, value: string, offer: Content): CallerAnswer | undefined {
  const half = step.half;
  const replaces = parseReplaces(value);
  if (replaces === undefined) return { status: 400, reason: 'Malformed Replaces', content: EMPTY_CONTENT, headers: [] };
  if (linkIdOf(half.aor) !== undefined) return { status: 403, reason: 'Replaces From A PBX Not Supported', content: EMPTY_CONTENT, headers: [] };
  const replaced = step.context.dialogOf?.(replaces.callId, replaces.toTag, replaces.fromTag);
  // RFC 3891 §3: "If no match is found, the UAS rejects the INVITE and returns a 481".
  if (replaced === undefined) return { status: 481, reason: 'Call/Transaction Does Not Exist', content: EMPTY_CONTENT, headers: [] };
  if (linkIdOf(replaced.peerAor) !== undefined) return { status: 403, reason: 'Replacing A Call With A PBX Party Not Supported', content: EMPTY_CONTENT, headers: [] };
  if (replaced.join !== undefined || inviteInProgress(replaced)) return { status: 491, reason: 'Request Pending', content: EMPTY_CONTENT, headers: [] };
  const far = peerAddress(replaced);
  step.log('info', 'call.replaces', { replaced: replaced.id, peer: far.aor });
  step.update({ peer: far, peerAor: far.aor });
  step.tell(far, { type: 'join', relayId: INVITE_RELAY, peer: { aor: half.aor, role: half.role, id: half.id }, offerer: true, offer });
  step.effects.push({ type: 'replaced', key: halfKey(replaced.role, replaced.id) });
  return undefined;
}

/** Y: the leg the Replaces named is over for the transferor; its peer has moved on. */
export function onReplaced(step: CallStep): void {
  step.update({ join: { kind: 'replaced' } });
  endCall(step, { reason: TRANSFERRED, byeDevice: true, tellPeer: false });
}

/** X: the join's outcome, NOTIFYed to the transferor, whose leg then ends. */
export function onJoined(step: CallStep, status: number, reason: string): void {
  const half = step.half;
  if (half.join?.kind !== 'referred') return;
  step.clearTimer('join');
  step.log('info', 'call.attended-transfer', { outcome: status });
  if (half.phase === 'confirmed' && half.dialog?.state === 'confirmed') notify(step, half.join.event, status, reason, true);
  endCall(step, { reason: TRANSFERRED, byeDevice: true });
}

/** B's or C's leg is joined to the other's (`peer`). */
export function onJoin(step: CallStep, event: JoinEvent): void {
  const half = step.half;
  const usable = half.phase === 'confirmed' && half.dialog?.state === 'confirmed' && half.join === undefined;
  if (event.offerer) {
    step.update({ peer: event.peer, peerAor: event.peer.aor });
    // Refused here (481, 491) or by the device, the answer reaches the new peer, whose join fails.
    if (!usable) return step.peer({ type: 'answer', relayId: event.relayId, status: 481, reason: 'Call/Transaction Does Not Exist', content: EMPTY_CONTENT, headers: [] });
    return relayToDevice(step, { type: 'request', relayId: event.relayId, method: 'INVITE', content: event.offer ?? EMPTY_CONTENT, headers: [] });
  }
  if (!usable || inviteInProgress(half)) {
    if (event.report !== undefined) step.tell(event.report, { type: 'joined', status: 481, reason: 'Call/Transaction Does Not Exist' });
    step.tell(event.peer, { type: 'bye', reason: TRANSFERRED });
    return;
  }
  step.update({ peer: event.peer, peerAor: event.peer.aor, join: { kind: 'answerer', relayId: event.relayId, stage: 'offer', ...(event.report === undefined ? {} : { report: event.report }) } });
  step.setTimer('join', step.now + 2 * step.context.policy.relayTimeoutMs);
}

/** B: the offerer's answer to its offerless re-INVITE (C's offer); true when it was the join's. */
export function onJoinOffer(step: CallStep, event: AnswerEvent): boolean {
  const join = step.half.join;
  if (join?.kind !== 'answerer' || join.stage !== 'offer' || join.relayId !== event.relayId) return false;
  if (event.status < 200) return true;
  if (event.status >= 300) {
    joinFailed(step, event.status, event.reason);
    return true;
  }
  if (event.content.body.length === 0) {
    // No offer to pass on: the join is off (the offerer ACKs its device's 2xx before its BYE).
    joinFailed(step, 488, 'Not Acceptable Here');
    return true;
  }
  step.update({ join: { ...join, stage: 'answer' } });
  relayToDevice(step, { type: 'request', relayId: join.relayId, method: 'INVITE', content: event.content, headers: [] });
  return true;
}

/** B: its device answered the re-INVITE with the offerer's offer; true when it was the join's. */
export function onJoinAnswer(step: CallStep, key: string, relayId: string, outcome: Outcome): boolean {
  const half = step.half;
  const join = half.join;
  if (join?.kind !== 'answerer' || join.stage !== 'answer' || join.relayId !== relayId || outcome.status < 200) return false;
  const purpose = half.purposes[key];
  if (purpose?.kind === 'outbound') step.update({ purposes: { ...half.purposes, [key]: { ...purpose, answered: true } } });
  const dialog = half.dialog !== undefined && outcome.response !== undefined ? receiveDialogResponse(half.dialog, outcome.response) : half.dialog;
  step.update({ dialog });
  const answer = outcome.response === undefined ? undefined : contentOf(outcome.response);
  if (outcome.status >= 300 || answer === undefined || answer.body.length === 0) {
    if (outcome.status < 300) sendAck(step, EMPTY_CONTENT);
    joinFailed(step, outcome.status >= 300 ? outcome.status : 488, outcome.status >= 300 ? outcome.reason : 'Not Acceptable Here');
    return true;
  }
  sendAck(step, EMPTY_CONTENT);
  noteSessionRefresh(step, 'INVITE', outcome.response);
  step.peer({ type: 'ack', relayId, content: answer });
  step.update({ join: undefined });
  step.clearTimer('join');
  if (join.report !== undefined) step.tell(join.report, { type: 'joined', status: 200, reason: 'OK' });
  step.log('info', 'call.joined', { peer: half.peerAor });
  return true;
}

/** The `join` timer: the transferor's leg reports a timeout; B's leg gives the join up. */
export function onJoinTimeout(step: CallStep): void {
  const join = step.half.join;
  if (join?.kind === 'referred') return onJoined(step, 408, 'Request Timeout');
  if (join?.kind === 'answerer') joinFailed(step, 408, 'Request Timeout');
}

/** B: the join failed: the transferor hears why, and B's and C's legs end. */
function joinFailed(step: CallStep, status: number, reason: string): void {
  const join = step.half.join;
  step.update({ join: undefined });
  step.clearTimer('join');
  step.log('warn', 'call.join-failed', { status });
  if (join?.kind === 'answerer' && join.report !== undefined) step.tell(join.report, { type: 'joined', status, reason });
  endCall(step, { reason: `SIP;cause=${status};text="Transfer failed"`, byeDevice: true, tellPeer: true });
}

/** RFC 3515 §2.4.5: a NOTIFY of the REFER's implicit subscription, its body the sipfrag of the outcome. */
function notify(step: CallStep, event: string, status: number, reason: string, final: boolean): void {
  const half = step.half;
  if (half.dialog === undefined) return;
  const flow = step.deviceFlow();
  const { dialog, request } = createDialogRequest(half.dialog, 'NOTIFY', {
    via: edgeVia(step.context.domain, flow.transport),
    contact: edgeContact(step.context.domain, flow.transport),
    headers: [
      { name: 'Event', value: event },
      { name: 'Subscription-State', value: final ? 'terminated;reason=noresource' : 'active;expires=60' },
    ],
    body: `SIP/2.0 ${status} ${reason}\r\n`,
    contentType: 'message/sipfrag;version=2.0',
  });
  step.update({ dialog });
  step.sendRequest(request, flow.connectionId, { kind: 'local', method: 'NOTIFY' });
}
