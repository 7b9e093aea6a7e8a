/**
 * Classifies one WebSocket message received on a SIP WebSocket connection.
 *
 * RFC 7118 §5: each SIP message travels in exactly one WebSocket message, in a text or a binary
 * frame, so WebSocket itself gives the message boundaries and Content-Length is not needed to
 * find them. Browser stacks (SIP.js, JsSIP) also send RFC 5626 keep-alives as whole WebSocket
 * messages: a double CRLF ping, answered with a single CRLF pong.
 */

import { DEFAULT_MAX_MESSAGE_BYTES, type FrameEvent } from './frame-event.ts';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Turns one WebSocket message into a frame event. Errors are never fatal: WebSocket keeps the
 * message boundaries, so one bad message does not spoil the ones after it.
 *
 * The returned `bytes` may share memory with `data` when `data` is binary.
 */
export function classifyWebSocketFrame(
  data: string | ArrayBuffer | Uint8Array,
  limit: number = DEFAULT_MAX_MESSAGE_BYTES,
): FrameEvent {
  if (typeof data === 'string') return classifyText(data, limit);
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  return classifyBinary(bytes, limit);
}

function classifyText(text: string, limit: number): FrameEvent {
  if (text === '\r\n\r\n') return { kind: 'keepalive', ping: true };
  if (text === '\r\n') return { kind: 'keepalive', ping: false };
  // A UTF-16 code unit never encodes to fewer than one octet, so this rejects a huge string
  // before paying to encode it.
  if (text.length > limit) return tooLarge();
  return classifyOctets(encoder.encode(text), limit);
}

function classifyBinary(bytes: Uint8Array, limit: number): FrameEvent {
  if (bytes.length > limit) return tooLarge();
  const keepalive = keepaliveOf(bytes);
  if (keepalive !== undefined) return keepalive;
  const event = classifyOctets(bytes, limit);
  if (event.kind !== 'message') return event;
  // RFC 3261 §7.3.1: the start-line and header fields are UTF-8 text; the body may be any octets
  // (a binary frame is how RFC 7118 §5 carries such a body), so only the header section is checked.
  const headerEnd = indexOfEmptyLine(event.bytes);
  try {
    strictDecoder.decode(event.bytes.subarray(0, headerEnd));
  } catch {
    return { kind: 'error', reason: 'not-utf8', fatal: false };
  }
  return event;
}

function classifyOctets(bytes: Uint8Array, limit: number): FrameEvent {
  if (bytes.length > limit) return tooLarge();
  // RFC 3261 §7.5 asks stream receivers to ignore CRLFs before the start-line; the same tolerance
  // costs nothing here and spares the parser a message it would reject.
  let start = 0;
  while (bytes[start] === CR && bytes[start + 1] === LF) start += 2;
  if (isBlank(bytes, start)) return { kind: 'error', reason: 'empty', fatal: false };
  return { kind: 'message', bytes: start === 0 ? bytes : bytes.subarray(start) };
}

function keepaliveOf(bytes: Uint8Array): FrameEvent | undefined {
  const crlf = bytes[0] === CR && bytes[1] === LF;
  if (bytes.length === 2 && crlf) return { kind: 'keepalive', ping: false };
  if (bytes.length === 4 && crlf && bytes[2] === CR && bytes[3] === LF) return { kind: 'keepalive', ping: true };
  return undefined;
}

function isBlank(bytes: Uint8Array, from: number): boolean {
  for (let at = from; at < bytes.length; at += 1) {
    const octet = bytes[at];
    if (octet !== CR && octet !== LF && octet !== SP && octet !== HTAB) return false;
  }
  return true;
}

/** The offset of the CRLFCRLF that ends the header section, or the length when there is none. */
function indexOfEmptyLine(bytes: Uint8Array): number {
  let lf = bytes.indexOf(LF, 3);
  while (lf !== -1) {
    if (bytes[lf - 1] === CR && bytes[lf - 2] === LF && bytes[lf - 3] === CR) return lf - 3;
    lf = bytes.indexOf(LF, lf + 1);
  }
  return bytes.length;
}

function tooLarge(): FrameEvent {
  return { kind: 'error', reason: 'message-too-large', fatal: false };
}
