/**
 * Header parameters: `*( SEMI generic-param )` (RFC 3261 §7.3.1, §25.1), as used after a
 * name-addr, a Via, a media type and many extension headers.
 *
 * Parameters keep their order and their spelling; a quoted value keeps its quotes, so writing a
 * parameter list back reproduces what was read. Names compare case-insensitively (RFC 3261 §7.3.1).
 */
import { isTokenChar, isToken } from './char-class.ts';
import { isHost, isIpv6Address } from './host.ts';
import { SipSyntaxError } from './syntax-error.ts';
import { scanQuotedString, scanToken, skipLws } from './text-scan.ts';

export interface Param {
  readonly name: string;
  /** As written: a quoted value keeps its quotes (see `unquote`); absent for a bare `;name`. */
  readonly value?: string;
}

export interface ParamsScan {
  readonly params: Param[];
  /** Index of the first character after the last parameter, LWS skipped. */
  readonly end: number;
}

/**
 * Reads `*( SEMI generic-param )` from `i`; stops at the first character that cannot continue the
 * list (a `,` between list values, the end, or a fault the caller reports).
 *
 * gen-value = token / host / quoted-string; a value that is neither is refused, except that a bare
 * IPv6 address is accepted because Via's `received` takes one (RFC 3261 §18.2.1, RFC 5118 §4.5).
 */
export function scanParams(text: string, i: number): ParamsScan {
  const params: Param[] = [];
  let j = skipLws(text, i);
  while (j < text.length && text.charCodeAt(j) === 59) {
    const nameStart = skipLws(text, j + 1);
    const nameEnd = scanToken(text, nameStart);
    if (nameEnd === nameStart) {
      const found = nameStart < text.length ? `'${text[nameStart]}'` : 'the end';
      throw new SipSyntaxError(`empty parameter: ';' is followed by ${found} instead of a parameter name`);
    }
    const name = text.slice(nameStart, nameEnd);
    let k = skipLws(text, nameEnd);
    if (k < text.length && text.charCodeAt(k) === 61) {
      const valueStart = skipLws(text, k + 1);
      let valueEnd: number;
      if (text.charCodeAt(valueStart) === 34) {
        valueEnd = scanQuotedString(text, valueStart);
      } else {
        valueEnd = valueStart;
        while (valueEnd < text.length) {
          const c = text.charCodeAt(valueEnd);
          if (!isTokenChar(c) && c !== 58 && c !== 91 && c !== 93) break;
          valueEnd++;
        }
        if (valueEnd === valueStart) throw new SipSyntaxError(`parameter '${name}' has '=' but no value`);
        const value = text.slice(valueStart, valueEnd);
        if (!isToken(value) && !isHost(value) && !isIpv6Address(value)) {
          throw new SipSyntaxError(`parameter '${name}' has value '${value}', which is not a token, host or quoted string`);
        }
      }
      params.push({ name, value: text.slice(valueStart, valueEnd) });
      k = skipLws(text, valueEnd);
    } else {
      params.push({ name });
    }
    j = k;
  }
  return { params, end: j };
}

/** Parses a whole `;name=value;flag` list; a missing leading `;` is tolerated. */
export function parseParams(text: string): Param[] {
  const first = skipLws(text, 0);
  if (first === text.length) return [];
  const source = text.charCodeAt(first) === 59 ? text : `;${text}`;
  const scan = scanParams(source, 0);
  if (scan.end !== source.length) {
    throw new SipSyntaxError(`unexpected '${source[scan.end]}' in parameters '${text}'`);
  }
  return scan.params;
}

/** `;name=value;flag`, in order, as held. */
export function serializeParams(params: readonly Param[]): string {
  let out = '';
  for (const p of params) out += p.value === undefined ? `;${p.name}` : `;${p.name}=${p.value}`;
  return out;
}

/** The first parameter called `name` (case-insensitive). */
export function getParam(params: readonly Param[], name: string): Param | undefined {
  const wanted = name.toLowerCase();
  for (const p of params) {
    if (p.name.length === wanted.length && p.name.toLowerCase() === wanted) return p;
  }
  return undefined;
}

/** The value of parameter `name` as written; undefined when absent or written without a value. */
export function paramValue(params: readonly Param[], name: string): string | undefined {
  return getParam(params, name)?.value;
}

export function hasParam(params: readonly Param[], name: string): boolean {
  return getParam(params, name) !== undefined;
}

/** A copy with parameter `name` set (replacing the first of that name in place, else appended). */
export function withParam(params: readonly Param[], name: string, value?: string): Param[] {
  const param: Param = value === undefined ? { name } : { name, value };
  const wanted = name.toLowerCase();
  const index = params.findIndex((p) => p.name.toLowerCase() === wanted);
  if (index < 0) return [...params, param];
  return params.map((p, i) => (i === index ? param : p));
}

/** A copy without any parameter called `name`. */
export function withoutParam(params: readonly Param[], name: string): Param[] {
  const wanted = name.toLowerCase();
  return params.filter((p) => p.name.toLowerCase() !== wanted);
}
