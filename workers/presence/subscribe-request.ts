/**
 * A SUBSCRIBE from one of the watcher's devices, read in the watcher's object before it is
 * authenticated and passed to the watched user's object (the notifier): the package, the expiry,
 * the dialog identifiers, and the user it is for: the Request-URI of an initial SUBSCRIBE (RFC
 * 6665 §4.1.2.1), the To of a refresh (RFC 6665 §4.1.2.2: its Request-URI is the edge's Contact,
 * which names no user).
 */
import { parseUri, serializeUri } from '../../shared/grammar/index.ts';
import { getCallId, getContacts, getExpires, getFrom, getHeader, getTo, type HeaderField, type SipRequest } from '../../shared/message/index.ts';
import { aorOf } from '../sip/address-of-record.ts';
import type { Flow } from '../sip/flow.ts';
import { withoutTag } from '../sip/edge-ua.ts';
import { accepts, ALLOW_EVENTS, CONTENT_TYPE, DEFAULT_EXPIRES, MAX_EXPIRES, MIN_EXPIRES, readEvent } from './event-package.ts';
import type { SubscribeInput } from './subscription.ts';

export type SubscribeRead =
  | { readonly ok: true; readonly notifierAor: string; readonly input: SubscribeInput }
  | { readonly ok: false; readonly status: number; readonly reason?: string; readonly headers?: readonly HeaderField[] };

export function readSubscribe(request: SipRequest, watcherAor: string, flow: Flow, domain: string): SubscribeRead {
  const event = readEvent(request);
  // RFC 6665 §4.2.1.1 and §8.3.2: an unknown (or absent) package is refused with the ones served.
  if (!event.ok) return { ok: false, status: 489, headers: [{ name: 'Allow-Events', value: ALLOW_EVENTS }] };
  if (!accepts(request, event.package)) return { ok: false, status: 406, headers: [{ name: 'Accept', value: CONTENT_TYPE[event.package] }] };
  const requested = readExpires(request);
  if (requested === undefined) return { ok: false, status: 400, reason: 'Bad Expires' };
  // RFC 6665 §4.2.1.1: too brief gets 423 with Min-Expires; too long is shortened in the 200.
  if (requested > 0 && requested < MIN_EXPIRES) return { ok: false, status: 423, headers: [{ name: 'Min-Expires', value: String(MIN_EXPIRES) }] };
  const from = getFrom(request);
  const to = getTo(request);
  const callId = getCallId(request);
  const target = contactUri(request);
  if (from?.tag === undefined || to === undefined || callId === undefined) return { ok: false, status: 400, reason: 'Missing From tag, To or Call-ID' };
  if (target === undefined) return { ok: false, status: 400, reason: 'Missing Contact' };
  const named = to.tag === undefined ? request.uri : serializeUri(to.uri);
  let notifier;
  try {
    notifier = aorOf(parseUri(named), domain);
  } catch {
    return { ok: false, status: 400, reason: 'Bad Request-URI' };
  }
  if (!notifier.ok) return { ok: false, status: notifier.reason === 'not-sip' ? 416 : 404, reason: notifier.reason === 'not-sip' ? 'Unsupported URI Scheme' : 'Not Found' };
  // RFC 3842 §3.1: a user's message summary is the user's own business.
  if (event.package === 'message-summary' && notifier.aor !== watcherAor) return { ok: false, status: 403, reason: 'Message summary of another user' };
  return {
    ok: true,
    notifierAor: notifier.aor,
    input: {
      watcherAor,
      package: event.package,
      ...(event.id === undefined ? {} : { eventId: event.id }),
      callId,
      watcherTag: from.tag,
      ...(to.tag === undefined ? {} : { notifierTag: to.tag }),
      watcher: withoutTag(getHeader(request, 'From') ?? ''),
      target,
      flow,
      expires: Math.min(requested, MAX_EXPIRES),
    },
  };
}

function readExpires(request: SipRequest): number | undefined {
  try {
    return getExpires(request) ?? DEFAULT_EXPIRES;
  } catch {
    return undefined;
  }
}

function contactUri(request: SipRequest): string | undefined {
  try {
    const contacts = getContacts(request);
    if (contacts === '*' || contacts[0] === undefined) return undefined;
    return serializeUri(contacts[0].uri);
  } catch {
    return undefined;
  }
}
