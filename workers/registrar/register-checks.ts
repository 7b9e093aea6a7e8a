/**
 * What a registrar checks in a REGISTER before authenticating it (RFC 3261 §10.3 steps 1, 2, 5
 * and 6): the Require option tags, the To (a SIP or SIPS URI), `*` only with Expires: 0, and a
 * Request-URI that names the served domain. The checks common to every role ran when the request
 * arrived (`readInboundFrame`, the edge's first-hop check), so they are not repeated here.
 */
import { parseUri, SipSyntaxError } from '../../shared/grammar/index.ts';
import { checkRequest, type HeaderField, type SipRequest } from '../../shared/message/index.ts';
import { reasonFromDetail } from '../sip/wire.ts';

/** Option tags the registrar supports in Require (RFC 3261 §8.2.2.3). */
export const REGISTRAR_EXTENSIONS = ['outbound', 'path'];

export interface RegisterRejection {
  readonly status: number;
  readonly reason: string;
  readonly headers: readonly HeaderField[];
}

/** The refusal to send, or undefined when the REGISTER may go on to authentication. `realm` is the domain, lower-cased. */
export function checkRegister(request: SipRequest, realm: string): RegisterRejection | undefined {
  const rejection = checkRequest(request, { role: 'registrar', extensions: REGISTRAR_EXTENSIONS, commonChecked: true });
  if (rejection) return { status: rejection.status, reason: rejection.status === 400 ? reasonFromDetail(rejection.detail) : rejection.reason, headers: rejection.headers };
  // RFC 3261 §10.3 step 1: the Request-URI names the domain whose bindings are asked for.
  if (!namesDomain(request.uri, realm)) return { status: 404, reason: 'Domain Not Served Here', headers: [] };
  return undefined;
}

function namesDomain(requestUri: string, realm: string): boolean {
  try {
    const uri = parseUri(requestUri);
    return uri.kind === 'sip' && uri.host.toLowerCase() === realm;
  } catch (error) {
    if (error instanceof SipSyntaxError) return false;
    throw error;
  }
}
