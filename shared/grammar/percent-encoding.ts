/**
 * %HH escapes in URIs (RFC 3261 §19.1.1, §25.1 `escaped = "%" HEXDIG HEXDIG`).
 *
 * The URI grammar keeps every part as written, escapes included, so a URI re-serialises byte for
 * byte; code that compares or looks up values unescapes them with `unescapeUri` (RFC 3261 §19.1.4:
 * comparisons are done on the unescaped form, and unescaping is never recursive, RFC 4475 §3.1.1.3).
 */
import { isHexDigit } from './char-class.ts';
import { SipSyntaxError } from './syntax-error.ts';

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Checks that `text[start, end)` holds only characters `allowed` accepts or well-formed escapes.
 * `what` names the part in the error ("user", "URI parameter").
 */
export function checkEscaped(text: string, start: number, end: number, allowed: (code: number) => boolean, what: string): void {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 37) {
      if (i + 2 >= end || !isHexDigit(text.charCodeAt(i + 1)) || !isHexDigit(text.charCodeAt(i + 2))) {
        throw new SipSyntaxError(`${what} '${text.slice(start, end)}' has a '%' that is not followed by two hex digits`);
      }
      i += 2;
    } else if (!allowed(c)) {
      throw new SipSyntaxError(`${what} '${text.slice(start, end)}' contains '${text[i]}', which must be %-escaped there`);
    }
  }
}

/**
 * The text with each %HH replaced by its octet, the octets read as UTF-8. A NUL (%00) stays in the
 * string rather than ending it (RFC 4475 §3.1.1.4). Octet runs that are not UTF-8 decode to U+FFFD.
 */
export function unescapeUri(text: string): string {
  if (text.indexOf('%') < 0) return text;
  const bytes = encoder.encode(text);
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 37 && i + 2 < bytes.length && isHexDigit(bytes[i + 1]!) && isHexDigit(bytes[i + 2]!)) {
      out[n++] = parseInt(String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!), 16);
      i += 2;
    } else {
      out[n++] = b;
    }
  }
  return utf8.decode(out.subarray(0, n));
}

/**
 * `text` with every character that `allowed` refuses written as %HH of its UTF-8 octets, for
 * building a URI part from a plain value (a user name with spaces, for instance).
 */
export function escapeUri(text: string, allowed: (code: number) => boolean): string {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    if (c < 128 && c !== 37 && allowed(c)) {
      out += ch;
      continue;
    }
    for (const b of encoder.encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
