/**
 * One SIP message as the trace keeps it: when, which way, over which flow, and the message text
 * with its digest credentials redacted (RFC 3261 §22.4, RFC 7616 §3.4: the `response` of an
 * Authorization or Proxy-Authorization is a hash of the password with the nonce, which an offline
 * dictionary attack needs, so it is never stored; neither is the nonce it was computed with).
 */
export type TraceDirection = 'in' | 'out';

export interface TraceRecord {
  /** ms since the epoch. */
  readonly at: number;
  /** in: from a device (or its flow) to the edge; out: from the edge to a device. */
  readonly direction: TraceDirection;
  /** The flow's transport (RFC 7118 §7: WS or WSS). */
  readonly transport: string;
  /** The flow: the SipConnection id. */
  readonly flow: string;
  /** The device's IP address as the edge saw it, when known. */
  readonly remote?: string;
  readonly callId?: string;
  /** The start line, for listings. */
  readonly summary: string;
  /** The message, redacted; a body that is not UTF-8 text shows as replacement characters. */
  readonly message: string;
  /** UTF-8 length of `message`: what the size bound counts. */
  readonly bytes: number;
}

export interface TraceEntry {
  readonly direction: TraceDirection;
  readonly transport: string;
  readonly flow: string;
  readonly remote?: string;
  /** The message as sent or received, serialised. */
  readonly wire: string;
  /** The message's Call-ID and CSeq method when the caller has them parsed: saves reading them from `wire`. */
  readonly callId?: string;
  readonly cseqMethod?: string;
  /** When the message passed (ms), when it was not just now: a holder of the socket answered it and reports it later. */
  readonly at?: number;
}

const CREDENTIAL_HEADER = /^(authorization|proxy-authorization)[ \t]*:/i;
/** Whether a header section has a credential line at all: most messages have none. */
const ANY_CREDENTIAL_HEADER = /^(?:proxy-)?authorization[ \t]*:/im;
/** Digest parameters that identify the request, kept; every other one (response, nonce, cnonce, nc, opaque) goes. */
const KEPT_PARAMS = new Set(['username', 'realm', 'uri', 'algorithm', 'qop']);

export function traceRecord(entry: TraceEntry, at: number): TraceRecord {
  const message = redactCredentials(entry.wire);
  const lineEnd = message.indexOf('\r\n');
  const callId = entry.callId ?? headerValue(headOf(message), /^(?:call-id|i)[ \t]*:[ \t]*(.*)$/im);
  return {
    at,
    direction: entry.direction,
    transport: entry.transport,
    flow: entry.flow,
    ...(entry.remote === undefined || entry.remote === '' ? {} : { remote: entry.remote }),
    ...(callId === undefined || callId === '' ? {} : { callId }),
    summary: lineEnd < 0 ? message : message.slice(0, lineEnd),
    message,
    bytes: utf8Length(message),
  };
}

/** The UTF-8 length of `text` without encoding it (lone surrogates count as U+FFFD, 3 octets, as TextEncoder writes them). */
function utf8Length(text: string): number {
  let length = text.length;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) continue;
    if (code < 0x800) length += 1;
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: 2 UTF-16 units, 4 octets.
      length += 2;
      index++;
    } else length += 2;
  }
  return length;
}

/** The method of the message's CSeq (RFC 3261 §20.16): a response is filed under its request's method. */
export function cseqMethodOf(record: TraceRecord): string | undefined {
  return headerValue(headOf(record.message), /^cseq[ \t]*:[ \t]*\d+[ \t]+(\S+)/im)?.toUpperCase();
}

/**
 * The message with each Authorization and Proxy-Authorization value reduced to the parameters
 * that say who and what (username, realm, uri, algorithm, qop). Folded continuation lines of such
 * a header go with it.
 */
export function redactCredentials(wire: string): string {
  const split = wire.indexOf('\r\n\r\n');
  const head = split === -1 ? wire : wire.slice(0, split);
  if (!ANY_CREDENTIAL_HEADER.test(head)) return wire;
  const rest = split === -1 ? '' : wire.slice(split);
  const lines = head.split('\r\n');
  const out: string[] = [];
  let dropping = false;
  for (const line of lines) {
    if (dropping && (line.startsWith(' ') || line.startsWith('\t'))) continue;
    dropping = false;
    const match = CREDENTIAL_HEADER.exec(line);
    if (match === null) {
      out.push(line);
      continue;
    }
    dropping = true;
    const name = line.slice(0, line.indexOf(':'));
    out.push(`${name}: ${redactDigest(line.slice(line.indexOf(':') + 1).trim())}`);
  }
  return out.join('\r\n') + rest;
}

function redactDigest(value: string): string {
  const scheme = /^\S+/.exec(value)?.[0] ?? '';
  const kept: string[] = [];
  for (const param of value.slice(scheme.length).matchAll(/([A-Za-z0-9_-]+)[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^,\s]+)/g)) {
    const name = param[1] ?? '';
    if (KEPT_PARAMS.has(name.toLowerCase())) kept.push(`${name}=${param[2] ?? ''}`);
  }
  kept.push('response="[redacted]"');
  return `${scheme} ${kept.join(', ')}`;
}

function headOf(message: string): string {
  const split = message.indexOf('\r\n\r\n');
  return split === -1 ? message : message.slice(0, split);
}

function headerValue(head: string, pattern: RegExp): string | undefined {
  const value = pattern.exec(head)?.[1]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
