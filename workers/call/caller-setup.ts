/**
 * The caller's half while the call is set up: the edge is the UAS of the caller's INVITE and owns
 * the call (see `call-half.ts`).
 *
 * ```
 *            INVITE (authenticated): 100 Trying, offer to the callee's object, no-answer timer
 *              |
 *              v        answer 18x: 18x to the caller (first one with a tag: early dialog)
 *   +--------------+ <-----+
 *   |    setup     |-------+
 *   +--------------+
 *     |        |  answer 2xx: 2xx to the caller, retransmitted until ACK  --> confirmed
 *     |        |  (dialog-relay.ts from then on)
 *     |  answer 300-699, offer refused, peer unreachable: that answer to the caller
 *     |  Session-Expires below the edge's Min-SE: 422 at once (RFC 4028 §9, session-timer.ts)
 *     |  CANCEL: 200 to it, 487 to the INVITE, cancel to the peer
 *     |  no-answer timer: 480 No Answer, cancel to the peer
 *     v
 *   ended
 * ```
 *
 * A callee that is no user of the domain is routed (`routeCall`, the Routing object's plan): the
 * offer goes to the plan's first PbxLink; a 408 or 5xx from it (or an unreachable link) sends the
 * caller 181 with the failure's Reason and the offer to the next link, until one answers or the
 * plan is exhausted (its last failure is the caller's answer).
 */
import { createUasDialog, sendDialogResponse, terminateDialog } from '../../shared/dialog/index.ts';
import { createResponse, getCallId, getHeader, getHeaderFields, serializeMessage, type SipRequest } from '../../shared/message/index.ts';
import { emptyTimerSet } from '../../shared/clock/index.ts';
import { cancelledTransactionKey, emptyTransactionTable, serverTransactionKey } from '../../shared/transaction/index.ts';
import { gruuInstanceOf } from '../registrar/gruu.ts';
import type { Flow } from '../sip/flow.ts';
import { DIALOG_ALLOW } from '../sip/edge-methods.ts';
import { edgeContact, identityOf, withoutTag } from '../sip/edge-ua.ts';
import { randomTag } from '../sip/wire.ts';
import type { OutboundPlan, TrunkAttempt } from '../routing/routing-contract.ts';
import type { CallerSetup, HalfCall } from './call-half.ts';
import type { CallStep } from './call-step.ts';
import { parseRequest, startSuccess } from './dialog-relay.ts';
import { inviteWithReplaces } from './attended-transfer.ts';
import { INVITE_RELAY, linkAor, linkIdOf, type CallOffer, type Content } from './peer-event.ts';
import { bodyOptions, contentOf, passThrough, REQUEST_PASS_THROUGH } from './relay-content.ts';
import { isReliable, startReliable, stopReliable } from './reliable-provisional.ts';
import { intervalTooSmall, noteSessionRefresh, sessionTimerForCaller } from './session-timer.ts';

export interface NewCall {
  readonly id: string;
  readonly aor: string;
  /** The callee's address-of-record. */
  readonly peerAor: string;
  /** The caller's INVITE; its body must be UTF-8 text (`contentOf`). */
  readonly request: SipRequest;
  readonly flow: Flow;
  /** The caller's binding over that flow, if it registered. */
  readonly bindingKey?: string;
  readonly now: number;
}

/** The caller's half before its INVITE is handled: pass the INVITE to it as a device request. */
export function createCallerHalf(call: NewCall): HalfCall {
  return {
    id: call.id,
    role: 'caller',
    aor: call.aor,
    peerAor: call.peerAor,
    phase: 'setup',
    callId: getCallId(call.request) ?? '',
    createdAt: call.now,
    device: { ...(call.bindingKey === undefined ? {} : { bindingKey: call.bindingKey }), connectionId: call.flow.connectionId, transport: call.flow.transport },
    setup: { kind: 'caller', inviteKey: serverTransactionKey(call.request), invite: serializeMessage(call.request), toTag: randomTag() },
    transactions: emptyTransactionTable,
    timers: emptyTimerSet,
    purposes: {},
    inbound: {},
  };
}

/** The caller's INVITE reached the core: offer the call to the callee's object and start ringing time. */
export function offerCall(step: CallStep, request: SipRequest, key: string): void {
  const half = step.half;
  step.update({ purposes: { ...half.purposes, [key]: { kind: 'invite' } } });
  const tooSmall = intervalTooSmall(request, step.context.policy.minSessionExpires);
  if (tooSmall !== undefined) {
    step.log('info', 'call.interval-too-small', { sessionExpires: getHeader(request, 'Session-Expires') });
    return answerCaller(step, { ...tooSmall, content: { body: '' } });
  }
  const replaces = getHeader(request, 'Replaces');
  if (replaces !== undefined) {
    // RFC 3891: not a new call, but one of the user's calls moving to this device (`attended-transfer.ts`).
    const refused = inviteWithReplaces(step, replaces, contentOf(request) ?? { body: '' });
    if (refused !== undefined) answerCaller(step, refused);
    return;
  }
  step.effects.push({ type: 'offer', offer: offerOf(half, request) });
  step.setTimer('no-answer', step.now + step.context.policy.noAnswerMs);
}

function offerOf(half: HalfCall, request: SipRequest): CallOffer {
  const fromPbx = linkIdOf(half.aor) !== undefined;
  return {
    id: half.id,
    callerAor: half.aor,
    calleeAor: half.peerAor,
    // A PBX's caller keeps the identity the PBX gave it (its number, its name); a user's is its AOR.
    from: fromPbx ? withoutTag(getHeader(request, 'From') ?? '<sip:anonymous@anonymous.invalid>') : identityOf(half.aor, getHeader(request, 'From')),
    // The PBX addressed the link (its contact, a DID): the user's leg is addressed to the user, as
    // its devices, and the edge routing their answers by To (`workers/connection/`), expect.
    to: fromPbx ? `<sip:${half.peerAor}>` : withoutTag(getHeader(request, 'To') ?? `<sip:${half.peerAor}>`),
    content: contentOf(request) ?? { body: '' },
    headers: passThrough(request, REQUEST_PASS_THROUGH),
    ...gruuOf(request.uri),
  };
}

/** RFC 5627: the device a GRUU Request-URI names (`workers/registrar/gruu.ts`). */
function gruuOf(requestUri: string): { readonly gruu?: string } {
  const gruu = gruuInstanceOf(requestUri);
  return gruu === undefined ? {} : { gruu };
}

/**
 * The callee is no user of the domain and the routing plan came back: the call goes to the plan's
 * first trunk, and on to the next one each time an attempt fails over; or the caller gets the
 * plan's refusal (403 destination not allowed, 404 no route, 486/503 limits).
 */
export function routeCall(step: CallStep, plan: OutboundPlan): void {
  if (step.half.phase !== 'setup') return;
  if (!plan.ok) {
    step.log('info', 'call.not-routed', { status: plan.status, reason: plan.reason });
    return failCall(step, plan.status, plan.reason, false);
  }
  const [first, ...rest] = plan.attempts;
  if (first === undefined) return failCall(step, 404, 'No Route', false);
  step.update({ setup: { ...callerSetup(step.half), routed: true, attempts: rest } });
  tryTrunk(step, first);
}

/** One attempt of the plan: the offer goes to the attempt's PbxLink. */
function tryTrunk(step: CallStep, attempt: TrunkAttempt): void {
  const calleeAor = linkAor(attempt.linkId);
  step.update({ peerAor: calleeAor });
  const invite = parseRequest(callerSetup(step.half).invite);
  step.effects.push({ type: 'offer', offer: { ...offerOf(step.half, invite), calleeAor, trunk: attempt } });
  step.log('info', 'call.trunk-attempt', { link: attempt.linkId, number: attempt.number });
}

/** Failures of one trunk that say nothing about the others (the routing contract): a timeout, an unreachable trunk, 5xx. */
function failsOver(status: number): boolean {
  return status === 408 || status === 430 || (status >= 500 && status < 600);
}

export interface CallerAnswer {
  readonly status: number;
  readonly reason: string;
  readonly content: Content;
  readonly headers: readonly { readonly name: string; readonly value: string }[];
}

/** The fork's answer (or one of the edge's own) to the caller's INVITE. */
export function answerCaller(step: CallStep, answer: CallerAnswer): void {
  const half = step.half;
  const setup = callerSetup(half);
  const { status } = answer;
  if (half.phase === 'ended') {
    // The caller gave up while the callee answered: that answer's dialog must end too.
    if (status >= 200 && status < 300) step.peer({ type: 'bye', reason: 'SIP;cause=487;text="Request Terminated"' });
    return;
  }
  if (half.phase !== 'setup' || status === 100) return;
  const next = setup.attempts?.[0];
  if (next !== undefined && failsOver(status)) {
    step.log('info', 'call.trunk-failed-over', { status, reason: answer.reason, next: next.linkId });
    step.update({ setup: { ...setup, attempts: setup.attempts?.slice(1) ?? [] } });
    // RFC 3261 §21.1.3: the caller (and its trace) sees the call go on to the next trunk, and why
    // the last one failed (RFC 6432: Reason in a response).
    const why = `SIP;cause=${status};text="${answer.reason.replace(/["\\]/g, '')}"`;
    answerCaller(step, { status: 181, reason: 'Call Is Being Forwarded', content: { body: '' }, headers: [{ name: 'Reason', value: why }] });
    return tryTrunk(step, next);
  }
  const invite = parseRequest(setup.invite);
  const contact = status < 300 ? [{ name: 'Contact', value: edgeContact(step.context.domain, half.device.transport) }] : [];
  const allow = status >= 200 && status < 300 ? [{ name: 'Allow', value: DIALOG_ALLOW }] : [];
  const timer = status >= 200 && status < 300 ? sessionTimerForCaller(invite, answer.headers) : [];
  // RFC 3261 §12.1.1: a response that creates a dialog carries the request's Record-Route values
  // (a PBX's proxies stay on the dialog's path; a browser's first hop is the edge, so it has none).
  const recordRoute = status > 100 && status < 300 ? getHeaderFields(invite, 'Record-Route') : [];
  const response = createResponse(invite, status, answer.reason, {
    toTag: setup.toTag,
    headers: [...recordRoute, ...contact, ...allow, ...answer.headers, ...timer],
    ...bodyOptions(answer.content),
  });
  step.sendResponse(setup.inviteKey, response);
  if (status < 200) {
    // RFC 3261 §12.1.1: a provisional response with a To tag creates the early dialog.
    if (half.dialog === undefined) step.update({ dialog: createUasDialog(invite, response) });
    // RFC 3262 §3: a reliable one is sent again until its PRACK.
    if (isReliable(response)) startReliable(step, response);
    return;
  }
  stopReliable(step);
  step.clearTimer('no-answer');
  if (status < 300) {
    step.update({ dialog: half.dialog === undefined ? createUasDialog(invite, response) : sendDialogResponse(half.dialog, response), phase: 'confirmed' });
    startSuccess(step, INVITE_RELAY, response);
    noteSessionRefresh(step, 'INVITE', response);
    return;
  }
  step.update({ phase: 'ended', ...(half.dialog === undefined ? {} : { dialog: terminateDialog(half.dialog) }) });
  step.log('info', 'call.failed', { status, reason: answer.reason });
}

/** Ends the set-up with `status`, telling the callee's half to stop ringing when it may still ring. */
export function failCall(step: CallStep, status: number, reason: string, cancelPeer: boolean): void {
  if (step.half.phase !== 'setup') return;
  answerCaller(step, { status, reason, content: { body: '' }, headers: [] });
  if (cancelPeer) step.peer({ type: 'cancel', reason: `SIP;cause=${status};text="${reason}"` });
}

/** RFC 3261 §9.2: the caller's CANCEL. */
export function onCancel(step: CallStep, cancel: SipRequest, key: string): void {
  const half = step.half;
  const setup = half.setup;
  if (setup.kind !== 'caller' || cancelledTransactionKey(cancel) !== setup.inviteKey) {
    step.sendResponse(key, createResponse(cancel, 481, undefined, { toTag: randomTag() }));
    return;
  }
  // "the To tag of the response to the CANCEL and the response to the original request SHOULD be the same".
  step.sendResponse(key, createResponse(cancel, 200, undefined, { toTag: setup.toTag }));
  if (half.phase !== 'setup') return;
  // "the UAS ... SHOULD then respond to the original request with a 487 (Request Terminated)".
  answerCaller(step, { status: 487, reason: 'Request Terminated', content: { body: '' }, headers: [] });
  const reason = getHeader(cancel, 'Reason');
  step.peer({ type: 'cancel', ...(reason === undefined ? {} : { reason }) });
  step.log('info', 'call.cancelled', { by: 'caller' });
}

/** The callee's devices rang for `noAnswerMs` (the alarm). */
export function onNoAnswer(step: CallStep): void {
  if (step.half.phase !== 'setup') return;
  step.log('info', 'call.no-answer');
  failCall(step, 480, 'No Answer', true);
}

function callerSetup(half: HalfCall): CallerSetup {
  if (half.setup.kind !== 'caller') throw new TypeError('the callee half has no caller set-up');
  return half.setup;
}
