/**
 * Small scanners shared by the header grammars: linear white space, tokens and quoted strings
 * (RFC 3261 §25.1). They work on indices into the header value so that nothing is copied until a
 * part is known to be wanted.
 */
import { isLws, isTokenChar } from './char-class.ts';
import { SipSyntaxError } from './syntax-error.ts';

/** Index of the first non-LWS character at or after `i`. */
export function skipLws(text: string, i: number): number {
  while (i < text.length && isLws(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the last non-LWS character before `end`. */
export function trimLwsEnd(text: string, start: number, end: number): number {
  while (end > start && isLws(text.charCodeAt(end - 1))) end--;
  return end;
}

/** Index just past the token starting at `i` (`i` itself when there is none). */
export function scanToken(text: string, i: number): number {
  while (i < text.length && isTokenChar(text.charCodeAt(i))) i++;
  return i;
}

/**
 * Index just past the quoted-string that opens at `i` (which must be `"`).
 *
 * RFC 3261 §25.1: qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII, and
 * quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F): any octet but CR and LF may be escaped, NUL
 * included (RFC 4475 §3.1.1.2 sends one).
 */
export function scanQuotedString(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === 34) return j + 1;
    if (c === 92) {
      const escaped = text.charCodeAt(j + 1);
      if (j + 1 >= text.length || escaped === 13 || escaped === 10 || escaped > 0x7f) {
        throw new SipSyntaxError('a quoted-pair escapes nothing it may escape');
      }
      j += 2;
      continue;
    }
    if ((c < 32 && c !== 9 && c !== 13 && c !== 10) || c === 0x7f) {
      throw new SipSyntaxError(`control character 0x${c.toString(16).padStart(2, '0')} inside a quoted string`);
    }
    j++;
  }
  throw new SipSyntaxError(`unterminated quoted string: ${text.slice(i, i + 40)}`);
}

/** The content of a quoted-string (with its quotes), quoted-pairs resolved. */
export function unquote(quoted: string): string {
  const inner = quoted.slice(1, -1);
  if (inner.indexOf('\\') < 0) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '\\' && i + 1 < inner.length) {
      out += inner[i + 1];
      i++;
    } else {
      out += c;
    }
  }
  return out;
}

/** `text` as a quoted-string, escaping `"` and `\` (RFC 3261 §25.1). */
export function quote(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // CR and LF cannot be escaped (quoted-pair excludes them) and would end the header line.
    if (c === 13 || c === 10) {
      out += ' ';
      continue;
    }
    if (c === 34 || c === 92 || c < 9 || (c > 9 && c < 32) || c === 0x7f) out += '\\';
    out += text[i];
  }
  return out + '"';
}
