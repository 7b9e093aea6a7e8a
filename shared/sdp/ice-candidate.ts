/**
 * The `a=candidate` attribute (RFC 8839 §5.1), read and written without loss.
 *
 * sdp-transform understands a fixed list of candidate extensions and silently drops any other
 * (Chrome's `ufrag`, and whatever follows it), so candidates are parsed here from the raw line.
 *
 * ```
 * candidate-attribute = "candidate" ":" foundation SP component-id SP transport SP priority SP
 *                       connection-address SP port SP cand-type [SP rel-addr] [SP rel-port]
 *                       *(SP cand-extension)
 * cand-type           = "typ" SP candidate-types
 * rel-addr            = "raddr" SP connection-address
 * rel-port            = "rport" SP port
 * cand-extension      = extension-att-name SP extension-att-value
 * ```
 */

import { SdpError } from './sdp-error.ts';
import type { IceCandidate } from './session.ts';

const ICE_CHARS = /^[A-Za-z0-9+/]{1,32}$/;
const DIGITS = /^\d+$/;

/**
 * Parses a candidate attribute. Accepts `a=candidate:...`, `candidate:...` (the form of
 * `RTCIceCandidate.candidate` and of trickled candidates, RFC 8840 §4.2) or the bare value.
 */
export function parseCandidate(text: string): IceCandidate {
  const value = text.trim().replace(/^a=/, '').replace(/^candidate:/, '');
  const tokens = value.split(/\s+/);
  const [foundation, component, transport, priority, ip, port, typ, type, ...rest] = tokens;
  if (
    foundation === undefined ||
    !ICE_CHARS.test(foundation) ||
    component === undefined ||
    !/^\d{1,3}$/.test(component) ||
    transport === undefined ||
    transport === '' ||
    priority === undefined ||
    !/^\d{1,10}$/.test(priority) ||
    ip === undefined ||
    ip === '' ||
    port === undefined ||
    typ !== 'typ' ||
    type === undefined ||
    type === ''
  ) {
    throw invalid(text);
  }
  const candidate: IceCandidate = {
    foundation,
    component: Number(component),
    transport,
    priority: Number(priority),
    ip,
    port: parsePort(port, text),
    type,
    extensions: [],
  };
  if (rest.length % 2 !== 0) throw invalid(text);
  for (let i = 0; i < rest.length; i += 2) {
    const name = rest[i] ?? '';
    const extensionValue = rest[i + 1] ?? '';
    if (name === 'raddr' && candidate.raddr === undefined) candidate.raddr = extensionValue;
    else if (name === 'rport' && candidate.rport === undefined) candidate.rport = parsePort(extensionValue, text);
    else if (name === 'tcptype' && candidate.tcptype === undefined) candidate.tcptype = extensionValue;
    else candidate.extensions.push({ name, value: extensionValue });
  }
  return candidate;
}

/**
 * Writes a candidate as `candidate:...`, without the `a=` prefix (the form trickle ICE and
 * `RTCIceCandidate` use). `raddr`, `rport` and `tcptype` come first, as Chrome and Firefox write them.
 */
export function serializeCandidate(candidate: IceCandidate): string {
  const parts = [
    `candidate:${candidate.foundation}`,
    String(candidate.component),
    candidate.transport,
    String(candidate.priority),
    candidate.ip,
    String(candidate.port),
    'typ',
    candidate.type,
  ];
  if (candidate.raddr !== undefined) parts.push('raddr', candidate.raddr);
  if (candidate.rport !== undefined) parts.push('rport', String(candidate.rport));
  if (candidate.tcptype !== undefined) parts.push('tcptype', candidate.tcptype);
  for (const extension of candidate.extensions) parts.push(extension.name, extension.value);
  return parts.join(' ');
}

/**
 * True for a host candidate whose address is an mDNS name: browsers hide private addresses behind
 * random `<uuid>.local` names (RFC 8839 does not define it; draft-ietf-mmusic-mdns-ice-candidates
 * does). A media node that cannot resolve mDNS must rely on the other candidates.
 */
export function isMdnsCandidate(candidate: IceCandidate): boolean {
  return candidate.ip.toLowerCase().endsWith('.local');
}

function parsePort(text: string, line: string): number {
  if (!DIGITS.test(text)) throw invalid(line);
  const port = Number(text);
  if (port > 65_535) throw invalid(line);
  return port;
}

function invalid(line: string): SdpError {
  return new SdpError('invalid-attribute', `malformed ICE candidate: ${line.trim()}`);
}
