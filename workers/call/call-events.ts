/**
 * Everything that can happen to a half, and where each goes: one pure function from (half, event)
 * to (half, effects). The host (`call-host.ts`) stores the half and performs the effects; their
 * failures come back as events (`transport-error`, `peer-unreachable`).
 *
 * Messages from devices enter through the half's transaction table (RFC 3261 §17), and what the
 * transactions pass up is handled here in order: requests and ACKs, responses, timeouts (408) and
 * transport failures (430 for a failed flow, RFC 5626 §5.3).
 */
import { takeDue } from '../../shared/clock/index.ts';
import type { SipRequest, SipResponse } from '../../shared/message/index.ts';
import type { TableAction } from '../../shared/transaction/index.ts';
import type { OutboundPlan } from '../routing/routing-contract.ts';
import type { Flow } from '../sip/flow.ts';
import type { HalfCall } from './call-half.ts';
import { CallStep, type CallEffect, type StepContext } from './call-step.ts';
import { cancelFork, fork, onBranchResponse, type ForkTarget } from './callee-fork.ts';
import { answerCaller, failCall, offerCall, onCancel, onNoAnswer, routeCall } from './caller-setup.ts';
import {
  ackToDevice,
  answerDevice,
  endCall,
  onAck,
  onDialogRequest,
  onOutboundResponse,
  onRelayTimeout,
  onSuccessTimer,
  relayToDevice,
  type Outcome,
} from './dialog-relay.ts';
import { INVITE_RELAY, type CallOffer, type PeerEvent } from './peer-event.ts';
import { onPrack, onReliableTimer } from './reliable-provisional.ts';
import { onJoin, onJoined, onJoinOffer, onJoinTimeout, onReplaced } from './attended-transfer.ts';

export type CallEvent =
  /** A request from this half's device (its INVITE, CANCEL, ACK, or a request within the dialog). */
  | { readonly type: 'device-request'; readonly request: SipRequest; readonly flow: Flow }
  /** A response from this half's device. */
  | { readonly type: 'device-response'; readonly response: SipResponse }
  /** A fresh callee half: fork the offer to these contacts. */
  | { readonly type: 'fork'; readonly offer: CallOffer; readonly targets: readonly ForkTarget[] }
  | { readonly type: 'peer'; readonly event: PeerEvent }
  /** The callee's object refused the offer (no such user, nobody registered). */
  | { readonly type: 'offer-refused'; readonly status: number; readonly reason: string }
  /** The peer's object could not be reached. */
  | { readonly type: 'peer-unreachable' }
  /** A message of transaction `key` could not be delivered: the device's flow has failed. */
  | { readonly type: 'transport-error'; readonly key: string }
  /** The alarm rang: fire every timer that is due. */
  | { readonly type: 'timers' }
  /** The routing plan for a callee off the domain (`caller-setup.ts` `routeCall`). */
  | { readonly type: 'routed'; readonly plan: OutboundPlan }
  /** The call must end from outside its signalling (its media session ended): both legs go. */
  | { readonly type: 'hang-up'; readonly reason: string }
  /** RFC 3891: an attended transfer of this object's user replaced this half's leg (`attended-transfer.ts`). */
  | { readonly type: 'replaced' };

export interface StepResult {
  readonly half: HalfCall;
  readonly effects: readonly CallEffect[];
}

export function runCallEvent(half: HalfCall, event: CallEvent, context: StepContext): StepResult {
  const step = new CallStep(half, context);
  switch (event.type) {
    case 'device-request':
      step.receiveRequest(event.request, event.flow);
      break;
    case 'device-response':
      step.receiveResponse(event.response);
      break;
    case 'fork':
      fork(step, event.offer, event.targets);
      break;
    case 'peer':
      onPeerEvent(step, event.event);
      break;
    case 'offer-refused':
      failCall(step, event.status, event.reason, false);
      break;
    case 'peer-unreachable':
      onPeerUnreachable(step);
      break;
    case 'transport-error':
      step.transportError(event.key);
      break;
    case 'timers':
      step.fireTransactionTimers();
      onHalfTimers(step);
      break;
    case 'routed':
      routeCall(step, event.plan);
      break;
    case 'hang-up':
      onHangUp(step, event.reason);
      break;
    case 'replaced':
      onReplaced(step);
      break;
  }
  for (let action = step.takeAction(); action !== undefined; action = step.takeAction()) onTableAction(step, action);
  return { half: step.half, effects: step.effects };
}

function onTableAction(step: CallStep, action: TableAction): void {
  switch (action.type) {
    case 'deliver':
      if (action.message.kind === 'request') onDeviceRequest(step, action.message, action.key);
      else onDeviceResponse(step, action.key, { status: action.message.status, reason: action.message.reason, response: action.message });
      return;
    case 'timeout':
      // RFC 3261 §8.1.3.1: a transaction timeout is handled as a 408 received.
      onDeviceResponse(step, action.key, { status: 408, reason: 'Request Timeout' });
      return;
    case 'transport-error':
      // RFC 5626 §5.3: the device's flow is gone; a proxy would answer 430 Flow Failed.
      onDeviceResponse(step, action.key, { status: 430, reason: 'Flow Failed' });
      return;
    case 'terminated':
      step.forget(action.key);
      return;
    case 'stray':
      // RFC 3261 §17.2.3: the ACK of a 2xx is a transaction of its own; §18.1.2: a 2xx after its
      // transaction ended goes to the core, which ACKs it again.
      if (action.message.kind === 'request') {
        if (action.message.method === 'ACK') onAck(step, action.message);
      } else if (action.message.status >= 200 && action.message.status < 300 && step.half.lastAck !== undefined && step.half.awaitingAck === undefined) {
        step.sendDirect(step.half.lastAck, step.deviceFlow().connectionId);
      }
      return;
  }
}

function onDeviceRequest(step: CallStep, request: SipRequest, key: string): void {
  const half = step.half;
  if (request.method === 'ACK') return onAck(step, request);
  if (half.setup.kind === 'caller' && key === half.setup.inviteKey) {
    if (half.purposes[key] === undefined) offerCall(step, request, key);
    return;
  }
  if (request.method === 'CANCEL') return onCancel(step, request, key);
  if (request.method === 'PRACK') return onPrack(step, request, key);
  onDialogRequest(step, request, key);
}

/** A response from the device, or what a transaction made of its silence, for the request `key` was for. */
function onDeviceResponse(step: CallStep, key: string, outcome: Outcome): void {
  const purpose = step.half.purposes[key];
  if (purpose === undefined) return;
  switch (purpose.kind) {
    case 'branch':
      return onBranchResponse(step, purpose.index, outcome);
    case 'outbound':
      return onOutboundResponse(step, key, purpose, outcome);
    case 'invite':
      // Only a server transaction reports to the core here: Timer H (the caller never ACKed a
      // failure) changes nothing; a failed flow means the caller is gone while the callee rings.
      if (outcome.status === 430 && step.half.phase === 'setup') failCall(step, 480, 'Caller Gone', true);
      return;
    case 'inbound':
    case 'local':
      return;
  }
}

function onPeerEvent(step: CallStep, event: PeerEvent): void {
  const half = step.half;
  switch (event.type) {
    case 'request':
      return relayToDevice(step, event);
    case 'answer':
      if (event.relayId === INVITE_RELAY && half.setup.kind === 'caller') return answerCaller(step, event);
      if (onJoinOffer(step, event)) return;
      return answerDevice(step, event);
    case 'join':
      return onJoin(step, event);
    case 'joined':
      return onJoined(step, event.status, event.reason);
    case 'ack':
      return ackToDevice(step, event.relayId, event.content);
    case 'cancel':
      if (half.setup.kind === 'callee') return cancelFork(step, event.reason);
      return;
    case 'bye':
      if (half.phase === 'setup') {
        if (half.setup.kind === 'callee') return cancelFork(step, event.reason);
        return failCall(step, 480, 'Temporarily Unavailable', false);
      }
      return endCall(step, { tellPeer: false, ...(event.reason === undefined ? {} : { reason: event.reason }) });
  }
}

/** Ends the call from this half, whatever its phase: BYE to a confirmed device, 503 or CANCEL while it is set up, and the peer told. */
function onHangUp(step: CallStep, reason: string): void {
  const half = step.half;
  step.log('info', 'call.hang-up', { reason });
  if (half.phase === 'confirmed') return endCall(step, { reason, byeDevice: true, tellPeer: true });
  if (half.phase !== 'setup') return;
  if (half.setup.kind === 'caller') return failCall(step, 503, 'Service Unavailable', true);
  cancelFork(step, reason);
  step.peer({ type: 'bye', reason });
}

function onPeerUnreachable(step: CallStep): void {
  const half = step.half;
  step.log('warn', 'call.peer-unreachable', { peer: half.peerAor });
  if (half.phase === 'setup') {
    if (half.setup.kind === 'caller') return failCall(step, 503, 'Service Unavailable', false);
    return cancelFork(step, undefined);
  }
  endCall(step, { tellPeer: false });
}

/** RFC 4028 §10: no session refresh came within the interval (`session-timer.ts`). */
function onSessionExpired(step: CallStep): void {
  if (step.half.phase !== 'confirmed') return;
  step.log('warn', 'call.session-expired');
  endCall(step, { reason: 'SIP;cause=408;text="Session Timer Expired"', byeDevice: true, tellPeer: true });
}

function onHalfTimers(step: CallStep): void {
  const { set, due } = takeDue(step.half.timers, step.now);
  step.update({ timers: set });
  for (const entry of due) {
    if (entry.key === 'no-answer') onNoAnswer(step);
    else if (entry.key === 'success') onSuccessTimer(step);
    else if (entry.key === 'session') onSessionExpired(step);
    else if (entry.key === 'join') onJoinTimeout(step);
    else if (entry.key === 'reliable') onReliableTimer(step, () => failCall(step, 500, 'Provisional Response Not Acknowledged', true));
    else if (entry.key.startsWith('relay ')) onRelayTimeout(step, entry.key.slice('relay '.length));
  }
}
