/**
 * What goes on a WebSocket (RFC 7118 §5): a message whose body is UTF-8 travels in a text frame,
 * any other in a binary frame; and reason phrases built from our own diagnostics.
 */
import { serializeMessage, serializeMessageBytes, type SipMessage } from '../../shared/message/index.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function encodeForWebSocket(message: SipMessage): string | Uint8Array {
  if (message.body.length === 0) return serializeMessage(message);
  try {
    strictUtf8.decode(message.body);
  } catch {
    return serializeMessageBytes(message);
  }
  return serializeMessage(message);
}

const MAX_REASON_LENGTH = 160;

/**
 * RFC 3261 §21.4.1: "The Reason-Phrase SHOULD identify the syntax problem in more detail, for
 * example, 'Missing Call-ID header field'". A diagnostic becomes a Reason-Phrase (§25.1: no control
 * characters), shortened so that a huge bad header is not echoed back whole.
 */
export function reasonFromDetail(detail: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = detail.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return clean.length <= MAX_REASON_LENGTH ? clean : `${clean.slice(0, MAX_REASON_LENGTH - 3)}...`;
}

const HEX = Array.from({ length: 256 }, (_, octet) => octet.toString(16).padStart(2, '0'));

/** RFC 3261 §19.3: a tag is at least 32 bits of randomness; 64 here, hex. */
export function randomTag(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let tag = '';
  for (const octet of bytes) tag += HEX[octet] ?? '';
  return tag;
}
