/**
 * Recording where a request really came from in its top Via (RFC 3261 §18.2.1, RFC 3581 §4), so that
 * responses find their way back through NATs: `received` when the sent-by differs from the source
 * address, and the source port in an `rport` the client left empty.
 */
import { normalizeIpAddress, isIpv4Address, isIpv6Address, isIpv6Reference } from '../grammar/host.ts';
import { splitListRanges } from '../grammar/list.ts';
import { withParam } from '../grammar/params.ts';
import { serializeVia } from '../grammar/via.ts';
import { getHeaderFields } from './headers.ts';
import type { SipRequest } from './message.ts';
import { getTopVia } from './typed-headers.ts';

/**
 * A copy of `request` whose top via-parm carries `received` and `rport` as the server saw them.
 * Only that via-parm is rewritten (in canonical spacing); every other byte of the request is kept.
 * Throws `SipParseError` when the top Via does not parse; a parsed request's Via always does.
 */
export function markReceived(request: SipRequest, sourceHost: string, sourcePort: number): SipRequest {
  const field = getHeaderFields(request, 'Via')[0];
  if (field === undefined) return request;
  const [range] = splitListRanges(field.value);
  if (range === undefined) return request;
  const top = getTopVia(request);
  if (top === undefined) return request;

  const source = sourceHost.startsWith('[') ? sourceHost.slice(1, -1) : sourceHost;
  const sentBy = top.host.startsWith('[') ? top.host.slice(1, -1) : top.host;
  const sentByIsAddress = isIpv4Address(sentBy) || isIpv6Address(sentBy) || isIpv6Reference(top.host);
  const differs = !sentByIsAddress || normalizeIpAddress(sentBy) !== normalizeIpAddress(source);
  const wantsRport = top.rport === true;
  // RFC 3581 §4: with rport requested, received is added even when the address matches.
  if (!differs && !wantsRport) return request;

  let params = top.params;
  // RFC 3261 §25.1 via-received takes a bare IPv6address, so the brackets are not written.
  params = withParam(params, 'received', source);
  if (wantsRport) params = withParam(params, 'rport', String(sourcePort));
  const rewritten = serializeVia({ ...top, params });
  const value = field.value.slice(0, range.start) + rewritten + field.value.slice(range.end);
  const headers = request.headers.map((h) => (h === field ? { name: h.name, value } : h));
  return { ...request, headers };
}
