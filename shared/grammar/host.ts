/**
 * Hosts and ports: hostname / IPv4address / IPv6reference (RFC 3261 §25.1), with the IPv6 forms
 * RFC 5118 asks implementations to tolerate.
 */
import { isAlpha, isDigit, isHexDigit, isHostChar } from './char-class.ts';
import { SipSyntaxError } from './syntax-error.ts';

/** `a.b.c.d`, each part 0-255 written in at most three digits. */
export function isIpv4Address(text: string): boolean {
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || value > 255) return false;
      parts++;
      digits = 0;
      value = 0;
    } else if (isDigit(c) && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else {
      return false;
    }
  }
  return parts === 4;
}

/** Hex groups separated by `:`, at most one `::`; `maxGroups` counts 16-bit groups. */
function isHexPart(text: string, maxGroups: number): boolean {
  const double = text.indexOf('::');
  if (double >= 0 && text.indexOf('::', double + 1) >= 0) return false;
  const sides = double >= 0 ? [text.slice(0, double), text.slice(double + 2)] : [text];
  let groups = 0;
  for (const side of sides) {
    if (side === '') continue;
    for (const group of side.split(':')) {
      if (group.length === 0 || group.length > 4) return false;
      for (let i = 0; i < group.length; i++) if (!isHexDigit(group.charCodeAt(i))) return false;
      groups++;
    }
  }
  return double >= 0 ? groups < maxGroups : groups === maxGroups;
}

/**
 * An IPv6 address without brackets.
 *
 * RFC 5118 §4.10: RFC 3261's ABNF (from RFC 2373) reads `2001:db8:::192.0.2.1` (three colons
 * before an embedded IPv4 address) as valid while RFC 4291 writes `2001:db8::192.0.2.1`; both
 * must be accepted.
 */
export function isIpv6Address(text: string): boolean {
  if (text.length < 2) return false;
  const lastColon = text.lastIndexOf(':');
  if (lastColon < 0) return false;
  const tail = text.slice(lastColon + 1);
  if (tail.indexOf('.') < 0) return isHexPart(text, 8);
  if (!isIpv4Address(tail)) return false;
  const head = text.slice(0, lastColon + 1);
  // `x::` + IPv4 keeps its `::`; `x:::` + IPv4 is the RFC 3261 spelling of the same; `x:` + IPv4
  // ends a full run of six groups.
  const hex = head.endsWith(':::') ? head.slice(0, -1) : head.endsWith('::') ? head : head.slice(0, -1);
  return isHexPart(hex, 6);
}

/** `[` IPv6address `]` */
export function isIpv6Reference(text: string): boolean {
  return text.length > 2 && text.charCodeAt(0) === 91 && text.charCodeAt(text.length - 1) === 93 && isIpv6Address(text.slice(1, -1));
}

/**
 * hostname = *( domainlabel "." ) toplabel [ "." ], labels of alphanum and inner "-".
 *
 * RFC 3261 wants the top label to start with a letter; a name made only of digits and dots must
 * then be an IPv4 address, which is how `1.2.3.999` is refused while `host9` is not.
 */
export function isHostname(text: string): boolean {
  if (text.length === 0) return false;
  const end = text.endsWith('.') ? text.length - 1 : text.length;
  let labelStart = 0;
  let lastLabelStartsAlpha = false;
  for (let i = 0; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (i === labelStart || text.charCodeAt(labelStart) === 45 || text.charCodeAt(i - 1) === 45) return false;
      lastLabelStartsAlpha = isAlpha(text.charCodeAt(labelStart));
      labelStart = i + 1;
    } else if (!isHostChar(c) || c === 46) {
      return false;
    }
  }
  return lastLabelStartsAlpha || isIpv4Address(text);
}

/** host = hostname / IPv4address / IPv6reference */
export function isHost(text: string): boolean {
  if (text.charCodeAt(0) === 91) return isIpv6Reference(text);
  return isHostname(text) || isIpv4Address(text);
}

/** port = 1*DIGIT, read as a number in 0-65535. */
export function parsePort(text: string): number {
  if (text.length === 0 || text.length > 5) throw new SipSyntaxError(`port '${text}' is not a number in 0-65535`);
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!isDigit(c)) throw new SipSyntaxError(`port '${text}' is not a number in 0-65535`);
    value = value * 10 + (c - 48);
  }
  if (value > 65535) throw new SipSyntaxError(`port '${text}' is not a number in 0-65535`);
  return value;
}

/** An IPv6 reference or address written as 8 lower-case groups, for comparing addresses. */
export function normalizeIpAddress(text: string): string {
  const bare = text.charCodeAt(0) === 91 ? text.slice(1, -1) : text;
  if (!isIpv6Address(bare)) return bare.toLowerCase();
  let hex = bare.toLowerCase();
  const lastColon = hex.lastIndexOf(':');
  const tail = hex.slice(lastColon + 1);
  if (tail.indexOf('.') >= 0) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    const head = hex.slice(0, lastColon + 1);
    const prefix = head.endsWith(':::') ? head.slice(0, -1) : head;
    hex = `${prefix}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const double = hex.indexOf('::');
  let groups: string[];
  if (double >= 0) {
    const left = hex.slice(0, double).split(':').filter((g) => g !== '');
    const right = hex.slice(double + 2).split(':').filter((g) => g !== '');
    groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  } else {
    groups = hex.split(':');
  }
  return groups.map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}
