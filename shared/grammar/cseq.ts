/**
 * CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16). The sequence number must fit in 32 bits
 * (RFC 3261 §8.1.1.5: "MUST be expressible as a 32-bit unsigned integer"); RFC 4475 §3.1.2.4 sends
 * a larger one, which is refused.
 */
import { isDigit, isLws, isToken } from './char-class.ts';
import { SipSyntaxError } from './syntax-error.ts';
import { skipLws, trimLwsEnd } from './text-scan.ts';

export interface CSeq {
  readonly seq: number;
  /** Case-sensitive, like the request method it must equal (RFC 3261 §8.1.1.5). */
  readonly method: string;
}

export const MAX_CSEQ = 0xffffffff;

export function parseCSeq(text: string): CSeq {
  const start = skipLws(text, 0);
  let i = start;
  while (i < text.length && isDigit(text.charCodeAt(i))) i++;
  if (i === start) throw new SipSyntaxError(`'${text}' does not start with a sequence number`);
  const seq = readUint(text.slice(start, i), MAX_CSEQ, 'sequence number');
  if (i >= text.length || !isLws(text.charCodeAt(i))) {
    throw new SipSyntaxError(`'${text}' needs whitespace between the sequence number and the method`);
  }
  const methodStart = skipLws(text, i);
  const method = text.slice(methodStart, trimLwsEnd(text, methodStart, text.length));
  if (!isToken(method)) throw new SipSyntaxError(`'${method}' is not a method token`);
  return { seq, method };
}

export function serializeCSeq(cseq: CSeq): string {
  return `${cseq.seq} ${cseq.method}`;
}

/**
 * A run of digits read as an integer no larger than `max`; leading zeros are fine
 * (RFC 4475 §3.1.1.1 sends `0009`). `what` names the field in the error.
 */
export function readUint(digits: string, max: number, what: string): number {
  let value = 0;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (!isDigit(c)) throw new SipSyntaxError(`${what} '${digits}' is not a non-negative integer`);
    value = value * 10 + (c - 48);
    if (value > max) throw new SipSyntaxError(`${what} ${digits} is larger than ${max}`);
  }
  if (digits.length === 0) throw new SipSyntaxError(`${what} is empty`);
  return value;
}
