/**
 * Responses a receiver drops without a word (responses are never answered): RFC 3261 §8.1.3.3 and
 * §18.1.2 at a UAC, RFC 4475 §3.1.2.5, §3.1.2.19 and §3.3.10. Responses whose Status-Line or
 * mandatory headers do not even parse are refused by `parseMessage` itself, with no status to send.
 */
import { isIpv4Address } from '../grammar/host.ts';
import { hasHeader } from './headers.ts';
import type { SipResponse } from './message.ts';
import { SipParseError } from './parse-error.ts';
import { getCSeq, getCallId, getFrom, getTo, getVia } from './typed-headers.ts';

export interface ResponseCheckOptions {
  /** A UAC consumes the response; a proxy forwards it to the next Via (RFC 3261 §16.7). */
  readonly role: 'uac' | 'proxy';
}

export interface ResponseDiscard {
  readonly action: 'discard';
  readonly reason: string;
}

function discard(reason: string): ResponseDiscard {
  return { action: 'discard', reason };
}

/** Addresses a response must never be sent to. */
function isBroadcastOrUnspecified(host: string): boolean {
  return isIpv4Address(host) && (host === '255.255.255.255' || host === '0.0.0.0' || host.endsWith('.255'));
}

export function checkResponse(response: SipResponse, options: ResponseCheckOptions): ResponseDiscard | undefined {
  if (!Number.isInteger(response.status) || response.status < 100 || response.status > 699) {
    return discard(`status ${response.status} is outside 100-699`);
  }
  const missing = ['Via', 'From', 'To', 'Call-ID', 'CSeq'].filter((name) => !hasHeader(response, name));
  if (missing.length > 0) return discard(`missing ${missing.join(', ')}`);
  let vias;
  try {
    vias = getVia(response);
    getFrom(response);
    getTo(response);
    getCallId(response);
    getCSeq(response);
  } catch (error) {
    if (error instanceof SipParseError) return discard(error.reason);
    throw error;
  }
  if (options.role === 'uac') {
    // RFC 3261 §8.1.3.3: more than one Via means the response was meant for someone else.
    if (vias.length > 1) return discard(`a response at a UAC carries ${vias.length} Via values`);
    return undefined;
  }
  // RFC 4475 §3.3.10: a proxy must not forward to a broadcast address; it drops the response.
  const next = vias[1];
  if (next && isBroadcastOrUnspecified(next.received ?? next.host)) {
    return discard(`the next Via points at the broadcast address ${next.received ?? next.host}`);
  }
  return undefined;
}
