/**
 * name-addr / addr-spec with header parameters: the value of From, To, Contact, Route,
 * Record-Route, Refer-To, P-Asserted-Identity and their kin (RFC 3261 §20.10, §25.1).
 *
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 *
 * RFC 3261 §20.10: in the bare addr-spec form, parameters after the URI belong to the header, not to
 * the URI, and a URI containing a comma, question mark or semicolon must be enclosed in <>.
 */
import { isLws, isTokenChar } from './char-class.ts';
import { scanParams, serializeParams, type Param } from './params.ts';
import { SipSyntaxError } from './syntax-error.ts';
import { quote, scanQuotedString, skipLws, trimLwsEnd, unquote } from './text-scan.ts';
import { parseUri, serializeUri, type Uri } from './uri.ts';

export interface NameAddr {
  /** Quoted-pairs resolved, LWS runs of a token name read as one space; undefined when absent. */
  readonly displayName?: string;
  readonly uri: Uri;
  /** Header parameters (`tag`, `expires`, `q`, ...), as written. */
  readonly params: readonly Param[];
}

export interface NameAddrScan {
  readonly value: NameAddr;
  /** Index after the value and its parameters, LWS skipped: the end, or a `,` in a list. */
  readonly end: number;
}

/** Reads one name-addr or addr-spec with its parameters, starting at `i`. */
export function scanNameAddr(text: string, i: number): NameAddrScan {
  const start = skipLws(text, i);
  if (start >= text.length || text.charCodeAt(start) === 44) {
    throw new SipSyntaxError('empty value where a name-addr or addr-spec was expected');
  }
  let displayName: string | undefined;
  let open = -1;
  const first = text.charCodeAt(start);
  if (first === 34) {
    const quoteEnd = scanQuotedString(text, start);
    displayName = unquote(text.slice(start, quoteEnd));
    open = skipLws(text, quoteEnd);
    if (text.charCodeAt(open) !== 60) throw new SipSyntaxError(`quoted display name ${text.slice(start, quoteEnd)} is not followed by <URI>`);
  } else if (first === 60) {
    open = start;
  } else {
    let k = start;
    while (k < text.length && (isTokenChar(text.charCodeAt(k)) || isLws(text.charCodeAt(k)))) k++;
    if (text.charCodeAt(k) === 60) {
      // RFC 4475 §3.1.1.6: `caller<sip:...>` (no LWS before '<') is a known ABNF bug; accept it.
      displayName = text.slice(start, trimLwsEnd(text, start, k)).replace(/[ \t\r\n]+/g, ' ');
      open = k;
    } else if (text.charCodeAt(k) !== 58 || hasLws(text, start, k)) {
      const found = k < text.length ? `'${text[k]}'` : 'the end';
      if (text.indexOf('<', k) >= 0) {
        throw new SipSyntaxError(`display name '${text.slice(start, text.indexOf('<', k)).trim()}' must be quoted: ${found} is not a token character (RFC 3261 §25.1)`);
      }
      throw new SipSyntaxError(`'${text.slice(start)}' is neither a name-addr nor an addr-spec (unexpected ${found})`);
    }
  }

  let uri: Uri;
  let afterUri: number;
  if (open >= 0) {
    const close = text.indexOf('>', open + 1);
    if (close < 0) throw new SipSyntaxError(`'<' without a closing '>' in '${text.slice(start)}'`);
    if (isLws(text.charCodeAt(open + 1)) || isLws(text.charCodeAt(close - 1))) {
      throw new SipSyntaxError(`whitespace inside <${text.slice(open + 1, close)}>: an addr-spec may not contain spaces (RFC 4475 §3.1.2.14)`);
    }
    uri = parseUri(text.slice(open + 1, close));
    afterUri = close + 1;
  } else {
    let end = start;
    while (end < text.length) {
      const c = text.charCodeAt(end);
      if (c === 59 || c === 44 || isLws(c)) break;
      end++;
    }
    const uriText = text.slice(start, end);
    if (uriText.indexOf('?') >= 0) {
      throw new SipSyntaxError(`URI '${uriText}' carries headers, so it must be enclosed in <> (RFC 3261 §20.10)`);
    }
    uri = parseUri(uriText);
    afterUri = end;
  }

  const scan = scanParams(text, afterUri);
  const value: NameAddr = displayName === undefined ? { uri, params: scan.params } : { displayName, uri, params: scan.params };
  return { value, end: scan.end };
}

function hasLws(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (isLws(text.charCodeAt(i))) return true;
  return false;
}

/** One name-addr or addr-spec with parameters, and nothing else. */
export function parseNameAddr(text: string): NameAddr {
  const scan = scanNameAddr(text, 0);
  if (scan.end < text.length) {
    throw new SipSyntaxError(`unexpected '${text[scan.end]}' after '${text.slice(0, scan.end).trim()}'`);
  }
  return scan.value;
}

/** A comma-separated list of name-addr / addr-spec values (Contact, Route, Record-Route, ...). */
export function parseNameAddrList(text: string): NameAddr[] {
  const values: NameAddr[] = [];
  let i = 0;
  for (;;) {
    const scan = scanNameAddr(text, i);
    values.push(scan.value);
    if (scan.end >= text.length) return values;
    if (text.charCodeAt(scan.end) !== 44) {
      throw new SipSyntaxError(`unexpected '${text[scan.end]}' after '${text.slice(i, scan.end).trim()}'`);
    }
    i = scan.end + 1;
  }
}

const TOKEN_WORDS = /^[A-Za-z0-9\-.!%*_+`'~]+(?: [A-Za-z0-9\-.!%*_+`'~]+)*$/;

/** Always in name-addr form (`"Name" <uri>;params`), which is safe for every URI. */
export function serializeNameAddr(value: NameAddr): string {
  let out = '';
  if (value.displayName !== undefined) {
    out += TOKEN_WORDS.test(value.displayName) ? `${value.displayName} ` : `${quote(value.displayName)} `;
  }
  return `${out}<${serializeUri(value.uri)}>${serializeParams(value.params)}`;
}
