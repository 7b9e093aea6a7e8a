/**
 * Building a response to a request (RFC 3261 §8.2.6).
 */
import { parseNameAddr } from '../grammar/name-addr.ts';
import { hasParam } from '../grammar/params.ts';
import { SipSyntaxError } from '../grammar/syntax-error.ts';
import { getHeaderFields } from './headers.ts';
import type { HeaderField, SipRequest, SipResponse } from './message.ts';
import { reasonPhrase } from './reason-phrases.ts';

export interface CreateResponseOptions {
  /** Added to To when the request's To has no tag (RFC 3261 §8.2.6.2); ignored otherwise. */
  readonly toTag?: string;
  /** Extra header fields, written after the copied ones (Contact, Allow, Unsupported, ...). */
  readonly headers?: readonly HeaderField[];
  readonly body?: Uint8Array | string;
  /** Content-Type of `body`; required by RFC 3261 §20.15 when the body is not empty. */
  readonly contentType?: string;
}

const encoder = new TextEncoder();

/**
 * RFC 3261 §8.2.6.2: the response copies every Via (in order), From, Call-ID and CSeq exactly, and
 * To, adding the UAS's tag when the request had none. §8.2.6.1: a 100 copies Timestamp. Content-Length
 * is always written. Fields are copied as received (names and raw values), so a request whose header
 * was malformed (a `SipParseError.partial`) can still be answered.
 */
export function createResponse(request: SipRequest, status: number, reason?: string, options: CreateResponseOptions = {}): SipResponse {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`status ${status} is not 100-699`);
  const headers: HeaderField[] = [...getHeaderFields(request, 'Via')];
  const first = (name: string): HeaderField | undefined => getHeaderFields(request, name)[0];
  const from = first('From');
  if (from) headers.push(from);
  const to = first('To');
  if (to) headers.push(options.toTag === undefined ? to : withToTag(to, options.toTag));
  for (const name of ['Call-ID', 'CSeq']) {
    const field = first(name);
    if (field) headers.push(field);
  }
  if (status === 100) {
    const timestamp = first('Timestamp');
    if (timestamp) headers.push(timestamp);
  }
  if (options.headers) headers.push(...options.headers);
  const body = options.body === undefined ? new Uint8Array(0) : typeof options.body === 'string' ? encoder.encode(options.body) : options.body;
  if (options.contentType !== undefined) headers.push({ name: 'Content-Type', value: options.contentType });
  headers.push({ name: 'Content-Length', value: String(body.length) });
  return { kind: 'response', status, reason: reason ?? reasonPhrase(status), version: 'SIP/2.0', headers, body };
}

function withToTag(to: HeaderField, tag: string): HeaderField {
  try {
    if (hasParam(parseNameAddr(to.value).params, 'tag')) return to;
  } catch (error) {
    // A To that does not parse is copied untouched: the response is then a 400 about it anyway.
    if (error instanceof SipSyntaxError) return to;
    throw error;
  }
  return { name: to.name, value: `${to.value};tag=${tag}` };
}
