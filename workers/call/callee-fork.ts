/**
 * The callee's half while the call is set up: the edge forks the caller's offer, in parallel, to
 * every registered contact of the callee (RFC 3261 §16.6 done by a B2BUA: one INVITE client
 * transaction per contact, all in one dialog-forming request with one Call-ID and From tag), each
 * over the flow of its binding (RFC 5626 §5.3).
 *
 * ```
 *   branch:  calling --100--> trying --18x--> ringing --2xx--> answered (the first one wins)
 *               \________________\_______________\__300-699, timeout, failed flow--> failed
 *
 *   half:    setup --first 2xx--> confirmed: the 2xx to the caller; the other branches get CANCEL
 *              |                  with Reason: SIP;cause=200;text="Call completed elsewhere"
 *              |                  (RFC 3326), a later 2xx gets ACK and BYE (RFC 3261 §13.2.2.4)
 *              +--every branch failed--> ended: the best failure to the caller (fork-outcome.ts)
 *              +--cancel from the caller--> ended: CANCEL to every branch still ringing
 * ```
 *
 * Provisional responses (180, 183) go to the caller as they come; only one branch's early SDP can
 * reach the caller's one dialog, so later branches' 183 bodies are dropped.
 */
import { emptyTimerSet } from '../../shared/clock/index.ts';
import { createDialogAck, createDialogRequest } from '../../shared/dialog/index.ts';
import { parseNameAddr, serializeUri } from '../../shared/grammar/index.ts';
import { serializeMessage, type HeaderField, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { createCancel, emptyTransactionTable, generateBranch } from '../../shared/transaction/index.ts';
import type { Flow } from '../sip/flow.ts';
import { DIALOG_ALLOW } from '../sip/edge-methods.ts';
import { edgeContact, edgeVia, newCallId } from '../sip/edge-ua.ts';
import { randomTag } from '../sip/wire.ts';
import type { Branch, CalleeSetup, HalfCall } from './call-half.ts';
import type { CallStep } from './call-step.ts';
import { endCall, parseRequest, type Outcome } from './dialog-relay.ts';
import { forkFailure } from './fork-outcome.ts';
import { INVITE_RELAY, linkIdOf, type CallOffer } from './peer-event.ts';
import { answerTrunkChallenge } from './trunk-auth.ts';
import { contentOf, EMPTY_CONTENT, passThrough, RESPONSE_PASS_THROUGH, withHeader } from './relay-content.ts';
import { confirmedDialog, receiveBranchProvisional, withoutReliability } from './reliable-provisional.ts';
import { minSeOf, noteSessionRefresh, retryWithMinSe } from './session-timer.ts';

/** A registered contact of the callee, as the fork needs it. */
export interface ForkTarget {
  readonly bindingKey: string;
  /** The Contact value as registered: its URI becomes the Request-URI (RFC 3261 §16.6 step 6). */
  readonly contact: string;
  /** RFC 3327 Path stored with the binding: the route toward the contact. */
  readonly path: readonly string[];
  readonly flow: Flow;
}

/** RFC 3326 §2: why the other branches were cancelled. */
export const COMPLETED_ELSEWHERE = 'SIP;cause=200;text="Call completed elsewhere"';

/** The callee's half before it forks; run the `fork` event on it. */
export function createCalleeHalf(offer: CallOffer, domain: string, now: number): HalfCall {
  return {
    id: offer.id,
    role: 'callee',
    aor: offer.calleeAor,
    peerAor: offer.callerAor,
    phase: 'setup',
    callId: newCallId(domain),
    createdAt: now,
    // Until a branch answers, "the device" is nobody in particular; the winner replaces it.
    device: { connectionId: '', transport: 'WS' },
    setup: { kind: 'callee', branches: [] },
    transactions: emptyTransactionTable,
    timers: emptyTimerSet,
    purposes: {},
    inbound: {},
  };
}

/** Sends the offer to every target at once. */
export function fork(step: CallStep, offer: CallOffer, targets: readonly ForkTarget[]): void {
  const fromTag = randomTag();
  // RFC 3261 §8.1.1.5: any initial CSeq below 2**31.
  const seq = 1 + (crypto.getRandomValues(new Uint32Array(1))[0]! & 0x7fff);
  const branches: Branch[] = targets.map((target, index) => {
    const request = forkedInvite(step, offer, target, fromTag, seq);
    const key = step.sendRequest(request, target.flow.connectionId, { kind: 'branch', index });
    return {
      index,
      device: { bindingKey: target.bindingKey, connectionId: target.flow.connectionId, transport: target.flow.transport },
      key,
      request: serializeMessage(request),
      state: 'calling',
      cancel: 'no',
    };
  });
  step.update({ setup: { kind: 'callee', branches } });
}

function forkedInvite(step: CallStep, offer: CallOffer, target: ForkTarget, fromTag: string, seq: number): SipRequest {
  const { domain } = step.context;
  const body = new TextEncoder().encode(offer.content.body);
  const headers: HeaderField[] = [
    { name: 'Via', value: `${edgeVia(domain, target.flow.transport)};branch=${generateBranch()}` },
    { name: 'Max-Forwards', value: '70' },
    ...target.path.map((value) => ({ name: 'Route', value })),
    { name: 'To', value: offer.to },
    { name: 'From', value: `${offer.from};tag=${fromTag}` },
    { name: 'Call-ID', value: step.half.callId },
    { name: 'CSeq', value: `${seq} INVITE` },
    { name: 'Contact', value: edgeContact(domain, target.flow.transport) },
    { name: 'Allow', value: DIALOG_ALLOW },
    ...offer.headers,
    ...(body.length === 0 ? [] : [{ name: 'Content-Type', value: offer.content.contentType ?? 'application/sdp' }]),
    { name: 'Content-Length', value: String(body.length) },
  ];
  return { kind: 'request', method: 'INVITE', uri: contactUri(target.contact), version: 'SIP/2.0', headers, body };
}

function contactUri(contact: string): string {
  return serializeUri(parseNameAddr(contact).uri);
}

/** A response (or a timeout, or a failed flow) on branch `index`. */
export function onBranchResponse(step: CallStep, index: number, outcome: Outcome): void {
  const setup = calleeSetup(step.half);
  const branch = setup.branches[index];
  if (branch === undefined) return;
  const { status } = outcome;
  if (status < 200) return onProvisional(step, branch, outcome);
  if (status < 300) {
    if (outcome.response === undefined) return;
    if (setup.winner === undefined && step.half.phase === 'setup') return win(step, branch, outcome.response);
    if (setup.winner === index) {
      // RFC 6026 §7.2: a retransmitted 2xx of the winner gets the ACK again, once it was sent.
      if (step.half.lastAck !== undefined && step.half.awaitingAck === undefined) step.sendDirect(step.half.lastAck, step.deviceFlow().connectionId);
      return;
    }
    if (branch.state !== 'answered') return answeredElsewhere(step, branch, outcome.response);
    return;
  }
  if ((status === 401 || status === 407) && outcome.response !== undefined && answerTrunkChallenge(step, branch, outcome.response)) return;
  if (status === 422 && outcome.response !== undefined && retryWithMinSe(step, branch, outcome.response)) return;
  const minSe = status === 422 && outcome.response !== undefined ? minSeOf(outcome.response) : undefined;
  updateBranch(step, index, { state: 'failed', status, ...(minSe === undefined ? {} : { minSe }) });
  if (status >= 600 && step.half.phase === 'setup' && setup.winner === undefined) {
    // RFC 3261 §16.7 step 5: after a 6xx "the stateful proxy SHOULD cancel all client pending
    // transactions"; the 6xx then wins (fork-outcome.ts).
    const reason = `SIP;cause=${status};text="${outcome.reason.replace(/"/g, '')}"`;
    for (const other of setup.branches) if (other.index !== index) cancelBranch(step, other.index, reason);
  }
  const branches = calleeSetup(step.half).branches;
  if (step.half.phase !== 'setup' || setup.winner !== undefined || !branches.every((each) => each.state === 'failed')) return;
  // A link's one branch is its PBX, whose own answer means most to the caller; only its challenge
  // the link could not meet is the edge's business, and stays on this side (403).
  const best = linkIdOf(step.half.aor) === undefined
    ? forkFailure(branches.map((each) => each.status ?? 480))
    : status === 401 || status === 407 ? { status: 403, reason: 'Forbidden (the PBX refused the link\'s credentials)' } : { status, reason: outcome.reason };
  step.update({ phase: 'ended' });
  step.log('info', 'call.fork-failed', { status: best.status, branches: branches.map((each) => each.status) });
  // RFC 4028 §6: a 422 carries the Min-SE the caller must meet when it tries again.
  const minSes = branches.flatMap((each) => (each.minSe === undefined ? [] : [each.minSe]));
  const headers = best.status === 422 && minSes.length > 0 ? [{ name: 'Min-SE', value: String(Math.max(...minSes)) }] : [];
  step.peer({ type: 'answer', relayId: INVITE_RELAY, status: best.status, reason: best.reason, content: EMPTY_CONTENT, headers });
}

function onProvisional(step: CallStep, branch: Branch, outcome: Outcome): void {
  const ringing = outcome.status > 100;
  if (branch.state === 'calling' || (ringing && branch.state === 'trying')) updateBranch(step, branch.index, { state: ringing ? 'ringing' : 'trying' });
  // RFC 3261 §9.1: the CANCEL held back until a provisional response goes now.
  if (branch.cancel === 'wanted') return sendCancel(step, branch.index);
  let setup = calleeSetup(step.half);
  const live = step.half.phase === 'setup' && setup.winner === undefined && branch.cancel === 'no';
  // RFC 3262: who acknowledges a reliable provisional response (reliable-provisional.ts).
  const reliability = outcome.response === undefined || !ringing ? { kind: 'unreliable' as const } : receiveBranchProvisional(step, calleeSetup(step.half).branches[branch.index] ?? branch, outcome.response, live);
  if (reliability.kind === 'duplicate' || (reliability.kind === 'absorbed' && reliability.callerRequires)) return;
  setup = calleeSetup(step.half);
  if (!ringing || !live) return;
  let content = outcome.response === undefined ? EMPTY_CONTENT : (contentOf(outcome.response) ?? EMPTY_CONTENT);
  if (content.body.length > 0) {
    if (setup.earlyMedia === undefined) step.update({ setup: { ...setup, earlyMedia: branch.index } });
    else if (setup.earlyMedia !== branch.index) content = EMPTY_CONTENT;
  }
  const passed = outcome.response === undefined ? [] : passThrough(outcome.response, RESPONSE_PASS_THROUGH);
  const headers = reliability.kind === 'relay' ? [...passed, { name: 'RSeq', value: String(reliability.rseq) }] : withoutReliability(passed);
  step.peer({ type: 'answer', relayId: INVITE_RELAY, status: outcome.status, reason: outcome.reason, content, headers });
}

/** The first 2xx: this branch is the call; every other branch is cancelled. */
function win(step: CallStep, branch: Branch, response: SipResponse): void {
  const dialog = confirmedDialog(branch, response);
  updateBranch(step, branch.index, { state: 'answered', status: response.status });
  const setup = calleeSetup(step.half);
  step.update({ dialog, phase: 'confirmed', device: branch.device, awaitingAck: INVITE_RELAY, setup: { ...setup, winner: branch.index } });
  noteSessionRefresh(step, 'INVITE', response);
  for (const other of setup.branches) if (other.index !== branch.index) cancelBranch(step, other.index, COMPLETED_ELSEWHERE);
  step.peer({
    type: 'answer',
    relayId: INVITE_RELAY,
    status: response.status,
    reason: response.reason,
    content: contentOf(response) ?? EMPTY_CONTENT,
    headers: passThrough(response, RESPONSE_PASS_THROUGH),
  });
}

/** RFC 3261 §13.2.2.4: a 2xx from a branch that lost the race is ACKed, and its dialog ended with BYE. */
function answeredElsewhere(step: CallStep, branch: Branch, response: SipResponse): void {
  updateBranch(step, branch.index, { state: 'answered', status: response.status });
  const dialog = confirmedDialog(branch, response);
  const { connectionId, transport } = branch.device;
  const via = edgeVia(step.context.domain, transport);
  step.sendDirect(createDialogAck(dialog, { via }), connectionId);
  const bye = createDialogRequest(dialog, 'BYE', { via, headers: [{ name: 'Reason', value: COMPLETED_ELSEWHERE }] });
  step.sendRequest(bye.request, connectionId, { kind: 'local', method: 'BYE' });
  step.log('info', 'call.answered-elsewhere', { branch: branch.index });
}

/** The caller gave up: every branch still ringing is cancelled; an answered call is hung up. */
export function cancelFork(step: CallStep, reason: string | undefined): void {
  const half = step.half;
  if (half.phase === 'confirmed') return endCall(step, { tellPeer: false, ...(reason === undefined ? {} : { reason }) });
  if (half.phase !== 'setup') return;
  for (const branch of calleeSetup(half).branches) cancelBranch(step, branch.index, reason);
  step.update({ phase: 'ended' });
  step.log('info', 'call.cancelled', { by: 'caller' });
}

function cancelBranch(step: CallStep, index: number, reason: string | undefined): void {
  const branch = calleeSetup(step.half).branches[index];
  if (branch === undefined || branch.state === 'failed' || branch.state === 'answered' || branch.cancel !== 'no') return;
  updateBranch(step, index, { cancel: 'wanted', ...(reason === undefined ? {} : { cancelReason: reason }) });
  // RFC 3261 §9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent".
  if (branch.state !== 'calling') sendCancel(step, index);
}

function sendCancel(step: CallStep, index: number): void {
  const branch = calleeSetup(step.half).branches[index];
  if (branch === undefined) return;
  let cancel = createCancel(parseRequest(branch.request));
  if (branch.cancelReason !== undefined) cancel = withHeader(cancel, 'Reason', branch.cancelReason);
  // The CANCEL follows its INVITE: over the same flow (RFC 3261 §9.1: "to the same address").
  step.sendRequest(cancel, branch.device.connectionId, { kind: 'local', method: 'CANCEL' });
  updateBranch(step, index, { cancel: 'sent' });
}

function updateBranch(step: CallStep, index: number, patch: Partial<Branch>): void {
  const setup = calleeSetup(step.half);
  step.update({ setup: { ...setup, branches: setup.branches.map((branch) => (branch.index === index ? { ...branch, ...patch } : branch)) } });
}

function calleeSetup(half: HalfCall): CalleeSetup {
  if (half.setup.kind !== 'callee') throw new TypeError('the caller half has no fork');
  return half.setup;
}
