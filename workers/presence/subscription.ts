/**
 * A subscription (RFC 6665) as the notifier keeps it, in the watched user's object: plain JSON,
 * one row each (`presence-store.ts`), and the NOTIFY it sends.
 *
 * The edge is the notifier for every user of its domain. The subscription's dialog (RFC 6665
 * §4.1.2.1) runs between the watcher's device and the edge: the edge's side of it lives here,
 * and the device is reached over the flow its SUBSCRIBE came on (RFC 5626 §5.3), refreshed with
 * each SUBSCRIBE.
 */
import { generateBranch } from '../../shared/transaction/index.ts';
import type { SipRequest } from '../../shared/message/index.ts';
import type { Flow } from '../sip/flow.ts';
import { edgeContact, edgeVia } from '../sip/edge-ua.ts';
import { CONTENT_TYPE, eventHeader, type EventPackage } from './event-package.ts';

/** What the watcher's object passes to the notifier's, over RPC, for an authenticated SUBSCRIBE. */
export interface SubscribeInput {
  readonly watcherAor: string;
  readonly package: EventPackage;
  readonly eventId?: string;
  readonly callId: string;
  /** The watcher's From tag: the remote tag of the subscription's dialog. */
  readonly watcherTag: string;
  /** The To tag of a refresh (the notifier's tag); absent on the initial SUBSCRIBE. */
  readonly notifierTag?: string;
  /** The From of the SUBSCRIBE without its tag: the To of every NOTIFY. */
  readonly watcher: string;
  /** RFC 6665 §4.1.2.1 and RFC 3261 §12.1.1: the SUBSCRIBE's Contact URI, the NOTIFY's Request-URI. */
  readonly target: string;
  readonly flow: Flow;
  /** The Expires the watcher's object granted (0 unsubscribes or fetches). */
  readonly expires: number;
  /**
   * The initial SUBSCRIBE itself: the notifier answers it on `flow` before its first NOTIFY.
   * RFC 6665 §4.1.2.4 lets that NOTIFY arrive first, but JsSIP 3.13 answers such a NOTIFY with 481,
   * and a 200 sent by the watcher's object would race the notifier's NOTIFY.
   */
  readonly request?: SipRequest;
}

/** The notifier's answer: the response the watcher's object sends to the device. */
export interface SubscribeAnswer {
  readonly status: number;
  readonly reason?: string;
  /** The To tag of a 2xx (the notifier's tag of the dialog). */
  readonly toTag?: string;
  readonly expires?: number;
  /** The notifier sent the 2xx to the device itself (`SubscribeInput.request`). */
  readonly answered?: boolean;
}

/** A response from the watcher's device to a NOTIFY, passed back to the notifier's object. */
export interface NotifyAnswer {
  readonly callId: string;
  readonly notifierTag: string;
  readonly status: number;
}

export interface Subscription {
  readonly key: string;
  readonly package: EventPackage;
  readonly eventId?: string;
  readonly watcherAor: string;
  readonly callId: string;
  readonly watcherTag: string;
  readonly notifierTag: string;
  readonly watcher: string;
  readonly target: string;
  readonly connectionId: string;
  readonly transport: Flow['transport'];
  readonly expiresAt: number;
  /** The CSeq of the last NOTIFY sent (RFC 3261 §12.2.1.1: increases by one per request). */
  readonly cseq: number;
  /** The dialog-info `version` of the last document sent (RFC 4235 §4.1: from 0 per subscription). */
  readonly version: number;
}

export function subscriptionKey(callId: string, notifierTag: string): string {
  return `${notifierTag} ${callId}`;
}

export function newSubscription(input: SubscribeInput, notifierTag: string, now: number): Subscription {
  return {
    key: subscriptionKey(input.callId, notifierTag),
    package: input.package,
    ...(input.eventId === undefined ? {} : { eventId: input.eventId }),
    watcherAor: input.watcherAor,
    callId: input.callId,
    watcherTag: input.watcherTag,
    notifierTag,
    watcher: input.watcher,
    target: input.target,
    connectionId: input.flow.connectionId,
    transport: input.flow.transport,
    expiresAt: now + input.expires * 1000,
    cseq: 0,
    version: -1,
  };
}

/** RFC 6665 §4.1.2.2: a refresh moves the expiry, and the flow to where the device now is. */
export function refreshed(subscription: Subscription, input: SubscribeInput, now: number): Subscription {
  return { ...subscription, target: input.target, connectionId: input.flow.connectionId, transport: input.flow.transport, expiresAt: now + input.expires * 1000 };
}

/** RFC 6665 §8.2.3 (Subscription-State) with the §4.1.3 reasons the edge uses. */
export type SubscriptionState = { readonly kind: 'active'; readonly expiresIn: number } | { readonly kind: 'terminated'; readonly reason: 'timeout' | 'noresource' | 'deactivated' };

export function subscriptionStateValue(state: SubscriptionState): string {
  return state.kind === 'active' ? `active;expires=${state.expiresIn}` : `terminated;reason=${state.reason}`;
}

/**
 * RFC 6665 §4.2.2: the NOTIFY within the subscription's dialog. From is the watched user with
 * the notifier's tag, To the watcher with its tag, the CSeq one more than the last.
 */
export function notifyRequest(subscription: Subscription, notifierAor: string, domain: string, state: SubscriptionState, body: string): SipRequest {
  const bytes = new TextEncoder().encode(body);
  return {
    kind: 'request',
    method: 'NOTIFY',
    uri: subscription.target,
    version: 'SIP/2.0',
    headers: [
      { name: 'Via', value: `${edgeVia(domain, subscription.transport)};branch=${generateBranch()}` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'To', value: `${subscription.watcher};tag=${subscription.watcherTag}` },
      { name: 'From', value: `<sip:${notifierAor}>;tag=${subscription.notifierTag}` },
      { name: 'Call-ID', value: subscription.callId },
      { name: 'CSeq', value: `${subscription.cseq} NOTIFY` },
      { name: 'Contact', value: edgeContact(domain, subscription.transport) },
      { name: 'Event', value: eventHeader(subscription.package, subscription.eventId) },
      { name: 'Subscription-State', value: subscriptionStateValue(state) },
      { name: 'Content-Type', value: CONTENT_TYPE[subscription.package] },
      { name: 'Content-Length', value: String(bytes.length) },
    ],
    body: bytes,
  };
}
