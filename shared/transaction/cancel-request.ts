/**
 * CANCEL (RFC 3261 §9.1): built from the request it cancels, so that every element on the path
 * matches it to the pending INVITE.
 *
 * The CANCEL is sent through a non-INVITE client transaction of its own; RFC 3261 §9.1 forbids
 * sending it before a provisional response has arrived (the INVITE may not have reached anyone who
 * could match it yet), which the TU checks: it holds the INVITE client transaction's state.
 */
import { getCSeq, getHeader, getHeaderFields, getHeaders } from '../message/index.ts';
import type { HeaderField, SipRequest } from '../message/message.ts';

export function createCancel(request: SipRequest): SipRequest {
  if (request.method === 'ACK' || request.method === 'CANCEL') {
    // RFC 3261 §9.1: "a CANCEL [...] SHOULD NOT be sent to cancel a request other than INVITE", and
    // ACK and CANCEL can never be cancelled.
    throw new RangeError(`a ${request.method} cannot be cancelled`);
  }
  const topVia = getHeaders(request, 'Via')[0];
  const cseq = getCSeq(request);
  if (topVia === undefined || cseq === undefined) {
    throw new RangeError(`the ${request.method} lacks the Via or CSeq a CANCEL must copy`);
  }
  const headers: HeaderField[] = [
    // RFC 3261 §9.1: "A CANCEL constructed by a client MUST have only a single Via header field value
    // matching the top Via value in the request being cancelled", branch included.
    { name: 'Via', value: topVia },
    { name: 'Max-Forwards', value: getHeader(request, 'Max-Forwards') ?? '70' },
    // "If the request being cancelled contains a Route header field, the CANCEL request MUST include
    // that Route header field's values."
    ...getHeaderFields(request, 'Route'),
    // "The Request-URI, Call-ID, To, the numeric part of CSeq, and From header fields in the CANCEL
    // request MUST be identical to those in the request being cancelled, including tags."
    ...getHeaderFields(request, 'From').slice(0, 1),
    ...getHeaderFields(request, 'To').slice(0, 1),
    ...getHeaderFields(request, 'Call-ID').slice(0, 1),
    { name: 'CSeq', value: `${cseq.seq} CANCEL` },
    { name: 'Content-Length', value: '0' },
  ];
  return { kind: 'request', method: 'CANCEL', uri: request.uri, version: request.version, headers, body: new Uint8Array(0) };
}
