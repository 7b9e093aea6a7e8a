/**
 * The ACK an INVITE client transaction sends for a 300-699 response (RFC 3261 §17.1.1.3).
 *
 * This ACK belongs to the INVITE transaction (same branch, so the server transaction matches it and
 * stops retransmitting). The ACK for a 2xx is a different request, built by the dialog layer with a
 * branch of its own (RFC 3261 §13.2.2.4).
 */
import { getHeader, getHeaderFields, getHeaders, getCSeq } from '../message/index.ts';
import type { HeaderField, SipRequest, SipResponse } from '../message/message.ts';

export function createAckForFailure(invite: SipRequest, response: SipResponse): SipRequest {
  const topVia = getHeaders(invite, 'Via')[0];
  const cseq = getCSeq(invite);
  if (topVia === undefined || cseq === undefined) {
    throw new RangeError('the INVITE lacks the Via or CSeq an ACK must copy');
  }
  const headers: HeaderField[] = [
    // RFC 3261 §17.1.1.3: "The ACK MUST contain a single Via header field, and this MUST be equal
    // to the top Via header field of the original request."
    { name: 'Via', value: topVia },
    // Every request carries Max-Forwards (RFC 3261 §8.1.1.6); the INVITE's value fits this hop too.
    { name: 'Max-Forwards', value: getHeader(invite, 'Max-Forwards') ?? '70' },
    // "If the INVITE request whose response is being acknowledged had Route header fields, those
    // header fields MUST appear in the ACK", so the ACK follows the INVITE's path.
    ...getHeaderFields(invite, 'Route'),
    // Call-ID and From equal the INVITE's; "The To header field in the ACK MUST equal the To header
    // field in the response being acknowledged", which carries the UAS's tag.
    ...first(invite, 'From'),
    ...first(response, 'To'),
    ...first(invite, 'Call-ID'),
    // "the same value for the sequence number as was present in the original request, but the method
    // parameter MUST be equal to 'ACK'".
    { name: 'CSeq', value: `${cseq.seq} ACK` },
    { name: 'Content-Length', value: '0' },
  ];
  return { kind: 'request', method: 'ACK', uri: invite.uri, version: invite.version, headers, body: new Uint8Array(0) };
}

function first(message: SipRequest | SipResponse, name: string): HeaderField[] {
  return getHeaderFields(message, name).slice(0, 1);
}
