/**
 * What a B2BUA carries from one leg to the other (RFC 7092 §3.1: a signalling-only B2BUA passes
 * bodies and the headers its peers need, and rebuilds the rest): the body with its Content-Type,
 * and a short list of end-to-end headers. Via, Route, Contact, tags, CSeq, Call-ID and credentials
 * belong to one leg and never cross.
 */
import { getHeader, getHeaderFields, getHeaders, type HeaderField, type SipMessage, type SipRequest } from '../../shared/message/index.ts';
import type { Content } from './peer-event.ts';

/**
 * Request headers that mean the same on both legs (RFC 3326 Reason, RFC 6086 Info-Package, RFC
 * 6665 Event and Subscription-State for the NOTIFYs of a transfer, ...). Refer-To and Referred-By
 * are not here: a REFER's are vetted and rebuilt (`refer-transfer.ts`).
 */
export const REQUEST_PASS_THROUGH = [
  'Content-Disposition', 'Info-Package', 'Reason', 'Subject', 'Priority', 'Event', 'Subscription-State',
  // RFC 4028: the devices negotiate the session timer end to end (`session-timer.ts`).
  'Session-Expires', 'Min-SE', 'Supported', 'Require',
];

/** Response headers that mean the same on both legs. */
export const RESPONSE_PASS_THROUGH = ['Reason', 'Retry-After', 'Warning', 'Session-Expires', 'Min-SE', 'Supported', 'Require'];

/**
 * The option tags (RFC 3261 §19.2) whose extensions work end to end through the edge: only these
 * cross in Supported and Require, since the edge is the UA the other leg negotiates with, and
 * must not claim what it would break (RFC 7092 §3.1: a B2BUA rebuilds what it does not pass).
 */
export const RELAYED_OPTION_TAGS: readonly string[] = ['timer', '100rel'];

const OPTION_TAG_HEADERS = new Set(['supported', 'require', 'k']);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body and its type, or undefined when the body is not UTF-8 text: SIP over WebSocket sends
 * text frames (RFC 7118 §5), and every body the edge relays (SDP, DTMF relay, chat) is text.
 */
export function contentOf(message: SipMessage): Content | undefined {
  if (message.body.length === 0) return { body: '' };
  let body: string;
  try {
    body = strictUtf8.decode(message.body);
  } catch {
    return undefined;
  }
  const contentType = getHeader(message, 'Content-Type');
  return contentType === undefined ? { body } : { contentType, body };
}

export const EMPTY_CONTENT: Content = { body: '' };

/** The fields of `message` named in `names`, as received; Supported and Require keep only `RELAYED_OPTION_TAGS`. */
export function passThrough(message: SipMessage, names: readonly string[]): HeaderField[] {
  return names.flatMap((name) => {
    if (!OPTION_TAG_HEADERS.has(name.toLowerCase())) return getHeaderFields(message, name);
    const tags = getHeaders(message, name).filter((tag) => RELAYED_OPTION_TAGS.includes(tag.toLowerCase()));
    return tags.length === 0 ? [] : [{ name, value: tags.join(', ') }];
  });
}

/** `content` as the body options of `createResponse` and `createDialogRequest`. */
export function bodyOptions(content: Content): { body?: string; contentType?: string } {
  if (content.body.length === 0) return {};
  return { body: content.body, contentType: content.contentType ?? 'application/octet-stream' };
}

/** `request` with a header field added just before its Content-Length (which builders write last). */
export function withHeader(request: SipRequest, name: string, value: string): SipRequest {
  const last = request.headers.length - 1;
  const lengthLast = last >= 0 && request.headers[last]?.name.toLowerCase() === 'content-length';
  const field = { name, value };
  const headers = lengthLast ? [...request.headers.slice(0, last), field, ...request.headers.slice(last)] : [...request.headers, field];
  return { ...request, headers };
}
