/**
 * A confirmed leg: what the edge does with requests within the dialog, in both directions, and how
 * a leg ends. The same for both halves: a request from this half's device is answered by the peer
 * half (whose device gets the same request on its own dialog), and the other way round.
 *
 * - BYE ends the call: answered 200 at once (RFC 3261 §15.1.2), the peer's leg gets its own BYE.
 * - INVITE (hold, resume, ICE restart), UPDATE (RFC 3311), INFO (RFC 6086, DTMF), MESSAGE and
 *   OPTIONS are relayed end to end and answered with the other device's answer; an UPDATE before
 *   the answer goes in the early dialog (`early-update.ts`).
 * - The 2xx to a relayed INVITE is acknowledged end to end: the device that sent the INVITE ACKs
 *   the edge's 2xx, and only then does the edge ACK the other device's 2xx (the ACK may carry the
 *   answer of a delayed offer, RFC 3261 §13.2.2.4). The edge's own 2xx is retransmitted until the
 *   ACK (RFC 3261 §13.3.1.4); without one for 64*T1 the call is ended with BYE.
 * - REFER (RFC 3515) is vetted first (`refer-transfer.ts`), then relayed like the rest; the
 *   transferee's NOTIFYs come back the same way. A REFER with Replaces is the edge's own to carry
 *   out (`attended-transfer.ts`).
 * - Session refreshes (RFC 4028: a re-INVITE or UPDATE, Session-Expires end to end) are checked
 *   against the edge's Min-SE and re-arm each leg's session timer (`session-timer.ts`).
 * - RFC 3261 §14.2: one INVITE at a time in a dialog; a second one, from either side, gets 491.
 */
import {
  createDialogAck,
  createDialogRequest,
  incomingRequestDialogId,
  receiveDialogRequest,
  receiveDialogResponse,
  sendDialogResponse,
  startSuccessRetransmission,
  successRetransmissionTransition,
  type DialogId,
} from '../../shared/dialog/index.ts';
import { createResponse, parseMessage, serializeMessage, type HeaderField, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { DIALOG_ALLOW, RELAYED_DIALOG_METHODS } from '../sip/edge-methods.ts';
import { edgeContact, edgeVia, randomHex } from '../sip/edge-ua.ts';
import type { HalfCall, Purpose } from './call-half.ts';
import type { CallStep } from './call-step.ts';
import type { Content, PeerEvent } from './peer-event.ts';
import { checkRefer } from './refer-transfer.ts';
import { onJoinAnswer, referWithReplaces } from './attended-transfer.ts';
import { onEarlyUpdate, updateToEarlyDialog } from './early-update.ts';
import { prackToBranch } from './reliable-provisional.ts';
import { intervalTooSmall, noteRefreshRefused, noteSessionRefresh, refreshAnsweredByEdge } from './session-timer.ts';
import { bodyOptions, contentOf, EMPTY_CONTENT, passThrough, REQUEST_PASS_THROUGH, RESPONSE_PASS_THROUGH } from './relay-content.ts';

/** What came back for a request the edge sent to a device: its response, or a timeout (408) or failed flow (430). */
export interface Outcome {
  readonly status: number;
  readonly reason: string;
  readonly response?: SipResponse;
}

type RequestEvent = Extract<PeerEvent, { type: 'request' }>;
type AnswerEvent = Extract<PeerEvent, { type: 'answer' }>;

const REFRESHES = new Set(['INVITE', 'UPDATE']);

export function parseRequest(wire: string): SipRequest {
  const message = parseMessage(wire);
  if (message.kind !== 'request') throw new TypeError('a stored request is not a request');
  return message;
}

/** A request from this half's device with a To tag: within the leg's dialog, or refused. */
export function onDialogRequest(step: CallStep, request: SipRequest, key: string): void {
  const half = step.half;
  const respond = (status: number, reason?: string, headers: readonly HeaderField[] = []): void =>
    step.sendResponse(key, createResponse(request, status, reason, { headers }));
  const id = incomingRequestDialogId(request);
  const dialog = half.dialog;
  // RFC 3311 §5.1: an UPDATE may come in an early dialog (`early-update.ts`).
  if (request.method === 'UPDATE' && half.phase === 'setup') return onEarlyUpdate(step, request, key);
  // RFC 3261 §12.2.2: a request that matches no dialog (or one already over) gets 481.
  if (dialog === undefined || id === undefined || !sameDialog(dialog.id, id) || half.phase !== 'confirmed') return respond(481);
  const checked = receiveDialogRequest(dialog, request);
  if (!checked.accepted) return respond(checked.status, checked.reason);
  const flow = step.incoming;
  // The device may have come back over a new flow (RFC 5626 §4.2): it is reached there from now on.
  step.update({ dialog: checked.dialog, ...(flow === undefined ? {} : { device: { ...half.device, connectionId: flow.connectionId, transport: flow.transport } }) });
  if (request.method === 'BYE') {
    respond(200);
    return endCall(step, { reason: passThrough(request, ['Reason'])[0]?.value, byeDevice: false });
  }
  if (!RELAYED_DIALOG_METHODS.has(request.method)) return respond(405, undefined, [{ name: 'Allow', value: DIALOG_ALLOW }]);
  if (request.method === 'INVITE' && inviteInProgress(step.half)) return respond(491);
  const tooSmall = intervalTooSmall(request, step.context.policy.minSessionExpires);
  if (tooSmall !== undefined) return respond(tooSmall.status, tooSmall.reason, tooSmall.headers);
  const content = contentOf(request);
  if (content === undefined) return respond(415, 'Body Is Not UTF-8 Text');
  let headers = passThrough(request, REQUEST_PASS_THROUGH);
  if (request.method === 'REFER') {
    const refer = checkRefer(request, half.aor, step.context.domain);
    if (!refer.ok) return respond(refer.status, refer.reason);
    if (refer.replaces !== undefined) return referWithReplaces(step, request, key, refer.replaces);
    headers = [...headers, ...refer.headers];
    step.log('info', 'call.refer', { target: refer.target });
  }
  relayToPeer(step, request, key, content, headers);
}

/** Relays a request of this half's device to the peer; the peer's answer comes back to `answerDevice`. */
export function relayToPeer(step: CallStep, request: SipRequest, key: string, content: Content, headers: readonly HeaderField[]): void {
  const relayId = randomHex(8);
  step.update({
    inbound: { ...step.half.inbound, [relayId]: { relayId, key, method: request.method, request: serializeMessage(request) } },
    purposes: { ...step.half.purposes, [key]: { kind: 'inbound', relayId } },
  });
  step.setTimer(`relay ${relayId}`, step.now + step.context.policy.relayTimeoutMs);
  step.peer({ type: 'request', relayId, method: request.method, content, headers });
}

/** The peer relays a request from its device: the same request on this leg's dialog. */
export function relayToDevice(step: CallStep, event: RequestEvent): void {
  const half = step.half;
  const refuse = (status: number, reason: string): void =>
    step.peer({ type: 'answer', relayId: event.relayId, status, reason, content: EMPTY_CONTENT, headers: [] });
  if (event.method === 'PRACK') return prackToBranch(step, event);
  if (event.method === 'UPDATE' && half.phase === 'setup') return updateToEarlyDialog(step, event);
  if (half.dialog === undefined || half.phase !== 'confirmed' || half.dialog.state !== 'confirmed') return refuse(481, 'Call/Transaction Does Not Exist');
  if (event.method === 'INVITE' && inviteInProgress(half)) return refuse(491, 'Request Pending');
  const flow = step.deviceFlow();
  const refresh = REFRESHES.has(event.method);
  const { dialog, request } = createDialogRequest(half.dialog, event.method, {
    via: edgeVia(step.context.domain, flow.transport),
    ...(refresh ? { contact: edgeContact(step.context.domain, flow.transport) } : {}),
    headers: [...event.headers, ...(refresh ? [{ name: 'Allow', value: DIALOG_ALLOW }] : [])],
    ...bodyOptions(event.content),
  });
  step.update({ dialog });
  step.sendRequest(request, flow.connectionId, { kind: 'outbound', relayId: event.relayId, method: event.method });
}

/** The device answered a request relayed from the peer: the answer goes back to the peer. */
export function onOutboundResponse(step: CallStep, key: string, purpose: Extract<Purpose, { kind: 'outbound' }>, outcome: Outcome): void {
  const half = step.half;
  // A provisional response to a request within a dialog means nothing to the other device.
  if (outcome.status < 200) return;
  if (purpose.answered !== true && onJoinAnswer(step, key, purpose.relayId, outcome)) return;
  if (purpose.answered === true) {
    // RFC 6026 §7.2: a retransmitted 2xx reaches the core again; it gets the same ACK again.
    if (outcome.status < 300 && half.lastAck !== undefined && half.awaitingAck === undefined) step.sendDirect(half.lastAck, step.deviceFlow().connectionId);
    return;
  }
  step.update({ purposes: { ...half.purposes, [key]: { ...purpose, answered: true } } });
  const dialog = half.dialog !== undefined && outcome.response !== undefined ? receiveDialogResponse(half.dialog, outcome.response) : half.dialog;
  step.update({ dialog, ...(outcome.status < 300 && purpose.method === 'INVITE' ? { awaitingAck: purpose.relayId } : {}) });
  noteSessionRefresh(step, purpose.method, outcome.response);
  noteRefreshRefused(step, purpose.method, outcome.status);
  const content = outcome.response === undefined ? EMPTY_CONTENT : (contentOf(outcome.response) ?? EMPTY_CONTENT);
  const headers = outcome.response === undefined ? [] : passThrough(outcome.response, RESPONSE_PASS_THROUGH);
  step.peer({ type: 'answer', relayId: purpose.relayId, status: outcome.status, reason: outcome.reason, content, headers });
  if (dialog?.state === 'terminated' && half.phase === 'confirmed') {
    // RFC 3261 §12.2.1.2: a 481 or 408 to a request within the dialog ends it; so the call ends.
    step.log('warn', 'call.dialog-lost', { status: outcome.status, method: purpose.method });
    endCall(step, { byeDevice: false });
  }
}

/** The peer's answer to a request of this half's device. */
export function answerDevice(step: CallStep, event: AnswerEvent): void {
  const half = step.half;
  const relay = half.inbound[event.relayId];
  if (relay === undefined) return;
  const request = parseRequest(relay.request);
  const edgeRefresh = refreshAnsweredByEdge(relay.method, request, event.status);
  const status = edgeRefresh === undefined ? event.status : 200;
  const success = status >= 200 && status < 300;
  const flow = step.deviceFlow();
  const headers = success && REFRESHES.has(relay.method)
    ? [{ name: 'Contact', value: edgeContact(step.context.domain, flow.transport) }, { name: 'Allow', value: DIALOG_ALLOW }, ...(edgeRefresh ?? event.headers)]
    : [...event.headers];
  const response = createResponse(request, status, edgeRefresh === undefined ? event.reason : undefined, { headers, ...bodyOptions(event.content) });
  step.sendResponse(relay.key, response);
  if (event.status < 200) return;
  const { [event.relayId]: _answered, ...inbound } = half.inbound;
  step.update({ inbound, ...(half.dialog === undefined ? {} : { dialog: sendDialogResponse(half.dialog, response) }) });
  step.clearTimer(`relay ${event.relayId}`);
  noteSessionRefresh(step, relay.method, response);
  if (success && relay.method === 'INVITE') startSuccess(step, event.relayId, response);
}

/** RFC 3261 §13.3.1.4: the 2xx to an INVITE of this half's device goes again until its ACK. */
export function startSuccess(step: CallStep, relayId: string, response: SipResponse): void {
  const state = startSuccessRetransmission(response, { flow: step.deviceFlow().connectionId }, step.now);
  step.update({ success: { relayId, state } });
  if (state.deadline !== undefined) step.setTimer('success', state.deadline);
}

/** The ACK for a 2xx of the edge on this leg (or a stray one): relayed to the peer, which ACKs its own. */
export function onAck(step: CallStep, ack: SipRequest): void {
  const half = step.half;
  const success = half.success;
  const id = incomingRequestDialogId(ack);
  if (success === undefined || half.dialog === undefined || id === undefined || !sameDialog(half.dialog.id, id)) return;
  step.update({ success: undefined });
  step.clearTimer('success');
  if (half.phase !== 'confirmed') return;
  step.peer({ type: 'ack', relayId: success.relayId, content: contentOf(ack) ?? EMPTY_CONTENT });
}

/** The peer's device ACKed: this leg's device gets the ACK for its 2xx (RFC 3261 §13.2.2.4). */
export function ackToDevice(step: CallStep, relayId: string, content: Content): void {
  const half = step.half;
  if (half.awaitingAck !== relayId || half.dialog === undefined) return;
  sendAck(step, content);
}

/** ACKs the device's 2xx to the edge's INVITE on this leg. */
export function sendAck(step: CallStep, content: Content): void {
  const half = step.half;
  if (half.dialog === undefined) return;
  const flow = step.deviceFlow();
  const ack = createDialogAck(half.dialog, { via: edgeVia(step.context.domain, flow.transport), ...bodyOptions(content) });
  const wire = step.sendDirect(ack, flow.connectionId);
  step.update({ awaitingAck: undefined, lastAck: wire });
}

/** The 2xx retransmission timer (RFC 3261 §13.3.1.4). */
export function onSuccessTimer(step: CallStep): void {
  const success = step.half.success;
  if (success === undefined) return;
  const transition = successRetransmissionTransition(success.state, { type: 'timer' }, step.now);
  step.update({ success: { relayId: success.relayId, state: transition.state } });
  if (transition.state.deadline !== undefined && transition.state.status === 'retransmitting') step.setTimer('success', transition.state.deadline);
  for (const action of transition.actions) {
    if (action.type === 'send') step.sendDirect(action.wire, step.deviceFlow().connectionId);
    else {
      // RFC 3261 §13.3.1.4: "If the server retransmits the 2xx response for 64*T1 seconds without
      // receiving an ACK, the dialog is confirmed, but the session SHOULD be terminated" with a BYE.
      step.log('warn', 'call.ack-timeout');
      step.update({ success: undefined });
      endCall(step, { reason: 'SIP;cause=408;text="ACK Timeout"', byeDevice: true, tellPeer: true });
    }
  }
}

/** A request of the device waited too long for the peer's answer. */
export function onRelayTimeout(step: CallStep, relayId: string): void {
  if (step.half.inbound[relayId] === undefined) return;
  step.log('warn', 'call.relay-timeout', { relayId });
  answerDevice(step, { type: 'answer', relayId, status: 408, reason: 'Request Timeout', content: EMPTY_CONTENT, headers: [] });
}

export interface EndOptions {
  /** RFC 3326 Reason for the BYEs sent. */
  readonly reason?: string;
  /** Send BYE to this half's device (false when the device itself hung up, or its dialog is gone). */
  readonly byeDevice?: boolean;
  /** Tell the peer half (false when the peer is the one ending the call). */
  readonly tellPeer?: boolean;
}

/**
 * Ends this half's leg of a confirmed call: requests of the device still waiting for the peer are
 * answered 481, the device gets a BYE unless it sent one, and the peer is told unless it told us.
 */
export function endCall(step: CallStep, options: EndOptions): void {
  const half = step.half;
  if (half.phase === 'ended') return;
  for (const relay of Object.values(half.inbound)) {
    step.sendResponse(relay.key, createResponse(parseRequest(relay.request), 481));
    step.clearTimer(`relay ${relay.relayId}`);
  }
  step.update({ inbound: {}, phase: 'ended', success: undefined });
  step.clearTimer('success');
  step.clearTimer('no-answer');
  // An ended leg has no session to keep alive (RFC 4028): the half must not linger for its timer.
  step.clearTimer('session');
  const reasonHeader = options.reason === undefined ? [] : [{ name: 'Reason', value: options.reason }];
  if (options.byeDevice !== false && half.dialog !== undefined && half.dialog.state !== 'terminated') {
    // RFC 3261 §13.2.2.4: a 2xx is ACKed before the dialog it confirmed is torn down.
    if (half.awaitingAck !== undefined) sendAck(step, EMPTY_CONTENT);
    const dialog = step.half.dialog ?? half.dialog;
    const flow = step.deviceFlow();
    const bye = createDialogRequest(dialog, 'BYE', { via: edgeVia(step.context.domain, flow.transport), headers: reasonHeader });
    step.update({ dialog: bye.dialog });
    step.sendRequest(bye.request, flow.connectionId, { kind: 'local', method: 'BYE' });
  }
  if (options.tellPeer !== false) step.peer({ type: 'bye', ...(options.reason === undefined ? {} : { reason: options.reason }) });
}

/** RFC 3261 §14.1: an INVITE is in progress, in either direction, until its 2xx is ACKed. */
export function inviteInProgress(half: HalfCall): boolean {
  if (half.success !== undefined || half.awaitingAck !== undefined) return true;
  if (Object.values(half.inbound).some((relay) => relay.method === 'INVITE')) return true;
  return Object.values(half.purposes).some((purpose) => purpose.kind === 'outbound' && purpose.method === 'INVITE' && purpose.answered !== true);
}

export function sameDialog(a: DialogId, b: DialogId): boolean {
  return a.callId === b.callId && a.localTag === b.localTag && a.remoteTag === b.remoteTag;
}
