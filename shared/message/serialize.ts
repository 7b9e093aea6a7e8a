/**
 * Writing a message (RFC 3261 §7): the start line, each header field as `name: value` exactly as
 * held, an empty line, and the body.
 *
 * What a parse -> serialise round trip normalises, and nothing else:
 * - line ends become CRLF (a bare LF is accepted on input); CRLFs before the start line are dropped;
 * - whitespace between a header name and its colon is dropped, and the colon is followed by one SP
 *   (none when the value is empty);
 * - whitespace at the start and end of a value is dropped, a fold before the first character
 *   included; folds inside a value are written as received;
 * - octets past Content-Length (RFC 3261 §18.3) are not part of the message.
 * Content-Length is never added or changed here; `withBody` keeps it true.
 */
import { setHeader, removeHeader } from './headers.ts';
import type { SipMessage } from './message.ts';

const encoder = new TextEncoder();
// ignoreBOM: a body that starts with a BOM keeps it.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The start line and header section, ending with the empty line. */
export function serializeHead(message: SipMessage): string {
  let out = message.kind === 'request'
    ? `${message.method} ${message.uri} ${message.version}\r\n`
    : `${message.version} ${message.status} ${message.reason}\r\n`;
  for (const field of message.headers) out += field.value.length === 0 ? `${field.name}:\r\n` : `${field.name}: ${field.value}\r\n`;
  return `${out}\r\n`;
}

/**
 * The message as text, for WebSocket text frames (RFC 7118 §5: UTF-8). Throws a TypeError when the
 * body is not UTF-8; send such a message with `serializeMessageBytes` in a binary frame.
 */
export function serializeMessage(message: SipMessage): string {
  const head = serializeHead(message);
  return message.body.length === 0 ? head : head + strictUtf8.decode(message.body);
}

/** The message as octets, for datagrams, streams and binary frames. */
export function serializeMessageBytes(message: SipMessage): Uint8Array {
  const head = encoder.encode(serializeHead(message));
  if (message.body.length === 0) return head;
  const out = new Uint8Array(head.length + message.body.length);
  out.set(head, 0);
  out.set(message.body, head.length);
  return out;
}

/**
 * A copy with `body` as the body, Content-Length set to its octet count, and Content-Type set when
 * given. An empty body without a type also drops Content-Type (RFC 3261 §20.15: it describes a body).
 */
export function withBody<M extends SipMessage>(message: M, body: Uint8Array | string, contentType?: string): M {
  const octets = typeof body === 'string' ? encoder.encode(body) : body;
  let next = setHeader(message, 'Content-Length', String(octets.length));
  if (contentType !== undefined) next = setHeader(next, 'Content-Type', contentType);
  else if (octets.length === 0) next = removeHeader(next, 'Content-Type');
  return { ...next, body: octets };
}
