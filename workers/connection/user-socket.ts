/**
 * The per-user form of the SIP WebSocket entry (issue 3, DESIGN.md): `GET /sip/<user>` (a user of
 * the installation's domain, SIPEDGE_DOMAIN) or `GET /sip/<user>@<domain>` (a user of any served
 * domain, named by its name or an alias) lands the WebSocket directly in the user's SipUser object,
 * which holds it with the Hibernation API. No SipConnection object and no RPC hop per message: the
 * registration path of a device that knows its user costs one object, not two.
 *
 * The shared `/sip` URL keeps working for clients that cannot put the user in the URL. A socket on
 * `/sip/<user>` is otherwise the same as one on `/sip`: it may carry requests of any user of a
 * served domain, each handled by the object of its address-of-record (REGISTER by To, other
 * requests by From, responses by To), the user of the URL in its own object and any other over RPC.
 *
 * Flows (RFC 5626): a socket held by a SipUser object is named `<object id>/<tag>`, so whichever
 * object holds a binding can reach it: the holder sends on it itself, any other object asks the
 * holder (`SipUser.deliverOnFlow`). A SipConnection id never contains `/`.
 */
import { problemResponse } from '../api/problem.ts';
import { servedDomain } from '../domains/served-domains.ts';
import { aorForUser } from '../sip/address-of-record.ts';
import type { Flow } from '../sip/flow.ts';
import { checkSipUpgrade } from './websocket-upgrade.ts';

/** The header the Worker names the address-of-record in when it hands a socket to a SipUser object; set by the Worker only. */
export const USER_SOCKET_AOR_HEADER = 'Sipedge-Socket-Aor';

/** What a SipUser object remembers of one of its sockets across hibernation. */
export interface UserSocketAttachment {
  readonly flow: Flow;
  /** The object's own address-of-record: requests of this AOR are handled without an RPC hop. */
  readonly aor: string;
}

const SEPARATOR = '/';

/** The flow name of a socket held by the SipUser object `objectId`. */
export function userSocketFlowId(objectId: string, tag: string): string {
  return `${objectId}${SEPARATOR}${tag}`;
}

/** The id of the SipUser object that holds flow `connectionId`, or undefined when a SipConnection holds it. */
export function userSocketHolder(connectionId: string): string | undefined {
  const at = connectionId.indexOf(SEPARATOR);
  return at < 0 ? undefined : connectionId.slice(0, at);
}

/** Longest user part accepted in the URL, in characters (a SIP user is a name, not a document). */
const MAX_USER_LENGTH = 256;

/**
 * `/sip/<user>` and `/sip/<user>@<domain>`: checks the upgrade as `/sip` does and hands the request
 * to the user's object. `segment` is the path segment as Hono decoded it (percent-escapes
 * resolved): the user part of the AOR unescaped, as `aorOf` keys objects, and the domain after the
 * last `@`, if any.
 */
export function userSocketEntry(request: Request, segment: string, env: Env): Promise<Response> | Response {
  if (request.method !== 'GET') {
    return problemResponse({ status: 405, title: 'Method Not Allowed', detail: '/sip/<user> takes only GET with a WebSocket upgrade' }, { Allow: 'GET' });
  }
  const check = checkSipUpgrade(request.headers);
  if (!check.ok) return problemResponse({ status: check.status, title: check.title, detail: check.detail }, check.headers);
  const at = segment.lastIndexOf('@');
  const user = at < 0 ? segment : segment.slice(0, at);
  // eslint-disable-next-line no-control-regex
  if (user.length === 0 || user.length > MAX_USER_LENGTH || /[\x00-\x20\x7f@/]/.test(user)) {
    return problemResponse({ status: 400, title: 'Bad user in URL', detail: `/sip/<user> takes a SIP user name (1 to ${MAX_USER_LENGTH} characters, no spaces, "@" or "/"), optionally followed by @<domain>` });
  }
  if (at < 0) return toUser(request, aorForUser(user, env.SIPEDGE_DOMAIN), env);
  return toUserOfDomain(request, user, segment.slice(at + 1), env);
}

async function toUserOfDomain(request: Request, user: string, host: string, env: Env): Promise<Response> {
  const domain = host === '' ? undefined : await servedDomain(env, host);
  if (domain === undefined) {
    return problemResponse({ status: 404, title: 'Domain not served here', detail: `"${host}" in /sip/<user>@<domain> is no domain (or alias of one) this edge serves` });
  }
  return toUser(request, aorForUser(user, domain.name), env);
}

function toUser(request: Request, aor: string, env: Env): Promise<Response> {
  const forwarded = new Request(request);
  forwarded.headers.set(USER_SOCKET_AOR_HEADER, aor);
  return env.SIP_USER.get(env.SIP_USER.idFromName(aor)).fetch(forwarded);
}
