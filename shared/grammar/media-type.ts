/**
 * media-type = m-type SLASH m-subtype *( SEMI m-parameter ) (RFC 3261 §20.15, §25.1), the value of
 * Content-Type; Accept's media-range adds `*` wildcards (RFC 3261 §20.1).
 */
import { isToken } from './char-class.ts';
import { scanParams, serializeParams, type Param } from './params.ts';
import { SipSyntaxError } from './syntax-error.ts';
import { scanToken, skipLws } from './text-scan.ts';

export interface MediaType {
  /** Lower-cased: types and subtypes compare case-insensitively. */
  readonly type: string;
  readonly subtype: string;
  readonly params: readonly Param[];
}

export interface MediaTypeScan {
  readonly value: MediaType;
  readonly end: number;
}

/** One media type (or, with `allowWildcards`, an Accept media-range) from `i`; stops at `,` or the end. */
export function scanMediaType(text: string, i: number, allowWildcards: boolean): MediaTypeScan {
  const typeStart = skipLws(text, i);
  const typeEnd = scanToken(text, typeStart);
  const type = text.slice(typeStart, typeEnd);
  if (type.length === 0) throw new SipSyntaxError(`media type missing in '${text}'`);
  let j = skipLws(text, typeEnd);
  if (text.charCodeAt(j) !== 47) throw new SipSyntaxError(`media type '${text.trim()}' has no '/'`);
  const subtypeStart = skipLws(text, j + 1);
  const subtypeEnd = scanToken(text, subtypeStart);
  const subtype = text.slice(subtypeStart, subtypeEnd);
  if (subtype.length === 0) throw new SipSyntaxError(`media type '${text.trim()}' has no subtype`);
  if (!allowWildcards && (type === '*' || subtype === '*')) throw new SipSyntaxError(`media type '${type}/${subtype}' may not use '*'`);
  if (allowWildcards && type === '*' && subtype !== '*') throw new SipSyntaxError(`media range '${type}/${subtype}' is not allowed`);
  if (!isToken(type) || !isToken(subtype)) throw new SipSyntaxError(`media type '${type}/${subtype}' is not two tokens`);
  j = subtypeEnd;
  const scan = scanParams(text, j);
  if (scan.end < text.length && text.charCodeAt(scan.end) !== 44) {
    throw new SipSyntaxError(`unexpected '${text[scan.end]}' in media type '${text.trim()}'`);
  }
  return { value: { type: type.toLowerCase(), subtype: subtype.toLowerCase(), params: scan.params }, end: scan.end };
}

export function parseMediaType(text: string): MediaType {
  const scan = scanMediaType(text, 0, false);
  if (scan.end < text.length) throw new SipSyntaxError(`Content-Type holds more than one media type: '${text}'`);
  return scan.value;
}

/** Accept = [ accept-range *(COMMA accept-range) ]; an empty value accepts nothing. */
export function parseMediaRanges(text: string): MediaType[] {
  const ranges: MediaType[] = [];
  let i = skipLws(text, 0);
  if (i >= text.length) return ranges;
  for (;;) {
    const scan = scanMediaType(text, i, true);
    ranges.push(scan.value);
    if (scan.end >= text.length) return ranges;
    i = scan.end + 1;
  }
}

export function serializeMediaType(value: MediaType): string {
  return `${value.type}/${value.subtype}${serializeParams(value.params)}`;
}
