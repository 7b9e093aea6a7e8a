/**
 * Header field look-up and editing on the plain message model.
 *
 * Names compare case-insensitively and compact forms equal their long forms (RFC 3261 §7.3.1,
 * §7.3.3). Editors return a new message and leave the original untouched; they never touch
 * Content-Length except when asked to by name (`withBody` in `serialize.ts` keeps it true).
 */
import { splitList } from '../grammar/list.ts';
import { isToken } from '../grammar/char-class.ts';
import type { HeaderField, SipMessage } from './message.ts';

/**
 * The compact forms, in one place: RFC 3261 §7.3.3 (i m e l c f s k t v) and the extensions that
 * register one: o Event, u Allow-Events (RFC 6665), r Refer-To (RFC 3515), b Referred-By (RFC 3892),
 * x Session-Expires (RFC 4028), a Accept-Contact, j Reject-Contact, d Request-Disposition
 * (RFC 3841), y Identity, n Identity-Info (RFC 4474).
 */
export const COMPACT_FORMS: Readonly<Record<string, string>> = {
  i: 'Call-ID',
  m: 'Contact',
  e: 'Content-Encoding',
  l: 'Content-Length',
  c: 'Content-Type',
  f: 'From',
  s: 'Subject',
  k: 'Supported',
  t: 'To',
  v: 'Via',
  o: 'Event',
  u: 'Allow-Events',
  r: 'Refer-To',
  b: 'Referred-By',
  x: 'Session-Expires',
  a: 'Accept-Contact',
  j: 'Reject-Contact',
  d: 'Request-Disposition',
  y: 'Identity',
  n: 'Identity-Info',
};

/** Names whose usual capitalisation is not plain Title-Case, plus every compact form's long name. */
const CANONICAL_SPELLINGS = [
  ...Object.values(COMPACT_FORMS),
  'CSeq', 'WWW-Authenticate', 'RAck', 'RSeq', 'SIP-ETag', 'SIP-If-Match', 'MIME-Version',
  'P-Asserted-Identity', 'P-Preferred-Identity', 'P-Charging-Vector', 'P-Access-Network-Info',
  'Max-Forwards', 'Record-Route', 'Proxy-Require', 'Proxy-Authenticate', 'Proxy-Authorization',
  'Authentication-Info', 'Authorization', 'Accept', 'Accept-Encoding', 'Accept-Language',
  'Alert-Info', 'Allow', 'Call-Info', 'Content-Disposition', 'Content-Language', 'Date', 'Error-Info',
  'Expires', 'In-Reply-To', 'Min-Expires', 'Min-SE', 'MIME-Version', 'Organization', 'Path', 'Priority',
  'Reason', 'Reply-To', 'Require', 'Retry-After', 'Route', 'Server', 'Service-Route', 'Timestamp',
  'Unsupported', 'User-Agent', 'Warning', 'History-Info', 'Privacy', 'Replaces', 'Join', 'Target-Dialog',
  'Security-Client', 'Security-Server', 'Security-Verify', 'Subscription-State', 'Sec-WebSocket-Protocol',
];

const CANONICAL = new Map<string, string>(CANONICAL_SPELLINGS.map((name) => [name.toLowerCase(), name]));
const COMPACT_OF = new Map<string, string>(Object.entries(COMPACT_FORMS).map(([compact, name]) => [name.toLowerCase(), compact]));

/**
 * The long form with its usual capitalisation (`v` -> `Via`, `call-id` -> `Call-ID`); a name this
 * table does not know is returned as given.
 */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  const long = lower.length === 1 ? COMPACT_FORMS[lower] : undefined;
  if (long !== undefined) return long;
  return CANONICAL.get(lower) ?? name;
}

/** Lower-cased long form: the identity of a header name for comparisons. */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1) {
    const long = COMPACT_FORMS[lower];
    if (long !== undefined) return long.toLowerCase();
  }
  return lower;
}

/** A matcher for one header name, built once per look-up so each field costs a length test. */
function nameMatcher(name: string): (fieldName: string) => boolean {
  const key = headerKey(name);
  const compact = COMPACT_OF.get(key);
  return (fieldName) => {
    if (fieldName.length === 1) return compact !== undefined && fieldName.toLowerCase() === compact;
    return fieldName.length === key.length && fieldName.toLowerCase() === key;
  };
}

/**
 * Headers whose grammar is a comma-separated list, so `getHeaders` splits them. Anything else,
 * unknown headers included, is returned one field value at a time: their grammar may hold commas
 * (WWW-Authenticate, Authorization, Date, Retry-After's comment, an unknown header's value).
 */
const LIST_HEADERS = new Set([
  'via', 'contact', 'route', 'record-route', 'path', 'service-route', 'allow', 'supported', 'require',
  'proxy-require', 'unsupported', 'accept', 'accept-encoding', 'accept-language', 'content-encoding',
  'content-language', 'allow-events', 'accept-contact', 'reject-contact', 'request-disposition',
  'alert-info', 'call-info', 'error-info', 'in-reply-to', 'warning', 'reason', 'history-info',
  'p-asserted-identity', 'p-preferred-identity', 'p-associated-uri', 'security-client',
  'security-server', 'security-verify', 'recv-info', 'permission-missing', 'trigger-consent',
]);

/** True when `getHeaders` splits this header's values at top-level commas. */
export function isListHeader(name: string): boolean {
  return LIST_HEADERS.has(headerKey(name));
}

/** The raw value of the first field called `name`, or undefined. */
export function getHeader(message: SipMessage, name: string): string | undefined {
  const matches = nameMatcher(name);
  for (const field of message.headers) if (matches(field.name)) return field.value;
  return undefined;
}

/**
 * Every value of `name` in wire order. For list headers each field is split at top-level commas
 * (not inside quotes or `<...>`), values are trimmed and empty ones dropped; other headers give one
 * raw value per field.
 */
export function getHeaders(message: SipMessage, name: string): string[] {
  const matches = nameMatcher(name);
  const split = isListHeader(name);
  const values: string[] = [];
  for (const field of message.headers) {
    if (!matches(field.name)) continue;
    if (!split) {
      values.push(field.value);
      continue;
    }
    for (const value of splitList(field.value)) if (value.length > 0) values.push(value);
  }
  return values;
}

/** Every field called `name`, as held (name spelling and raw value). */
export function getHeaderFields(message: SipMessage, name: string): HeaderField[] {
  const matches = nameMatcher(name);
  return message.headers.filter((field) => matches(field.name));
}

export function hasHeader(message: SipMessage, name: string): boolean {
  const matches = nameMatcher(name);
  return message.headers.some((field) => matches(field.name));
}

/** A header line the serializer can write: a token name and a value without line breaks. */
function field(name: string, value: string): HeaderField {
  if (!isToken(name)) throw new TypeError(`header name '${name}' is not a token`);
  if (/[\r\n]/.test(value)) throw new TypeError(`header value for ${name} contains a line break`);
  return { name, value };
}

function withHeaders<M extends SipMessage>(message: M, headers: HeaderField[]): M {
  return { ...message, headers };
}

/**
 * Replaces every field called `name` with one field holding `value`, placed where the first one
 * was (at the end when there was none).
 */
export function setHeader<M extends SipMessage>(message: M, name: string, value: string): M {
  const matches = nameMatcher(name);
  const replacement = field(name, value);
  const headers: HeaderField[] = [];
  let placed = false;
  for (const existing of message.headers) {
    if (!matches(existing.name)) headers.push(existing);
    else if (!placed) {
      headers.push(replacement);
      placed = true;
    }
  }
  if (!placed) headers.push(replacement);
  return withHeaders(message, headers);
}

/** Adds a field after all others. */
export function appendHeader<M extends SipMessage>(message: M, name: string, value: string): M {
  return withHeaders(message, [...message.headers, field(name, value)]);
}

/**
 * Adds a field before all others, which puts a new Via or Record-Route on top
 * (RFC 3261 §16.6 step 8, §16.6 step 4).
 */
export function prependHeader<M extends SipMessage>(message: M, name: string, value: string): M {
  return withHeaders(message, [field(name, value), ...message.headers]);
}

/** Removes every field called `name` (compact form included). */
export function removeHeader<M extends SipMessage>(message: M, name: string): M {
  const matches = nameMatcher(name);
  return withHeaders(message, message.headers.filter((existing) => !matches(existing.name)));
}
