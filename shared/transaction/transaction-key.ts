/**
 * Transaction matching (RFC 3261 §17.1.3, §17.2.3, §9.2) reduced to string keys, so that a table
 * can find a transaction with one look-up and a Durable Object can store transactions by key.
 *
 * Client keys are `"<branch> <method>"`; server keys `"<branch> <sent-by> <method>"`; RFC 2543 keys
 * start with `rfc2543 `. A branch is a token and a sent-by a host and port, neither of which holds a
 * space, so the three shapes can never collide with each other or with an Object property name.
 */
import { getCSeq, getCallId, getFrom, getTo, getTopVia } from '../message/index.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import type { Via } from '../grammar/via.ts';
import { isRfc3261Branch } from './branch.ts';

/**
 * RFC 3261 §17.1.3: a response matches a client transaction when its top Via branch equals the
 * request's and its CSeq method equals the request's method (a CANCEL shares the INVITE's branch,
 * so the method keeps them apart). This is the key of the request as sent.
 */
export function clientTransactionKey(request: SipRequest): string {
  const branch = getTopVia(request)?.branch;
  if (branch === undefined || branch.length === 0) {
    throw new RangeError(`a ${request.method} sent by a client transaction needs a Via branch (RFC 3261 §8.1.1.7)`);
  }
  return `${branch} ${request.method}`;
}

/**
 * The client transaction key a received response belongs to, or `undefined` when it lacks what
 * matching needs (a top Via branch and a CSeq); such a response matches no transaction.
 */
export function responseTransactionKey(response: SipResponse): string | undefined {
  const branch = getTopVia(response)?.branch;
  const cseq = getCSeq(response);
  if (branch === undefined || branch.length === 0 || cseq === undefined) return undefined;
  return `${branch} ${cseq.method}`;
}

/**
 * RFC 3261 §17.2.3: with a magic-cookie branch, a request matches a server transaction when the
 * branch, the sent-by of the top Via and the method are equal, "except for ACK, where the method of
 * the request that created the transaction is INVITE". Otherwise the RFC 2543 rules apply.
 * Throws `SipParseError` when the request has no Via at all (answer it 400).
 */
export function serverTransactionKey(request: SipRequest): string {
  return serverKey(request, request.method === 'ACK' ? 'INVITE' : request.method);
}

/**
 * RFC 3261 §9.2: a CANCEL is matched to the transaction it cancels "using the procedures of Section
 * 17.2.3", except that the method compared is INVITE (and a CANCEL cancels nothing else that UAs
 * serve). The key of the INVITE server transaction the CANCEL names.
 */
export function cancelledTransactionKey(cancel: SipRequest): string {
  return serverKey(cancel, 'INVITE');
}

function serverKey(request: SipRequest, method: string): string {
  const via = getTopVia(request);
  if (via === undefined) throw new RangeError(`a ${request.method} without Via cannot be matched to a transaction`);
  if (isRfc3261Branch(via.branch)) return `${via.branch} ${sentBy(via)} ${method}`;
  return rfc2543Key(request, via, method);
}

/** RFC 3261 §18.2.2 sent-by: host and optional port; hosts compare case-insensitively (§19.1.4). */
function sentBy(via: Via): string {
  const host = via.host.toLowerCase();
  return via.port === undefined ? host : `${host}:${via.port}`;
}

/**
 * RFC 3261 §17.2.3, for a branch without the magic cookie: the request matches when its
 * Request-URI, To tag, From tag, Call-ID, CSeq and top Via equal those of the request that created
 * the transaction; an ACK matches an INVITE when all but the To tag and CSeq method agree, and its
 * To tag is the one the transaction's response carried.
 *
 * To tag and CSeq method are left out for INVITE and ACK, so that the ACK finds the INVITE; an
 * INVITE and a second INVITE differing in nothing but the To tag are then one transaction, which a
 * conforming RFC 2543 client never sends. The ACK's To tag is not compared with the response's: the
 * ACK of a failure acknowledges the only final response the transaction sent.
 */
function rfc2543Key(request: SipRequest, via: Via, method: string): string {
  const cseq = getCSeq(request);
  const parts = [
    request.uri,
    getFrom(request)?.tag ?? '',
    method === 'INVITE' ? '' : (getTo(request)?.tag ?? ''),
    getCallId(request) ?? '',
    cseq === undefined ? '' : String(cseq.seq),
    `${via.protocolName}/${via.protocolVersion}/${via.transport.toUpperCase()} ${sentBy(via)}`,
    via.branch ?? '',
    method,
  ];
  return `rfc2543 ${JSON.stringify(parts)}`;
}
