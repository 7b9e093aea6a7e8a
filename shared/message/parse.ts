/**
 * Parsing one SIP message (RFC 3261 §7) from one unit of input: a UDP datagram or one WebSocket
 * frame. Stream framing (finding where a message ends on TCP/TLS) is `framing/`'s job.
 *
 * The parse is structural and eager only where every element needs it: the start line, the header
 * lines (names, folded values, kept raw), and the headers an element always reads (Via, From, To,
 * Call-ID, CSeq, Max-Forwards, Content-Length, Content-Type), which are validated with the grammar.
 * Other values stay raw until asked for through `typed-headers.ts`.
 *
 * Tolerated beyond the letter of RFC 3261, because real senders and RFC 5118's own test messages
 * do it: bare LF line ends, and a header section that ends with the input instead of an empty line
 * when the message declares `Content-Length: 0` (so there is no body to separate; RFC 5118 §4.10).
 */
import { isToken, isWsp, isLws } from '../grammar/char-class.ts';
import { parseCallId } from '../grammar/call-id.ts';
import { parseCSeq, readUint } from '../grammar/cseq.ts';
import { parseMediaType } from '../grammar/media-type.ts';
import { parseNameAddr } from '../grammar/name-addr.ts';
import { SipSyntaxError } from '../grammar/syntax-error.ts';
import { parseUri } from '../grammar/uri.ts';
import { parseVia } from '../grammar/via.ts';
import { canonicalHeaderName, headerKey } from './headers.ts';
import type { HeaderField, SipMessage, SipRequest, SipResponse } from './message.ts';
import { SipParseError } from './parse-error.ts';

// ignoreBOM: a BOM is kept as a character, so it is refused rather than silently removed.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** One message from text (a WebSocket text frame, RFC 7118 §5). Throws only `SipParseError`. */
export function parseMessage(text: string): SipMessage {
  const start = skipLeadingLineBreaks(text);
  const isResponse = looksLikeResponse(text, start);
  const { headEnd, bodyStart } = findHeadEnd(text, start, text.length, isResponse);
  const head = readHead(text, start, headEnd);
  if (bodyStart < 0) refuseUnterminated(head);
  const body = bodyStart > 0 && bodyStart < text.length ? encoder.encode(text.slice(bodyStart)) : EMPTY;
  return finish(head, body);
}

/** One message from octets (a UDP datagram or a binary WebSocket frame). Throws only `SipParseError`. */
export function parseMessageBytes(bytes: Uint8Array): SipMessage {
  let start = 0;
  while (start < bytes.length && (bytes[start] === 13 || bytes[start] === 10)) start++;
  const isResponse = (bytes[start]! | 32) === 115 && (bytes[start + 1]! | 32) === 105 && (bytes[start + 2]! | 32) === 112 && bytes[start + 3] === 47;
  const { headEnd, bodyStart } = findHeadEndBytes(bytes, start, isResponse);
  let text: string;
  try {
    text = utf8.decode(bytes.subarray(start, headEnd));
  } catch (cause) {
    // RFC 3261 §7.3.1: header text is UTF-8 (TEXT-UTF8); guessing another charset would alter what a relay passes on.
    throw new SipParseError('the header section is not valid UTF-8', { response: isResponse ? undefined : 400, cause });
  }
  const head = readHead(text, 0, text.length);
  if (bodyStart < 0) refuseUnterminated(head);
  return finish(head, bodyStart > 0 && bodyStart < bytes.length ? bytes.subarray(bodyStart) : EMPTY);
}

interface Head {
  readonly message: SipMessage;
  /** The first fault found, in wire order; thrown once the body is known (for `partial`). */
  readonly fault: string | undefined;
  readonly contentLength: number | undefined;
}

function finish(head: Head, received: Uint8Array): SipMessage {
  const { message, contentLength } = head;
  const response = message.kind === 'request' ? 400 : undefined;
  if (head.fault !== undefined) {
    throw new SipParseError(head.fault, { response, partial: { ...message, body: received.slice() } });
  }
  if (contentLength === undefined) {
    // RFC 3261 §18.3: without Content-Length the body runs to the end of the datagram.
    return received.length === 0 ? message : { ...message, body: received.slice() };
  }
  if (contentLength > received.length) {
    // RFC 3261 §18.3: a datagram that ends before the body does is an error: 400 to a request, a response is dropped.
    throw new SipParseError(`Content-Length ${contentLength} exceeds the ${received.length} octets received`, {
      response,
      partial: { ...message, body: received.slice() },
    });
  }
  // RFC 3261 §18.3: octets past Content-Length are not part of this message (RFC 4475 §3.1.1.8).
  return contentLength === 0 ? message : { ...message, body: received.slice(0, contentLength) };
}

/** RFC 3261 §7.5: CRLFs before the start line are ignored (keep-alives, RFC 5626 §3.5.1). */
function skipLeadingLineBreaks(text: string): number {
  let i = 0;
  while (i < text.length && (text.charCodeAt(i) === 13 || text.charCodeAt(i) === 10)) i++;
  return i;
}

/** A method is a token and cannot hold '/', so a start line opening with `SIP/` is a Status-Line. */
function looksLikeResponse(text: string, start: number): boolean {
  return text.length >= start + 4 && text.slice(start, start + 4).toUpperCase() === 'SIP/';
}

/**
 * `headEnd`: just past the line end of the last header line; `bodyStart`: just past the empty line,
 * or -1 when the input ends after a header line without one (see `refuseUnterminated`).
 */
function findHeadEnd(text: string, start: number, end: number, isResponse: boolean): { headEnd: number; bodyStart: number } {
  if (start >= end) throw new SipParseError('empty message');
  let i = start;
  for (;;) {
    const lf = text.indexOf('\n', i);
    if (lf < 0) throw unterminated(isResponse);
    const next = text.charCodeAt(lf + 1);
    if (next === 10) return { headEnd: lf + 1, bodyStart: lf + 2 };
    if (next === 13 && text.charCodeAt(lf + 2) === 10) return { headEnd: lf + 1, bodyStart: lf + 3 };
    if (lf + 1 === end) return { headEnd: end, bodyStart: -1 };
    i = lf + 1;
  }
}

function findHeadEndBytes(bytes: Uint8Array, start: number, isResponse: boolean): { headEnd: number; bodyStart: number } {
  if (start >= bytes.length) throw new SipParseError('empty message');
  let i = start;
  for (;;) {
    const lf = bytes.indexOf(10, i);
    if (lf < 0) throw unterminated(isResponse);
    const next = bytes[lf + 1];
    if (next === 10) return { headEnd: lf + 1, bodyStart: lf + 2 };
    if (next === 13 && bytes[lf + 2] === 10) return { headEnd: lf + 1, bodyStart: lf + 3 };
    if (lf + 1 === bytes.length) return { headEnd: bytes.length, bodyStart: -1 };
    i = lf + 1;
  }
}

/**
 * Input that stops after a header line is a message without its empty line only if it says it
 * has no body; otherwise it is most likely cut short (a truncated datagram).
 */
function refuseUnterminated(head: Head): void {
  if (head.fault === undefined && head.contentLength === 0) return;
  const error = unterminated(head.message.kind === 'response');
  throw new SipParseError(head.fault ?? error.reason, { response: error.response, partial: head.message });
}

function unterminated(isResponse: boolean): SipParseError {
  return new SipParseError('the header section is not terminated by an empty line (truncated message?)', {
    response: isResponse ? undefined : 400,
  });
}

/** Reads the start line and header lines of `text[start, end)`, which ends with a line break. */
function readHead(text: string, start: number, end: number): Head {
  const firstLf = text.indexOf('\n', start);
  const startLine = text.slice(start, firstLf > 0 && text.charCodeAt(firstLf - 1) === 13 ? firstLf - 1 : firstLf);
  const isResponse = looksLikeResponse(startLine, 0);
  const line = isResponse ? readStatusLine(startLine) : readRequestLine(startLine);
  // A response that cannot be read is dropped by its receiver (RFC 3261 §18.1.2); nothing to keep.
  if (line.kind === 'response' && line.fault !== undefined) throw new SipParseError(line.fault);

  const headers: HeaderField[] = [];
  let fault = line.fault;
  let contentLength: number | undefined;
  let pos = firstLf + 1;
  while (pos < end) {
    const lineEnd = text.indexOf('\n', pos);
    // A field continues over every following line that starts with SP or HTAB (RFC 3261 §7.3.1).
    let lf = lineEnd;
    while (lf + 1 < end && isWsp(text.charCodeAt(lf + 1))) lf = text.indexOf('\n', lf + 1);
    const fieldEnd = text.charCodeAt(lf - 1) === 13 ? lf - 1 : lf;
    const next = lf + 1;
    // Searched within the line only: an unbounded search would make colon-less lines quadratic.
    let colon = pos;
    while (colon < lineEnd && text.charCodeAt(colon) !== 58) colon++;
    if (colon === lineEnd) {
      fault ??= `header line without a colon: '${text.slice(pos, fieldEnd)}'`;
      pos = next;
      continue;
    }
    let nameEnd = colon;
    while (nameEnd > pos && isWsp(text.charCodeAt(nameEnd - 1))) nameEnd--;
    const name = text.slice(pos, nameEnd);
    if (!isToken(name)) {
      fault ??= `header name '${name}' is not a token`;
      pos = next;
      continue;
    }
    let valueStart = colon + 1;
    while (valueStart < fieldEnd && isLws(text.charCodeAt(valueStart))) valueStart++;
    let valueEnd = fieldEnd;
    while (valueEnd > valueStart && isLws(text.charCodeAt(valueEnd - 1))) valueEnd--;
    const value = text.slice(valueStart, valueEnd);
    headers.push({ name, value });
    pos = next;

    const key = headerKey(name);
    if (!VALIDATED.has(key)) continue;
    try {
      if (key === 'content-length') {
        const length = readUint(value, Number.MAX_SAFE_INTEGER, 'value');
        if (contentLength !== undefined && contentLength !== length) {
          // RFC 4475 §3.3.9: conflicting lengths leave the message without a usable framing.
          fault ??= `Content-Length appears twice with different values (${contentLength} and ${length})`;
        }
        contentLength ??= length;
      } else {
        validateValue(key, value);
      }
    } catch (error) {
      if (!(error instanceof SipSyntaxError)) throw error;
      fault ??= `${canonicalHeaderName(name)}: ${error.reason}`;
    }
  }

  const message: SipMessage = line.kind === 'request'
    ? { kind: 'request', method: line.method, uri: line.uri, version: line.version, headers, body: EMPTY } satisfies SipRequest
    : { kind: 'response', status: line.status, reason: line.reason, version: line.version, headers, body: EMPTY } satisfies SipResponse;
  return { message, fault, contentLength };
}

const VALIDATED = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type']);

function validateValue(key: string, value: string): void {
  switch (key) {
    case 'via':
      parseVia(value);
      return;
    case 'from':
    case 'to':
      parseNameAddr(value);
      return;
    case 'call-id':
      parseCallId(value);
      return;
    case 'cseq':
      parseCSeq(value);
      return;
    case 'max-forwards':
      // RFC 3261 §20.22: an integer 0-255 (RFC 4475 §3.1.2.4 sends 300).
      readUint(value, 255, 'value');
      return;
    case 'content-type':
      parseMediaType(value);
      return;
  }
}

type StartLine =
  | { kind: 'request'; method: string; uri: string; version: string; fault: string | undefined }
  | { kind: 'response'; status: number; reason: string; version: string; fault: string | undefined };

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT, case-insensitive (RFC 3261 §7.1). */
function isSipVersion(text: string): boolean {
  return /^SIP\/[0-9]+\.[0-9]+$/i.test(text);
}

/**
 * Request-Line = Method SP Request-URI SP SIP-Version CRLF (RFC 3261 §7.1). Exactly one SP between
 * elements and none after: RFC 4475 §3.1.2.7-10 send the variants, and forwarding them is never
 * allowed. On a fault the parts are still guessed, so that the element can answer 400.
 */
function readRequestLine(line: string): StartLine {
  const guess = (fault: string): StartLine => {
    const parts = line.trim().split(/[ \t]+/);
    const version = parts.length >= 3 ? parts[parts.length - 1]! : 'SIP/2.0';
    return { kind: 'request', method: parts[0] ?? '', uri: parts[1] ?? '', version, fault };
  };
  const sp1 = line.indexOf(' ');
  if (sp1 <= 0) return guess(`Request-Line '${line}' is not Method SP Request-URI SP SIP-Version`);
  const method = line.slice(0, sp1);
  if (!isToken(method)) return guess(`method '${method}' is not a token`);
  const sp2 = line.lastIndexOf(' ');
  if (sp2 === sp1) return guess(`Request-Line '${line}' has no SIP-Version`);
  const uri = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (version.length === 0 || isWsp(line.charCodeAt(line.length - 1))) {
    return guess('Request-Line ends in whitespace after the SIP-Version');
  }
  if (uri.length === 0 || isWsp(uri.charCodeAt(0)) || isWsp(uri.charCodeAt(uri.length - 1))) {
    return guess('Request-Line elements are separated by more than one SP');
  }
  if (/[ \t]/.test(uri)) return guess(`Request-URI '${uri}' contains whitespace`);
  if (!isSipVersion(version)) return guess(`SIP-Version '${version}' is malformed`);
  try {
    const parsed = parseUri(uri);
    if (parsed.kind === 'sip' && parsed.headers.length > 0) {
      // RFC 3261 §19.1.1 (Table 1): headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
      return guess(`Request-URI '${uri}' carries URI headers, which a Request-URI may not`);
    }
  } catch (error) {
    if (!(error instanceof SipSyntaxError)) throw error;
    return guess(`Request-URI: ${error.reason}`);
  }
  return { kind: 'request', method, uri, version, fault: undefined };
}

/** Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF (RFC 3261 §7.2). */
function readStatusLine(line: string): StartLine {
  const broken = (fault: string): StartLine => ({ kind: 'response', status: 0, reason: '', version: '', fault });
  const sp1 = line.indexOf(' ');
  if (sp1 < 0) return broken(`Status-Line '${line}' has no status code`);
  const version = line.slice(0, sp1);
  if (!isSipVersion(version)) return broken(`SIP-Version '${version}' is malformed`);
  const sp2 = line.indexOf(' ', sp1 + 1);
  const code = line.slice(sp1 + 1, sp2 < 0 ? line.length : sp2);
  // Status-Code = 3DIGIT; RFC 4475 §3.1.2.19 sends 4294967301, which must not wrap or truncate.
  if (!/^[0-9]{3}$/.test(code)) return broken(`status code '${code}' is not three digits`);
  const status = Number(code);
  if (status < 100 || status > 699) return broken(`status code ${status} is outside 100-699`);
  const reason = sp2 < 0 ? '' : line.slice(sp2 + 1);
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(reason)) return broken('Reason-Phrase contains a control character');
  return { kind: 'response', status, reason, version, fault: undefined };
}
