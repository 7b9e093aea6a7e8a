/**
 * Creating a dialog (RFC 3261 §12.1): by the UAS from the request and the response it sends
 * (§12.1.1), by the UAC from the request it sent and the response it received (§12.1.2).
 *
 * Only a 101-199 response with a To tag (early dialog) or a 2xx (confirmed dialog) to a
 * dialog-creating request makes a dialog; a 100 never does (RFC 3261 §12.1).
 */
import { getCSeq, getCallId, getContacts, getFrom, getHeader, getHeaders, getRoutes, getTo } from '../message/index.ts';
import type { SipMessage, SipRequest, SipResponse } from '../message/message.ts';
import { parseUri, serializeUri } from '../grammar/uri.ts';
import { DialogError, type Dialog } from './dialog-state.ts';

/**
 * RFC 3261 §12.1.2: the UAC's view of a dialog created by `response` to `request`.
 *
 * - route set: the Record-Route values of the response, in reverse order (the UAC visits the
 *   proxies nearest to it first);
 * - remote target: the response's Contact URI; a provisional response without Contact, which some
 *   gateways send with their 180, gets the Request-URI until a later response brings a Contact;
 * - local sequence number: the request's CSeq; the remote one stays empty.
 */
export function createUacDialog(request: SipRequest, response: SipResponse): Dialog {
  const creating = dialogCreatingStatus(response);
  const callId = required(getCallId(request), 'the request has no Call-ID');
  const localTag = required(getFrom(request)?.tag, 'the request From has no tag (RFC 3261 §8.1.1.3)');
  const remoteTag = required(getTo(response)?.tag, `a ${response.status} without To tag creates no dialog (RFC 3261 §12.1)`);
  const cseq = required(getCSeq(request), 'the request has no CSeq');
  const contact = contactUri(response);
  if (contact === undefined && creating === 'confirmed') {
    throw new DialogError(`the ${response.status} has no Contact, so the dialog has no remote target (RFC 3261 §12.1.2)`);
  }
  checkRoutes(response);
  const localContact = getHeader(request, 'Contact');
  return {
    id: { callId, localTag, remoteTag },
    role: 'uac',
    state: creating,
    local: required(getHeader(request, 'From'), 'the request has no From'),
    remote: required(getHeader(response, 'To'), 'the response has no To'),
    localSeq: cseq.seq,
    remoteTarget: contact ?? request.uri,
    ...(localContact === undefined ? {} : { localContact }),
    routeSet: getHeaders(response, 'Record-Route').reverse(),
    secure: isSips(request.uri),
    ...(request.method === 'INVITE' ? { inviteSeq: cseq.seq } : {}),
  };
}

/**
 * RFC 3261 §12.1.1: the UAS's view of a dialog created by its `response` to `request`.
 *
 * - route set: the Record-Route values of the request, in order;
 * - remote target: the request's Contact URI (RFC 3261 §8.1.1.8 makes it mandatory in a request
 *   that can create a dialog);
 * - remote sequence number: the request's CSeq; the local one stays empty until the UAS sends a
 *   request of its own.
 */
export function createUasDialog(request: SipRequest, response: SipResponse): Dialog {
  const creating = dialogCreatingStatus(response);
  const callId = required(getCallId(request), 'the request has no Call-ID');
  const localTag = required(getTo(response)?.tag, 'the response To has no tag (RFC 3261 §8.2.6.2)');
  const remoteTag = required(getFrom(request)?.tag, 'the request From has no tag (RFC 3261 §8.1.1.3)');
  const cseq = required(getCSeq(request), 'the request has no CSeq');
  const contact = required(contactUri(request), `the ${request.method} has no Contact (RFC 3261 §8.1.1.8)`);
  checkRoutes(request);
  const localContact = getHeader(response, 'Contact');
  return {
    id: { callId, localTag, remoteTag },
    role: 'uas',
    state: creating,
    local: required(getHeader(response, 'To'), 'the response has no To'),
    remote: required(getHeader(request, 'From'), 'the request has no From'),
    remoteSeq: cseq.seq,
    remoteTarget: contact,
    ...(localContact === undefined ? {} : { localContact }),
    routeSet: getHeaders(request, 'Record-Route'),
    secure: isSips(request.uri),
  };
}

function dialogCreatingStatus(response: SipResponse): 'early' | 'confirmed' {
  if (response.status > 100 && response.status < 200) return 'early';
  if (response.status >= 200 && response.status < 300) return 'confirmed';
  throw new DialogError(`a ${response.status} response does not create a dialog (RFC 3261 §12.1)`);
}

/** The first Contact URI, or undefined when there is none (a `*` Contact belongs to REGISTER only). */
export function contactUri(message: SipMessage): string | undefined {
  const contacts = getContacts(message);
  if (contacts === '*') throw new DialogError("a '*' Contact cannot be a dialog's remote target");
  const first = contacts[0];
  return first === undefined ? undefined : serializeUri(first.uri);
}

/** Parses Record-Route so a malformed one fails here, with `SipParseError`, not in a later request. */
function checkRoutes(message: SipMessage): void {
  getRoutes(message, 'Record-Route');
}

function isSips(uri: string): boolean {
  const parsed = parseUri(uri);
  return parsed.kind === 'sip' && parsed.scheme === 'sips';
}

function required<T>(value: T | undefined, reason: string): T {
  if (value === undefined) throw new DialogError(reason);
  return value;
}
