/**
 * The edge as a user agent on a leg toward a device (the B2BUA's side of each dialog): the Via,
 * Contact and identifiers it writes into the requests and responses it builds.
 *
 * A browser reaches the edge over its one WebSocket whatever the Request-URI says (RFC 7118 §5:
 * the client sends every request over the connection it has), so the edge's Contact only has to
 * be a valid SIP URI of the domain. It carries no user part: the connection objects route by
 * From and To, never by the Request-URI.
 */
import { parseNameAddr, serializeUri } from '../../shared/grammar/index.ts';
import type { Flow } from './flow.ts';

/** RFC 7118 §5.2: the edge's Via over a WebSocket flow, without a branch (the dialog layer adds it). */
export function edgeVia(domain: string, transport: Flow['transport']): string {
  return `SIP/2.0/${transport} ${domain.toLowerCase()}`;
}

/** The edge's Contact on a leg (RFC 3261 §8.1.1.8, §12.1.1: a SIP URI where in-dialog requests go). */
export function edgeContact(domain: string, transport: Flow['transport']): string {
  return `<sip:${domain.toLowerCase()};transport=${transport.toLowerCase()}>`;
}

/** `bytes` random octets as hex. */
export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (octet) => octet.toString(16).padStart(2, '0')).join('');
}

/** RFC 3261 §8.1.1.4: a Call-ID of the edge's own, globally unique. */
export function newCallId(domain: string): string {
  return `${randomHex(12)}@${domain.toLowerCase()}`;
}

/**
 * A name-addr naming `aor` with the display name `from` carried (the device chose how its user is
 * shown; the URI is the authenticated address-of-record, whatever the device put there).
 */
export function identityOf(aor: string, from: string | undefined): string {
  let display: string | undefined;
  if (from !== undefined) {
    try {
      display = parseNameAddr(from).displayName;
    } catch {
      display = undefined;
    }
  }
  const uri = `sip:${aor}`;
  return display === undefined || display.length === 0 ? `<${uri}>` : `${quoted(display)} <${uri}>`;
}

/** A name-addr header value without its parameters (the tag goes, a new one comes). */
export function withoutTag(value: string): string {
  try {
    const nameAddr = parseNameAddr(value);
    const uri = `<${serializeUri(nameAddr.uri)}>`;
    return nameAddr.displayName === undefined || nameAddr.displayName.length === 0 ? uri : `${quoted(nameAddr.displayName)} ${uri}`;
  } catch {
    return value;
  }
}

function quoted(display: string): string {
  return `"${display.replace(/(["\\])/g, '\\$1')}"`;
}
