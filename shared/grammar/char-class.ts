/**
 * Character classes of the RFC 3261 §25.1 grammar as one lookup table, so scanners test a
 * character with one array read instead of a regular expression.
 */

const TOKEN = 1;
const WORD = 2;
const UNRESERVED = 4;
const USER = 8;
const PASSWORD = 16;
const URI_PARAM = 32;
const URI_HEADER = 64;
const URIC = 128;
const HOST = 256;

const table = new Uint16Array(128);

function mark(chars: string, flags: number): void {
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)]! |= flags;
}

const ALPHANUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
// RFC 3261 §25.1: mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
const MARK = "-_.!~*'()";
mark(ALPHANUM, TOKEN | WORD | UNRESERVED | USER | PASSWORD | URI_PARAM | URI_HEADER | URIC | HOST);
// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
mark("-.!%*_+`'~", TOKEN);
// word adds ( ) < > : \ DQUOTE / [ ] ? { }
mark('-.!%*_+`\'~()<>:\\"/[]?{}', WORD);
mark(MARK, UNRESERVED | USER | PASSWORD | URI_PARAM | URI_HEADER | URIC);
// user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/"
mark('&=+$,;?/', USER);
// password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," )
mark('&=+$,', PASSWORD);
// param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$"
mark('[]/:&+$', URI_PARAM);
// hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$"
mark('[]/?:+$', URI_HEADER);
// reserved = ";" / "/" / "?" / ":" / "@" / "&" / "=" / "+" / "$" / ","
mark(';/?:@&=+$,', URIC);
mark('-.', HOST);

function has(code: number, flag: number): boolean {
  return code < 128 && (table[code]! & flag) !== 0;
}

export function isTokenChar(code: number): boolean {
  return has(code, TOKEN);
}
export function isWordChar(code: number): boolean {
  return has(code, WORD);
}
export function isUserChar(code: number): boolean {
  return has(code, USER);
}
export function isPasswordChar(code: number): boolean {
  return has(code, PASSWORD);
}
export function isUriParamChar(code: number): boolean {
  return has(code, URI_PARAM);
}
export function isUriHeaderChar(code: number): boolean {
  return has(code, URI_HEADER);
}
export function isUricChar(code: number): boolean {
  return has(code, URIC);
}
export function isHostChar(code: number): boolean {
  return has(code, HOST);
}
export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
export function isAlpha(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}
export function isHexDigit(code: number): boolean {
  return isDigit(code) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

/** SP or HTAB (RFC 3261 §25.1 WSP). */
export function isWsp(code: number): boolean {
  return code === 32 || code === 9;
}

/**
 * Whitespace inside a header value. The message parser only lets CR and LF into a value as part of
 * a fold (CRLF followed by WSP), so inside values they count as LWS (RFC 3261 §7.3.1).
 */
export function isLws(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 10;
}

/** `1*token-char` over the whole string. */
export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTokenChar(text.charCodeAt(i))) return false;
  return true;
}

/** `1*DIGIT` over the whole string. */
export function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}
