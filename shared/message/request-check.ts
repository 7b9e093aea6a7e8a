/**
 * The checks a server makes before acting on a request (RFC 3261 §8.2 for a UAS, §16.3 for a proxy,
 * §10.3 for a registrar), as a pure function: it returns the response to send, or undefined when
 * the request may proceed. It never throws for a malformed header; that is a 400.
 *
 * Order (RFC 3261 §8.2 and RFC 4475's notes): version (505), syntax of the headers every element
 * needs (400), method (405/501) and CSeq (400), transaction id (400), Request-URI scheme (416), then
 * per role: a proxy checks Max-Forwards (483) and Proxy-Require (420); a UAS or registrar checks the
 * registrar rules (400), Require (420), the body (415) and Accept (406).
 */
import { parseMediaRanges, type MediaType } from '../grammar/media-type.ts';
import { paramValue } from '../grammar/params.ts';
import { parseUri } from '../grammar/uri.ts';
import { isToken } from '../grammar/char-class.ts';
import { SipSyntaxError } from '../grammar/syntax-error.ts';
import { getHeaderFields, getHeaders, hasHeader } from './headers.ts';
import type { HeaderField, SipRequest } from './message.ts';
import { SipParseError } from './parse-error.ts';
import { reasonPhrase } from './reason-phrases.ts';
import {
  getCSeq,
  getCallId,
  getContacts,
  getContentLength,
  getContentType,
  getExpires,
  getFrom,
  getMaxForwards,
  getTo,
  getTopVia,
  getVia,
} from './typed-headers.ts';

export type ElementRole = 'uas' | 'proxy' | 'registrar';

export interface RequestCheckOptions {
  readonly role: ElementRole;
  /** Methods the element implements (UAS, registrar); default `DEFAULT_METHODS`. */
  readonly methods?: readonly string[];
  /** Request-URI schemes the element serves; default sip and sips. */
  readonly uriSchemes?: readonly string[];
  /** Option tags the element supports (Require for a UAS, Proxy-Require for a proxy); default none. */
  readonly extensions?: readonly string[];
  /** Body types a UAS accepts; default application/sdp. */
  readonly contentTypes?: readonly string[];
  /** Content codings a UAS accepts besides identity; default none. */
  readonly contentEncodings?: readonly string[];
  /** Per method, the body types a UAS's answers carry (checked against Accept); default INVITE -> SDP. */
  readonly produces?: Readonly<Record<string, readonly string[]>>;
  /**
   * The checks every role makes (version, header syntax, CSeq method, branch, Request-URI scheme
   * with the default schemes) already passed, as when an element checked the request as a proxy
   * on arrival and now acts on it as a UAS or registrar: only the role's own checks run.
   */
  readonly commonChecked?: boolean;
}

export interface RequestRejection {
  readonly status: number;
  /** The reason phrase to send. */
  readonly reason: string;
  /** Why, for logs and traces. */
  readonly detail: string;
  /** Header fields the response must carry (Allow, Unsupported, Accept, Accept-Encoding). */
  readonly headers: readonly HeaderField[];
}

/** The RFC 3261 methods and the extensions sipedge's user agents implement. */
export const DEFAULT_METHODS: readonly string[] = [
  'INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'PRACK', 'UPDATE', 'INFO', 'MESSAGE', 'REFER', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH',
];

/** Methods defined by RFC 3261 and standard extensions: an element knows of them even when it does not allow them. */
const KNOWN_METHODS = new Set(DEFAULT_METHODS);

/** Single-valued headers (RFC 3261 §20): a second field makes the request ambiguous (RFC 4475 §3.3.8). */
const SINGLE_VALUED = ['From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Content-Length', 'Content-Type', 'Expires'];

/** RFC 3261 §8.1.1.7: a branch beginning with this cookie was built by RFC 3261 rules. */
const MAGIC_COOKIE = 'z9hG4bK';

function reject(status: number, detail: string, headers: HeaderField[] = []): RequestRejection {
  return { status, reason: reasonPhrase(status), detail, headers };
}

export function checkRequest(request: SipRequest, options: RequestCheckOptions): RequestRejection | undefined {
  const methods = options.methods ?? DEFAULT_METHODS;
  const allow = (): HeaderField[] => [{ name: 'Allow', value: methods.join(', ') }];
  const implemented = methods.includes(request.method);
  if (options.commonChecked === true) {
    if (options.role !== 'proxy' && !implemented) return notAllowed(request.method, allow());
    return options.role === 'proxy' ? checkAtProxy(request, options) : checkAtUas(request, options);
  }
  // RFC 3261 §21.5.6 (RFC 4475 §3.1.2.16).
  if (request.version.toUpperCase() !== 'SIP/2.0') return reject(505, `SIP-Version ${request.version} is not SIP/2.0`);

  const syntax = checkSyntax(request);
  if (syntax) return syntax;

  if (options.role !== 'proxy' && !implemented) return notAllowed(request.method, allow());
  const cseq = getCSeq(request);
  if (cseq && cseq.method !== request.method) {
    // RFC 4475 §3.1.2.18: with an unknown method, 501 is the more future-proof answer than 400.
    const detail = `CSeq method ${cseq.method} does not match the request method ${request.method}`;
    return implemented || KNOWN_METHODS.has(request.method) ? reject(400, detail) : reject(501, detail, allow());
  }
  if (getTopVia(request)?.branch === MAGIC_COOKIE) {
    // RFC 4475 §3.2.1: a branch that is only the cookie identifies no transaction.
    return reject(400, `Via branch is only the magic cookie ${MAGIC_COOKIE}`);
  }

  // RFC 3261 §8.2.2.1 (UAS) and §16.3 step 2 (proxy).
  const schemes = options.uriSchemes ?? ['sip', 'sips'];
  let scheme: string;
  try {
    scheme = parseUri(request.uri).scheme.toLowerCase();
  } catch (error) {
    // Only a request built by hand gets here: parseMessage refuses a malformed Request-URI.
    if (error instanceof SipSyntaxError) return reject(400, `Request-URI: ${error.reason}`);
    throw error;
  }
  if (!schemes.includes(scheme)) return reject(416, `Request-URI scheme ${scheme} is not supported`);

  if (options.role === 'proxy') return checkAtProxy(request, options);
  return checkAtUas(request, options);
}

/**
 * RFC 3261 §8.2.1: 405 for a method the UAS knows but does not allow here, 501 for one it does not
 * know (§21.5.2); both list what is allowed.
 */
function notAllowed(method: string, allow: HeaderField[]): RequestRejection {
  if (KNOWN_METHODS.has(method)) return reject(405, `${method} is not allowed here`, allow);
  return reject(501, `method ${method} is not implemented`, allow);
}

/** 400 for a missing, repeated or malformed header that every element needs (RFC 3261 §8.1.1, §8.2). */
function checkSyntax(request: SipRequest): RequestRejection | undefined {
  // Max-Forwards is not demanded: RFC 2543 requests lack it (RFC 4475 §3.4.1).
  const missing = ['Via', 'From', 'To', 'Call-ID', 'CSeq'].filter((name) => !hasHeader(request, name));
  if (missing.length > 0) return reject(400, `missing ${missing.join(', ')}`);
  for (const name of SINGLE_VALUED) {
    if (getHeaderFields(request, name).length > 1) return reject(400, `multiple ${name} header fields`);
  }
  try {
    getVia(request);
    getFrom(request);
    getTo(request);
    getCallId(request);
    getCSeq(request);
    getMaxForwards(request);
    getContentLength(request);
    getContentType(request);
    return undefined;
  } catch (error) {
    if (error instanceof SipParseError) return reject(400, error.reason);
    throw error;
  }
}

function checkAtProxy(request: SipRequest, options: RequestCheckOptions): RequestRejection | undefined {
  // RFC 3261 §16.3 step 3.
  if (getMaxForwards(request) === 0) return reject(483, 'Max-Forwards is 0');
  // RFC 3261 §16.3 step 5 (RFC 4475 §3.3.5).
  return unsupported(request, 'Proxy-Require', options.extensions ?? []);
}

function checkAtUas(request: SipRequest, options: RequestCheckOptions): RequestRejection | undefined {
  let expires: number | undefined;
  try {
    const contacts = getContacts(request);
    expires = getExpires(request);
    if (options.role === 'registrar' && request.method === 'REGISTER') {
      const registration = checkRegistration(request, contacts, expires);
      if (registration) return registration;
    }
  } catch (error) {
    if (error instanceof SipParseError) return reject(400, error.reason);
    throw error;
  }

  // RFC 3261 §8.2.2.3: Require is ignored on ACK, and a CANCEL is never refused for it.
  if (request.method !== 'ACK' && request.method !== 'CANCEL') {
    const extension = unsupported(request, 'Require', options.extensions ?? []);
    if (extension) return extension;
  }
  return checkBody(request, options) ?? checkAccept(request, options);
}

/** RFC 3261 §10.3 steps 5-6 (RFC 4475 §3.3.4): the AOR must be a SIP or SIPS URI; `*` only alone with Expires 0. */
function checkRegistration(request: SipRequest, contacts: ReturnType<typeof getContacts>, expires: number | undefined): RequestRejection | undefined {
  const to = getTo(request);
  if (to && to.uri.kind !== 'sip') return reject(400, `To of a REGISTER must hold a SIP or SIPS URI, not ${to.uri.scheme}:`);
  if (contacts === '*' && expires !== 0) return reject(400, "Contact '*' needs Expires: 0");
  return undefined;
}

/** 420 naming every option tag of `header` the element does not support (RFC 3261 §8.2.2.3, §20.40). */
function unsupported(request: SipRequest, header: 'Require' | 'Proxy-Require', supported: readonly string[]): RequestRejection | undefined {
  const tags = getHeaders(request, header);
  const bad = tags.find((tag) => !isToken(tag));
  if (bad !== undefined) return reject(400, `${header}: option tag '${bad}' is not a token`);
  const unknown = tags.filter((tag) => !supported.includes(tag));
  if (unknown.length === 0) return undefined;
  return reject(420, `${header} names unsupported extensions: ${unknown.join(', ')}`, [{ name: 'Unsupported', value: unknown.join(', ') }]);
}

/** RFC 3261 §8.2.3: a body the UAS cannot process is refused with 415, saying what it can take. */
function checkBody(request: SipRequest, options: RequestCheckOptions): RequestRejection | undefined {
  if (request.body.length === 0) return undefined;
  const encodings = options.contentEncodings ?? [];
  const unknownCoding = getHeaders(request, 'Content-Encoding').find((coding) => coding.toLowerCase() !== 'identity' && !encodings.includes(coding.toLowerCase()));
  if (unknownCoding !== undefined) {
    return reject(415, `Content-Encoding ${unknownCoding} is not supported`, [{ name: 'Accept-Encoding', value: ['identity', ...encodings].join(', ') }]);
  }
  const type = getContentType(request);
  // RFC 3261 §7.4.1: a non-empty body must say what it is.
  if (type === undefined) return reject(400, 'a body without Content-Type');
  const accepted = options.contentTypes ?? ['application/sdp'];
  if (!accepted.includes(`${type.type}/${type.subtype}`)) {
    return reject(415, `Content-Type ${type.type}/${type.subtype} is not supported`, [{ name: 'Accept', value: accepted.join(', ') }]);
  }
  return undefined;
}

/** RFC 3261 §21.4.7 (RFC 4475 §3.3.15): 406 when every body the answer could carry is unacceptable. */
function checkAccept(request: SipRequest, options: RequestCheckOptions): RequestRejection | undefined {
  const produced = (options.produces ?? { INVITE: ['application/sdp'] })[request.method];
  if (produced === undefined || produced.length === 0 || !hasHeader(request, 'Accept')) return undefined;
  let ranges: MediaType[];
  try {
    ranges = getHeaderFields(request, 'Accept').flatMap((field) => parseMediaRanges(field.value));
  } catch (error) {
    if (error instanceof SipSyntaxError) return reject(400, `Accept: ${error.reason}`);
    throw error;
  }
  if (produced.some((type) => isAccepted(type, ranges))) return undefined;
  return reject(406, `Accept allows none of ${produced.join(', ')}`);
}

function isAccepted(type: string, ranges: readonly MediaType[]): boolean {
  const [main = '', sub = ''] = type.toLowerCase().split('/');
  return ranges.some((range) => {
    const q = paramValue(range.params, 'q');
    if (q !== undefined && Number(q) === 0) return false;
    return (range.type === '*' || range.type === main) && (range.subtype === '*' || range.subtype === sub);
  });
}
