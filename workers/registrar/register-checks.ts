/**
 * What a registrar checks in a REGISTER before authenticating it (RFC 3261 §10.3 steps 1, 2, 5
 * and 6): the Require option tags, the To (a SIP or SIPS URI), `*` only with Expires: 0, and a
 * Request-URI that names this registrar: the served domain, the host the client's WebSocket
 * connected to, or a name listed in SIPEDGE_REGISTRAR_ALIASES. The checks common to every role ran when the request
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

/** The names a REGISTER's Request-URI may give this registrar (RFC 3261 §10.3 step 1), lower-cased. */
export interface RegistrarNames {
  /** The SIP domain, which is also the digest realm. */
  readonly realm: string;
  /** The host of the WebSocket URL the REGISTER arrived on (`Flow.host`); undefined when unknown. */
  readonly host?: string | undefined;
  /** SIPEDGE_REGISTRAR_ALIASES, as `registrarAliases` reads it. */
  readonly aliases: readonly string[];
}

/** The refusal to send, or undefined when the REGISTER may go on to authentication. */
export function checkRegister(request: SipRequest, names: RegistrarNames): RegisterRejection | undefined {
  const rejection = checkRequest(request, { role: 'registrar', extensions: REGISTRAR_EXTENSIONS, commonChecked: true });
  if (rejection) return { status: rejection.status, reason: rejection.status === 400 ? reasonFromDetail(rejection.detail) : rejection.reason, headers: rejection.headers };
  // RFC 3261 §10.3 step 1: the Request-URI names the registrar, which has the domain's bindings.
  if (!namesRegistrar(request.uri, names)) return { status: 404, reason: 'Domain Not Served Here', headers: [] };
  return undefined;
}

function namesRegistrar(requestUri: string, names: RegistrarNames): boolean {
  let host: string;
  try {
    const uri = parseUri(requestUri);
    if (uri.kind !== 'sip') return false;
    host = uri.host.toLowerCase();
  } catch (error) {
    if (error instanceof SipSyntaxError) return false;
    throw error;
  }
  return host === names.realm || host === names.host || names.aliases.includes(host);
}

let aliasesRead: { readonly value: string; readonly aliases: readonly string[] } | undefined;

/**
 * SIPEDGE_REGISTRAR_ALIASES: more names of this registrar, comma-separated (spaces and case
 * ignored), for clients whose registrar URI names a host other than the domain or the one they
 * connected to. Optional (wrangler.toml documents it): parsed once per value, not per REGISTER.
 */
export function registrarAliases(env: { readonly SIPEDGE_DOMAIN: string; readonly SIPEDGE_REGISTRAR_ALIASES?: string }): readonly string[] {
  const value = env.SIPEDGE_REGISTRAR_ALIASES ?? '';
  if (aliasesRead?.value !== value) {
    const aliases = value.split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '');
    aliasesRead = { value, aliases };
  }
  return aliasesRead.aliases;
}
