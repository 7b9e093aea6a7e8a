/**
 * What a B2BUA carries from one leg to the other (RFC 7092 §3.1: a signalling-only B2BUA passes
 * bodies and the headers its peers need, and rebuilds the rest): the body with its Content-Type,
 * and a short list of end-to-end headers. Via, Route, Contact, tags, CSeq, Call-ID and credentials
 * belong to one leg and never cross.
 */
import { getHeader, getHeaderFields, type HeaderField, type SipMessage, type SipRequest } from '../../shared/message/index.ts';
import type { Content } from './peer-event.ts';

/** Request headers that mean the same on both legs (RFC 3326 Reason, RFC 6086 Info-Package, ...). */
export const REQUEST_PASS_THROUGH = ['Content-Disposition', 'Info-Package', 'Reason', 'Subject', 'Priority', 'Event'];

/** Response headers that mean the same on both legs. */
export const RESPONSE_PASS_THROUGH = ['Reason', 'Retry-After', 'Warning'];

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

/** The fields of `message` named in `names`, as received. */
export function passThrough(message: SipMessage, names: readonly string[]): HeaderField[] {
  return names.flatMap((name) => getHeaderFields(message, name));
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
