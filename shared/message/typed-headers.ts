/**
 * Typed views of the headers every element reads, parsed on demand from the raw fields.
 *
 * Each accessor returns undefined (or an empty list) when the header is absent and throws
 * `SipParseError` when it is present but malformed; for a request the error carries 400. When a
 * single-valued header appears more than once the first is used; `checkRequest` refuses such
 * requests (RFC 4475 §3.3.8).
 *
 * Views are cached per message object (messages are immutable values: an edit makes a new one),
 * since one request is checked, routed and processed by several layers that each read Via, To,
 * CSeq or Contact. The returned values are shared: callers must not modify them.
 */
import { parseCallId } from '../grammar/call-id.ts';
import { parseCSeq, readUint, type CSeq } from '../grammar/cseq.ts';
import { parseMediaType, type MediaType } from '../grammar/media-type.ts';
import { parseNameAddr, parseNameAddrList, type NameAddr } from '../grammar/name-addr.ts';
import { paramValue } from '../grammar/params.ts';
import { SipSyntaxError } from '../grammar/syntax-error.ts';
import { parseVia, type Via } from '../grammar/via.ts';
import { getHeader, getHeaderFields, getHeaders } from './headers.ts';
import type { SipMessage } from './message.ts';
import { SipParseError } from './parse-error.ts';

/** From or To: a name-addr whose `tag` parameter is also given on its own (RFC 3261 §19.3). */
export interface AddressHeader extends NameAddr {
  readonly tag?: string;
}

const views = new WeakMap<SipMessage, Map<string, unknown>>();

/** The view `key` of `message`, computed once; a read that throws is not cached. */
function cached<T>(message: SipMessage, key: string, compute: () => T): T {
  let known = views.get(message);
  if (known === undefined) {
    known = new Map();
    views.set(message, known);
  } else if (known.has(key)) return known.get(key) as T;
  const value = compute();
  known.set(key, value);
  return value;
}

/** Runs a grammar read, turning its error into the message layer's `SipParseError`. */
function read<T>(message: SipMessage, header: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof SipParseError || !(error instanceof SipSyntaxError)) throw error;
    throw new SipParseError(`${header}: ${error.reason}`, {
      response: message.kind === 'request' ? 400 : undefined,
      partial: message,
      cause: error,
    });
  }
}

/** Every via-parm of every Via field, topmost first (RFC 3261 §20.42). */
export function getVia(message: SipMessage): Via[] {
  return cached(message, 'via', () => read(message, 'Via', () => getHeaderFields(message, 'Via').flatMap((field) => parseVia(field.value))));
}

/** The topmost via-parm: the one a response travels back to (RFC 3261 §18.2.2). */
export function getTopVia(message: SipMessage): Via | undefined {
  const value = getHeader(message, 'Via');
  return value === undefined ? undefined : read(message, 'Via', () => parseVia(value)[0]);
}

function address(message: SipMessage, name: 'From' | 'To'): AddressHeader | undefined {
  return cached(message, name, () => {
    const value = getHeader(message, name);
    if (value === undefined) return undefined;
    return read(message, name, () => {
      const nameAddr = parseNameAddr(value);
      const tag = paramValue(nameAddr.params, 'tag');
      return tag === undefined ? nameAddr : { ...nameAddr, tag };
    });
  });
}

export function getFrom(message: SipMessage): AddressHeader | undefined {
  return address(message, 'From');
}

export function getTo(message: SipMessage): AddressHeader | undefined {
  return address(message, 'To');
}

export function getCallId(message: SipMessage): string | undefined {
  const value = getHeader(message, 'Call-ID');
  return value === undefined ? undefined : read(message, 'Call-ID', () => parseCallId(value));
}

export function getCSeq(message: SipMessage): CSeq | undefined {
  return cached(message, 'cseq', () => {
    const value = getHeader(message, 'CSeq');
    return value === undefined ? undefined : read(message, 'CSeq', () => parseCSeq(value));
  });
}

/**
 * Every Contact value in order, or `'*'` for the wildcard of a REGISTER that removes all bindings
 * (RFC 3261 §10.2.2, §20.10). `*` mixed with other values is refused.
 */
export function getContacts(message: SipMessage): NameAddr[] | '*' {
  return cached(message, 'contact', () => readContacts(message));
}

function readContacts(message: SipMessage): NameAddr[] | '*' {
  const fields = getHeaderFields(message, 'Contact');
  return read(message, 'Contact', () => {
    if (fields.length === 1 && fields[0]!.value === '*') return '*';
    const contacts: NameAddr[] = [];
    for (const field of fields) {
      if (field.value === '*') throw new SipSyntaxError("'*' must be the only Contact value");
      // A loop, not push(...list): spreading a hostile list of 100k values overflows the stack.
      for (const contact of parseNameAddrList(field.value)) contacts.push(contact);
    }
    return contacts;
  });
}

/** Route or Record-Route values, topmost first (RFC 3261 §20.30, §20.34). */
export function getRoutes(message: SipMessage, name: 'Route' | 'Record-Route' = 'Route'): NameAddr[] {
  const fields = getHeaderFields(message, name);
  return read(message, name, () => fields.flatMap((field) => parseNameAddrList(field.value)));
}

/** RFC 3261 §20.22: 0-255. */
export function getMaxForwards(message: SipMessage): number | undefined {
  const value = getHeader(message, 'Max-Forwards');
  return value === undefined ? undefined : read(message, 'Max-Forwards', () => readUint(value, 255, 'value'));
}

export function getContentLength(message: SipMessage): number | undefined {
  const value = getHeader(message, 'Content-Length');
  return value === undefined ? undefined : read(message, 'Content-Length', () => readUint(value, Number.MAX_SAFE_INTEGER, 'value'));
}

export function getContentType(message: SipMessage): MediaType | undefined {
  const value = getHeader(message, 'Content-Type');
  return value === undefined ? undefined : read(message, 'Content-Type', () => parseMediaType(value));
}

/** Expires in seconds (RFC 3261 §20.19: delta-seconds, at most 2**32-1). */
export function getExpires(message: SipMessage): number | undefined {
  const value = getHeader(message, 'Expires');
  return value === undefined ? undefined : read(message, 'Expires', () => readUint(value, 0xffffffff, 'value'));
}

/** The option tags of Require, Proxy-Require, Supported or Unsupported (RFC 3261 §19.2). */
export function getOptionTags(message: SipMessage, name: 'Require' | 'Proxy-Require' | 'Supported' | 'Unsupported'): string[] {
  return getHeaders(message, name);
}
