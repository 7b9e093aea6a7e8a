/**
 * URIs: SIP and SIPS (RFC 3261 §19.1), tel (RFC 3966), and any other absolute URI kept opaque
 * (RFC 3261 §25.1 `absoluteURI`; RFC 4475 §3.3.2 and §3.3.3 send unknown schemes that a parser must
 * accept).
 *
 * Every part is kept as written, %-escapes included (see `percent-encoding.ts`), so that
 * `serializeUri(parseUri(text)) === text` for anything but the scheme's case, which is lowered for
 * sip, sips and tel.
 */
import { isAlpha, isDigit, isHexDigit, isLws, isPasswordChar, isUriHeaderChar, isUriParamChar, isUricChar, isUserChar, isHostChar } from './char-class.ts';
import { isHost, isIpv6Reference, parsePort } from './host.ts';
import type { Param } from './params.ts';
import { checkEscaped } from './percent-encoding.ts';
import { SipSyntaxError } from './syntax-error.ts';

/** `sip:` / `sips:` (RFC 3261 §19.1.1). */
export interface SipUri {
  readonly kind: 'sip';
  readonly scheme: 'sip' | 'sips';
  /** As written, %-escapes kept; may hold `;` and `?` (RFC 4475 §3.1.1.9). */
  readonly user?: string;
  readonly password?: string;
  /** A hostname, an IPv4 address, or an IPv6 reference with its brackets. */
  readonly host: string;
  readonly port?: number;
  /** uri-parameters (`;transport=ws;lr`), as written. */
  readonly params: readonly Param[];
  /** headers (`?Route=%3Csip:x%3E&Subject=hi`), as written. */
  readonly headers: readonly UriHeader[];
}

export interface UriHeader {
  readonly name: string;
  readonly value: string;
}

/** `tel:` (RFC 3966 §3): the number with its visual separators, and its parameters. */
export interface TelUri {
  readonly kind: 'tel';
  readonly scheme: 'tel';
  readonly number: string;
  readonly params: readonly Param[];
}

/** Any other scheme: only the scheme is understood, the rest is carried as is. */
export interface AbsoluteUri {
  readonly kind: 'absolute';
  /** As written. Compare case-insensitively (RFC 3261 §19.1.4). */
  readonly scheme: string;
  /** Everything after the first `:`. */
  readonly opaque: string;
}

export type Uri = SipUri | TelUri | AbsoluteUri;

export function parseUri(text: string): Uri {
  const colon = schemeEnd(text);
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(text, scheme, colon + 1);
  if (scheme === 'tel') return parseTelUri(text, colon + 1);
  if (colon + 1 >= text.length) throw new SipSyntaxError(`URI '${text}' has nothing after its scheme`);
  checkEscaped(text, colon + 1, text.length, isUricChar, 'URI');
  return { kind: 'absolute', scheme: text.slice(0, colon), opaque: text.slice(colon + 1) };
}

/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), followed by ":". */
function schemeEnd(text: string): number {
  if (text.length === 0) throw new SipSyntaxError('empty URI');
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isLws(c)) throw new SipSyntaxError(`URI '${text}' contains whitespace`);
  }
  if (text.charCodeAt(0) === 60) throw new SipSyntaxError(`'${text}' is not a URI: it is enclosed in <>`);
  if (!isAlpha(text.charCodeAt(0))) throw new SipSyntaxError(`'${text}' is not a URI: a scheme must start with a letter`);
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 58) return i;
    if (!isAlpha(c) && !isDigit(c) && c !== 43 && c !== 45 && c !== 46) break;
  }
  throw new SipSyntaxError(`'${text}' is not a URI: no scheme followed by ':'`);
}

function parseSipUri(text: string, scheme: 'sip' | 'sips', start: number): SipUri {
  let i = start;
  let user: string | undefined;
  let password: string | undefined;
  // No part after the userinfo may hold an unescaped '@', so any '@' ends the userinfo.
  const at = text.indexOf('@', i);
  if (at >= 0) {
    const colon = text.indexOf(':', i);
    const userEnd = colon >= 0 && colon < at ? colon : at;
    if (userEnd === i) throw new SipSyntaxError(`SIP URI '${text}' has an empty user before '@'`);
    checkEscaped(text, i, userEnd, isUserChar, 'user');
    user = text.slice(i, userEnd);
    if (userEnd < at) {
      checkEscaped(text, userEnd + 1, at, isPasswordChar, 'password');
      password = text.slice(userEnd + 1, at);
    }
    i = at + 1;
  }

  let host: string;
  if (text.charCodeAt(i) === 91) {
    const close = text.indexOf(']', i);
    if (close < 0) throw new SipSyntaxError(`SIP URI '${text}' has an IPv6 reference without ']'`);
    host = text.slice(i, close + 1);
    if (!isIpv6Reference(host)) throw new SipSyntaxError(`SIP URI '${text}' has an invalid IPv6 reference '${host}'`);
    i = close + 1;
  } else {
    const hostStart = i;
    while (i < text.length && isHostChar(text.charCodeAt(i))) i++;
    host = text.slice(hostStart, i);
    const hostportEnd = endOfHostport(text, i);
    if (text.slice(hostStart, hostportEnd).split(':').length > 2) {
      throw new SipSyntaxError(`SIP URI '${text}' holds an IPv6 address not enclosed in [ ] (RFC 5118 §4.2)`);
    }
    if (host.length === 0) throw new SipSyntaxError(`SIP URI '${text}' has no host`);
    if (!isHost(host)) throw new SipSyntaxError(`SIP URI '${text}' has an invalid host '${host}'`);
  }

  let port: number | undefined;
  if (text.charCodeAt(i) === 58) {
    const portEnd = endOfHostport(text, i + 1);
    port = parsePort(text.slice(i + 1, portEnd));
    i = portEnd;
  }

  const params: Param[] = [];
  while (text.charCodeAt(i) === 59) {
    const nameEnd = endOf(text, i + 1, ';?=');
    if (nameEnd === i + 1) throw new SipSyntaxError(`SIP URI '${text}' has an empty parameter`);
    checkEscaped(text, i + 1, nameEnd, isUriParamChar, 'URI parameter');
    const name = text.slice(i + 1, nameEnd);
    if (text.charCodeAt(nameEnd) === 61) {
      const valueEnd = endOf(text, nameEnd + 1, ';?');
      if (valueEnd === nameEnd + 1) throw new SipSyntaxError(`SIP URI parameter '${name}' has '=' but no value`);
      checkEscaped(text, nameEnd + 1, valueEnd, isUriParamChar, `URI parameter '${name}'`);
      params.push({ name, value: text.slice(nameEnd + 1, valueEnd) });
      i = valueEnd;
    } else {
      params.push({ name });
      i = nameEnd;
    }
  }

  const headers: UriHeader[] = [];
  if (text.charCodeAt(i) === 63) {
    do {
      const nameEnd = endOf(text, i + 1, '=&');
      if (nameEnd === i + 1 || text.charCodeAt(nameEnd) !== 61) {
        throw new SipSyntaxError(`SIP URI '${text}' has a header without 'name='`);
      }
      checkEscaped(text, i + 1, nameEnd, isUriHeaderChar, 'URI header name');
      const valueEnd = endOf(text, nameEnd + 1, '&');
      checkEscaped(text, nameEnd + 1, valueEnd, isUriHeaderChar, 'URI header value');
      headers.push({ name: text.slice(i + 1, nameEnd), value: text.slice(nameEnd + 1, valueEnd) });
      i = valueEnd;
    } while (text.charCodeAt(i) === 38);
  }

  if (i < text.length) throw new SipSyntaxError(`SIP URI '${text}' has an unexpected '${text[i]}'`);
  // Absent parts are present as undefined so that every SipUri has one shape.
  return { kind: 'sip', scheme, user, password, host, port, params, headers };
}

function endOfHostport(text: string, i: number): number {
  return endOf(text, i, ';?');
}

function endOf(text: string, i: number, stops: string): number {
  while (i < text.length && stops.indexOf(text[i]!) < 0) i++;
  return i;
}

/**
 * RFC 3966 §3: global-number-digits = "+" *phonedigit DIGIT *phonedigit, local numbers use
 * phonedigit-hex / "*" / "#"; visual separators are "-" / "." / "(" / ")". A local number should
 * carry `phone-context`; it is not demanded here because deployed clients often leave it out.
 */
function parseTelUri(text: string, start: number): TelUri {
  const numberEnd = endOf(text, start, ';');
  const number = text.slice(start, numberEnd);
  const global = number.charCodeAt(0) === 43;
  let digits = 0;
  for (let i = global ? 1 : 0; i < number.length; i++) {
    const c = number.charCodeAt(i);
    if (isDigit(c) || (!global && (isHexDigit(c) || c === 42 || c === 35))) digits++;
    else if (c !== 45 && c !== 46 && c !== 40 && c !== 41) {
      throw new SipSyntaxError(`tel URI '${text}' has '${number[i]}' in its number`);
    }
  }
  if (digits === 0) throw new SipSyntaxError(`tel URI '${text}' has no digits`);
  const params: Param[] = [];
  let i = numberEnd;
  while (i < text.length) {
    const nameEnd = endOf(text, i + 1, ';=');
    if (nameEnd === i + 1) throw new SipSyntaxError(`tel URI '${text}' has an empty parameter`);
    checkEscaped(text, i + 1, nameEnd, isUriParamChar, 'tel parameter');
    const name = text.slice(i + 1, nameEnd);
    if (text.charCodeAt(nameEnd) === 61) {
      const valueEnd = endOf(text, nameEnd + 1, ';');
      checkEscaped(text, nameEnd + 1, valueEnd, isUriParamChar, `tel parameter '${name}'`);
      params.push({ name, value: text.slice(nameEnd + 1, valueEnd) });
      i = valueEnd;
    } else {
      params.push({ name });
      i = nameEnd;
    }
  }
  return { kind: 'tel', scheme: 'tel', number, params };
}

export function serializeUri(uri: Uri): string {
  switch (uri.kind) {
    case 'absolute':
      return `${uri.scheme}:${uri.opaque}`;
    case 'tel':
      return `tel:${uri.number}${uriParams(uri.params)}`;
    case 'sip': {
      let out = `${uri.scheme}:`;
      if (uri.user !== undefined) out += uri.password === undefined ? `${uri.user}@` : `${uri.user}:${uri.password}@`;
      out += uri.host;
      if (uri.port !== undefined) out += `:${uri.port}`;
      out += uriParams(uri.params);
      if (uri.headers.length > 0) out += `?${uri.headers.map((h) => `${h.name}=${h.value}`).join('&')}`;
      return out;
    }
  }
}

function uriParams(params: readonly Param[]): string {
  let out = '';
  for (const p of params) out += p.value === undefined ? `;${p.name}` : `;${p.name}=${p.value}`;
  return out;
}
