/**
 * Splitting a header field value into its comma-separated values (RFC 3261 §7.3.1: a field holding
 * a comma-separated list is equivalent to several fields). Commas inside quoted strings and inside
 * `<...>` do not separate values (a display name "Watson, Thomas" or a URI parameter list).
 */
import { isLws } from './char-class.ts';

export interface ListRange {
  /** First character of the value, LWS skipped. */
  readonly start: number;
  /** Just past its last non-LWS character. */
  readonly end: number;
}

/** Where each value lies in `value`, so that one can be rewritten and the rest kept byte for byte. */
export function splitListRanges(value: string): ListRange[] {
  const ranges: ListRange[] = [];
  let start = 0;
  let inQuotes = false;
  let inAngles = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuotes) {
      if (c === 92) i++;
      else if (c === 34) inQuotes = false;
    } else if (c === 34) {
      inQuotes = true;
    } else if (c === 60) {
      inAngles = true;
    } else if (c === 62) {
      inAngles = false;
    } else if (c === 44 && !inAngles) {
      ranges.push(trimmed(value, start, i));
      start = i + 1;
    }
  }
  ranges.push(trimmed(value, start, value.length));
  return ranges;
}

/** Each value trimmed of LWS; empty values (`a,,b`) are kept so that a strict caller can refuse them. */
export function splitList(value: string): string[] {
  return splitListRanges(value).map((range) => value.slice(range.start, range.end));
}

function trimmed(text: string, start: number, end: number): ListRange {
  while (start < end && isLws(text.charCodeAt(start))) start++;
  while (end > start && isLws(text.charCodeAt(end - 1))) end--;
  return { start, end };
}
