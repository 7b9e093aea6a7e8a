/**
 * What an INVITE or MESSAGE outside a dialog must pass before the edge challenges it (RFC 3261
 * §8.2.2.3 for Require, §8.2.3 for the body): the edge relays SDP for calls and any UTF-8 text for
 * messages. One function for the user's object (`user-core.ts`) and for a socket's holder answering
 * with a prepared challenge (`workers/registrar/prepared-challenge.ts`), so that both refuse the
 * same requests before any 407.
 */
import { checkRequest, getHeader, type HeaderField, type SipRequest } from '../../shared/message/index.ts';
import { contentOf, RELAYED_OPTION_TAGS } from '../call/relay-content.ts';

export interface RelayRefusal {
  readonly status: number;
  readonly reason?: string;
  readonly headers?: readonly HeaderField[];
}

/** The refusal for an INVITE or MESSAGE the edge cannot relay, or undefined when it may go on to authentication. */
export function refuseRelayed(request: SipRequest): RelayRefusal | undefined {
  const isInvite = request.method === 'INVITE';
  const rejection = checkRequest(request, { role: 'uas', ...(isInvite ? { extensions: RELAYED_OPTION_TAGS } : { contentTypes: [contentTypeOf(request)] }) });
  if (rejection) return rejection;
  if (contentOf(request) === undefined) return { status: 415, reason: 'Body Is Not UTF-8 Text' };
  return undefined;
}

/** The media type of a request's body: a MESSAGE may carry any (RFC 3428 §7), and the edge relays it as it is. */
export function contentTypeOf(request: SipRequest): string {
  return (getHeader(request, 'Content-Type') ?? 'text/plain').split(';')[0]?.trim().toLowerCase() ?? 'text/plain';
}
