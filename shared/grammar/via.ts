/**
 * Via (RFC 3261 §20.42, §25.1; rport from RFC 3581 §3):
 *
 *   via-parm      = sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *   sent-by       = host [ COLON port ]
 *
 * SLASH, COLON and SEMI allow LWS around them, which RFC 4475 §3.1.1.1 exercises with folded lines.
 */
import { isDigits, isHostChar, isToken } from './char-class.ts';
import { isHost, isIpv4Address, isIpv6Address, isIpv6Reference, parsePort } from './host.ts';
import { paramValue, scanParams, serializeParams, type Param } from './params.ts';
import { SipSyntaxError } from './syntax-error.ts';
import { scanToken, skipLws } from './text-scan.ts';

/** The parts written by `serializeVia`. */
export interface ViaParts {
  /** `SIP` */
  readonly protocolName: string;
  /** `2.0` */
  readonly protocolVersion: string;
  /** `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, `WSS` or an extension token, as written. */
  readonly transport: string;
  /** The sent-by host: hostname, IPv4 address, or IPv6 reference with brackets. */
  readonly host: string;
  readonly port?: number;
  readonly params: readonly Param[];
}

/**
 * A parsed via-parm. `branch`, `received` and `rport` are read-only views of `params`, filled by
 * the parser for convenience; `serializeVia` writes `params` only.
 */
export interface Via extends ViaParts {
  readonly branch?: string;
  /** As written; RFC 5118 §4.5 allows an IPv6 value with or without brackets. */
  readonly received?: string;
  /** RFC 3581: the port number, or `true` when the client asks for rport without a value. */
  readonly rport?: number | true;
}

/** Every via-parm of one Via header field value, in order (a field may carry several). */
export function parseVia(text: string): Via[] {
  const values: Via[] = [];
  let i = 0;
  for (;;) {
    const scan = scanViaParm(text, i);
    values.push(scan.via);
    if (scan.end >= text.length) return values;
    if (text.charCodeAt(scan.end) !== 44) {
      throw new SipSyntaxError(`unexpected '${text[scan.end]}' after via-parm '${text.slice(i, scan.end).trim()}'`);
    }
    i = scan.end + 1;
  }
}

function scanViaParm(text: string, i: number): { via: Via; end: number } {
  let j = skipLws(text, i);
  if (j >= text.length || text.charCodeAt(j) === 44) throw new SipSyntaxError('empty via-parm between commas');
  const protocolName = readToken(text, j, 'protocol name');
  j = expectSlash(text, j + protocolName.length);
  const protocolVersion = readToken(text, j, 'protocol version');
  j = expectSlash(text, j + protocolVersion.length);
  const transport = readToken(text, j, 'transport');
  j += transport.length;
  const hostStart = skipLws(text, j);
  if (hostStart >= text.length || text.charCodeAt(hostStart) === 44 || text.charCodeAt(hostStart) === 59) {
    throw new SipSyntaxError(`sent-by is missing after '${text.slice(i, hostStart).trim()}'`);
  }
  if (hostStart === j) throw new SipSyntaxError(`no whitespace between the transport '${transport}' and the sent-by`);

  let hostEnd: number;
  if (text.charCodeAt(hostStart) === 91) {
    const close = text.indexOf(']', hostStart);
    if (close < 0) throw new SipSyntaxError('sent-by has an IPv6 reference without ]');
    hostEnd = close + 1;
  } else {
    hostEnd = hostStart;
    while (hostEnd < text.length && isHostChar(text.charCodeAt(hostEnd))) hostEnd++;
  }
  const host = text.slice(hostStart, hostEnd);
  if (host.length === 0) throw new SipSyntaxError(`sent-by is missing after '${text.slice(i, hostStart).trim()}'`);
  if (!isHost(host)) throw new SipSyntaxError(`sent-by host '${host}' is not a hostname, IPv4 address or [IPv6] reference`);

  let port: number | undefined;
  let k = skipLws(text, hostEnd);
  if (text.charCodeAt(k) === 58) {
    const portStart = skipLws(text, k + 1);
    let portEnd = portStart;
    while (portEnd < text.length && text.charCodeAt(portEnd) >= 48 && text.charCodeAt(portEnd) <= 57) portEnd++;
    port = parsePort(text.slice(portStart, portEnd));
    k = portEnd;
  }

  const scan = scanParams(text, k);
  if (scan.end < text.length && text.charCodeAt(scan.end) !== 44) {
    throw new SipSyntaxError(`unexpected '${text[scan.end]}' in via-parm '${text.slice(i).trim()}'`);
  }
  return { via: makeVia(protocolName, protocolVersion, transport, host, port, scan.params), end: scan.end };
}

function readToken(text: string, i: number, what: string): string {
  const end = scanToken(text, i);
  if (end === i) {
    const found = i < text.length ? `'${text[i]}'` : 'the end';
    throw new SipSyntaxError(`sent-protocol ${what} is missing (found ${found})`);
  }
  return text.slice(i, end);
}

function expectSlash(text: string, i: number): number {
  const j = skipLws(text, i);
  if (text.charCodeAt(j) !== 47) throw new SipSyntaxError(`sent-protocol needs '/' at '${text.slice(j, j + 10)}'`);
  return skipLws(text, j + 1);
}

/** Checks the via-params RFC 3261 and RFC 3581 define, then fills the views. */
function makeVia(protocolName: string, protocolVersion: string, transport: string, host: string, port: number | undefined, params: Param[]): Via {
  let branch: string | undefined;
  let received: string | undefined;
  let rport: number | true | undefined;
  for (const p of params) {
    switch (p.name.toLowerCase()) {
      case 'branch':
        // via-branch = "branch" EQUAL token
        if (p.value === undefined || !isToken(p.value)) throw new SipSyntaxError('branch parameter needs a token value');
        branch ??= p.value;
        break;
      case 'received':
        // RFC 3261: IPv4address / IPv6address; RFC 5118 §4.5: also an IPv6 reference.
        if (p.value === undefined || !(isIpv4Address(p.value) || isIpv6Address(p.value) || isIpv6Reference(p.value))) {
          throw new SipSyntaxError(`received parameter '${p.value ?? ''}' is not an IP address`);
        }
        received ??= p.value;
        break;
      case 'rport':
        // RFC 3581 §3: response-port = "rport" [EQUAL 1*DIGIT]
        if (p.value === undefined) rport ??= true;
        else rport ??= parsePort(p.value);
        break;
      case 'ttl':
        if (p.value === undefined || !isDigits(p.value) || p.value.length > 3 || Number(p.value) > 255) {
          throw new SipSyntaxError(`ttl parameter '${p.value ?? ''}' is not 0-255`);
        }
        break;
      case 'maddr':
        if (p.value === undefined || !isHost(p.value)) throw new SipSyntaxError(`maddr parameter '${p.value ?? ''}' is not a host`);
        break;
    }
  }
  return { protocolName, protocolVersion, transport, host, port, params, branch, received, rport };
}

/** `SIP/2.0/WSS host:port;params`, in the canonical spacing. */
export function serializeVia(via: ViaParts): string {
  const port = via.port === undefined ? '' : `:${via.port}`;
  return `${via.protocolName}/${via.protocolVersion}/${via.transport} ${via.host}${port}${serializeParams(via.params)}`;
}

/** The branch of a via, for callers holding only the parts. */
export function viaBranch(via: ViaParts): string | undefined {
  return paramValue(via.params, 'branch');
}
