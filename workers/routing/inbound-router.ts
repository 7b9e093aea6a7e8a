/**
 * Inbound calls from a PBX or trunk: who to ring. The static steps are here, pure; the Routing
 * object runs them around the inbound webhook:
 *  1. a static mapping for the Request-URI user (a DID, `number`) or the To URI's user (`to_user`),
 *     restricted to one link when the mapping names one: its users (a ring group rings them all);
 *  2. the inbound webhook, when configured;
 *  3. the Request-URI user, when it names a user of the domain.
 * Mappings by number are looked at before mappings by To user, each in id order.
 */
import { parseNameAddr, parseUri, SipSyntaxError, unescapeUri } from '../../shared/grammar/index.ts';
import type { InboundMapping } from './routing-config.ts';
import type { InboundRequest } from './routing-contract.ts';

/** The user part of a SIP URI, unescaped; undefined when there is none or the URI does not parse. */
export function uriUser(text: string): string | undefined {
  try {
    const uri = parseUri(text);
    return uri.kind === 'sip' && uri.user !== undefined ? unescapeUri(uri.user) : undefined;
  } catch (error) {
    if (error instanceof SipSyntaxError) return undefined;
    throw error;
  }
}

/** The user part of a To or From header value (a name-addr or addr-spec). */
export function headerUser(text: string): string | undefined {
  try {
    const uri = parseNameAddr(text).uri;
    return uri.kind === 'sip' && uri.user !== undefined ? unescapeUri(uri.user) : undefined;
  } catch (error) {
    if (error instanceof SipSyntaxError) return undefined;
    throw error;
  }
}

/** The first static mapping that applies, or undefined. */
export function findMapping(request: InboundRequest, mappings: readonly InboundMapping[]): InboundMapping | undefined {
  const onLink = mappings.filter((mapping) => mapping.link === undefined || mapping.link === request.linkId);
  const number = uriUser(request.requestUri);
  const byNumber = number === undefined ? undefined : onLink.find((mapping) => mapping.number === number);
  if (byNumber !== undefined) return byNumber;
  const toUser = headerUser(request.to);
  return toUser === undefined ? undefined : onLink.find((mapping) => mapping.to_user === toUser);
}
