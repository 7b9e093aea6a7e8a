/**
 * Reads Content-Length straight from the octets of a header section, without parsing the message.
 *
 * The stream framer needs the body length before the message parser runs, and it must not decode
 * or copy the header section to get it: this scan visits each header octet once.
 */

/** Where the body length of a message comes from, or why it cannot be known. */
export type ContentLengthResult =
  | { readonly ok: true; readonly length: number }
  | { readonly ok: false; readonly reason: 'missing-content-length' | 'invalid-content-length' };

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/**
 * Lengths above this are all "too large" to the framer, whatever their exact value; clamping
 * keeps a thousand-digit Content-Length from growing past the range of exact integers.
 */
export const CONTENT_LENGTH_CLAMP = 2 ** 32;

/**
 * Finds the Content-Length of the message whose header section is `bytes[start, end)`, where
 * `start` is the first octet of the start-line and `end` the CR of the CRLFCRLF that closes the
 * header section.
 *
 * RFC 3261 §7.3.3: `l` is the compact form of Content-Length; §7.3.1: names are case-insensitive,
 * whitespace may precede the colon, and a value may be folded onto continuation lines.
 * RFC 3261 §20.14: Content-Length = ( "Content-Length" / "l" ) HCOLON 1*DIGIT.
 * The field is single-valued; repeated fields with one value are tolerated (as HTTP does, RFC 9112
 * §6.3), but disagreeing ones are rejected because a relay could not know where the body ends.
 */
export function readContentLength(bytes: Uint8Array, start: number, end: number): ContentLengthResult {
  let found: number | undefined;
  // The start-line carries no header; the first field begins after its CRLF.
  let line = nextLineStart(bytes, start, end);
  while (line < end) {
    const fieldEnd = endOfField(bytes, line, end);
    const valueStart = contentLengthValueStart(bytes, line, fieldEnd);
    if (valueStart !== undefined) {
      const length = parseLengthValue(bytes, valueStart, fieldEnd);
      if (length === undefined || (found !== undefined && found !== length)) {
        return { ok: false, reason: 'invalid-content-length' };
      }
      found = length;
    }
    line = fieldEnd + 2;
  }
  return found === undefined ? { ok: false, reason: 'missing-content-length' } : { ok: true, length: found };
}

/** The first octet after the next CRLF at or after `from`, or `end` when there is none. */
function nextLineStart(bytes: Uint8Array, from: number, end: number): number {
  const crlf = indexOfCrlf(bytes, from, end);
  return crlf === end ? end : crlf + 2;
}

function indexOfCrlf(bytes: Uint8Array, from: number, end: number): number {
  let at = from;
  while (at < end) {
    const lf = bytes.indexOf(LF, at);
    if (lf === -1 || lf >= end) return end;
    if (lf > from && bytes[lf - 1] === CR) return lf - 1;
    at = lf + 1;
  }
  return end;
}

/** RFC 3261 §7.3.1: a line starting with SP or HTAB continues the field above it. */
function endOfField(bytes: Uint8Array, line: number, end: number): number {
  let crlf = indexOfCrlf(bytes, line, end);
  while (crlf < end && isWsp(bytes[crlf + 2])) {
    crlf = indexOfCrlf(bytes, crlf + 2, end);
  }
  return crlf;
}

/** The offset just after the colon when `[line, fieldEnd)` is a Content-Length field. */
function contentLengthValueStart(bytes: Uint8Array, line: number, fieldEnd: number): number | undefined {
  let at = line;
  while (at < fieldEnd && bytes[at] !== COLON && !isWsp(bytes[at])) at += 1;
  if (!isContentLengthName(bytes, line, at)) return undefined;
  while (at < fieldEnd && isWsp(bytes[at])) at += 1;
  return bytes[at] === COLON && at < fieldEnd ? at + 1 : undefined;
}

const LONG_NAME = 'content-length';

function isContentLengthName(bytes: Uint8Array, from: number, to: number): boolean {
  const length = to - from;
  if (length === 1) return (bytes[from]! | 0x20) === 0x6c; // `l`, either case
  if (length !== LONG_NAME.length) return false;
  for (let i = 0; i < length; i += 1) {
    const octet = bytes[from + i]!;
    const folded = octet >= 0x41 && octet <= 0x5a ? octet | 0x20 : octet;
    if (folded !== LONG_NAME.charCodeAt(i)) return false;
  }
  return true;
}

/** `SWS 1*DIGIT SWS` where SWS may include the CRLF of a fold; undefined for anything else. */
function parseLengthValue(bytes: Uint8Array, from: number, to: number): number | undefined {
  let at = skipLws(bytes, from, to);
  let value = 0;
  let digits = 0;
  while (at < to) {
    const digit = bytes[at]! - 0x30;
    if (digit < 0 || digit > 9) break;
    value = Math.min(value * 10 + digit, CONTENT_LENGTH_CLAMP);
    digits += 1;
    at += 1;
  }
  if (digits === 0) return undefined;
  return skipLws(bytes, at, to) === to ? value : undefined;
}

function skipLws(bytes: Uint8Array, from: number, to: number): number {
  let at = from;
  while (at < to) {
    const octet = bytes[at];
    if (!isWsp(octet) && octet !== CR && octet !== LF) break;
    at += 1;
  }
  return at;
}

function isWsp(octet: number | undefined): boolean {
  return octet === SP || octet === HTAB;
}
