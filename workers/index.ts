/**
 * The edge Worker: the only public entry to sipedge.
 *
 *   GET /health   liveness probe (with SIPEDGE_DOMAIN's user count and how many domains are served)
 *   GET /sip      SIP over WebSocket (RFC 7118), one URL for every user: each WebSocket gets its
 *                 own SipConnection object, which hands each message to the SipUser object of its
 *                 address-of-record
 *   GET /sip/<user>, /sip/<user>@<domain>  the same, landing directly in that user's SipUser object
 *                 (of SIPEDGE_DOMAIN, or of the domain named) (workers/connection/user-socket.ts)
 *   /api/v1/...   the operator API (workers/api/)
 *   GET /provision/<token>  a one-time provisioning link (workers/api/provisioning.ts)
 */
import { Hono } from 'hono';
import { VERSION } from '../shared/version.ts';
import { api, problemNotFound, problemOnError } from './api/index.ts';
import { problemResponse } from './api/problem.ts';
import { openProvisioningLink } from './api/provisioning.ts';
import { checkSipUpgrade } from './connection/websocket-upgrade.ts';
import { userSocketEntry } from './connection/user-socket.ts';
import { directoryOf } from './directory/directory.ts';
import { domainRegistry } from './domains/domain-registry.ts';

export { SipConnection } from './connection/sip-connection.ts';
export { AddressGuard } from './registrar/address-guard-object.ts';
export { Directory } from './directory/directory.ts';
export { DomainRegistry } from './domains/domain-registry.ts';
export { MediaFleet } from './media/media-fleet.ts';
export { PbxLink } from './pbx/pbx-link.ts';
export { PresenceHub } from './presence/presence-hub.ts';
export { Routing } from './routing/routing.ts';
export { SipUser } from './user/sip-user.ts';

export const app = new Hono<{ Bindings: Env }>();

app.get('/health', async (c) => {
  // The domain's user count, from its Directory (counted once per object life), and the domains
  // served, from the registry; each left out when its object does not answer.
  const [users, domains] = await Promise.all([
    directoryOf(c.env, c.env.SIPEDGE_DOMAIN).countUsers().catch(() => undefined),
    domainRegistry(c.env).list().then((list) => list.length, () => undefined),
  ]);
  return c.json({
    status: 'ok',
    service: 'sipedge-edge',
    version: VERSION,
    domain: c.env.SIPEDGE_DOMAIN,
    ...(users === undefined ? {} : { users }),
    ...(domains === undefined ? {} : { domains }),
  });
});

app.get('/sip', (c) => {
  const check = checkSipUpgrade(c.req.raw.headers);
  if (!check.ok) return problemResponse({ status: check.status, title: check.title, detail: check.detail }, check.headers);
  const connections = c.env.SIP_CONNECTION;
  return connections.get(connections.newUniqueId()).fetch(c.req.raw);
});

app.all('/sip', () =>
  problemResponse({ status: 405, title: 'Method Not Allowed', detail: '/sip takes only GET with a WebSocket upgrade' }, { Allow: 'GET' }),
);

// The per-user form: the WebSocket lands in the user's SipUser object, no SipConnection hop.
app.all('/sip/:user', (c) => userSocketEntry(c.req.raw, c.req.param('user'), c.env));

// A one-time provisioning link (workers/api/provisioning.ts): its token is its credential.
app.get('/provision/:token', (c) => openProvisioningLink(c.env, c.req.param('token')));

app.route('/api/v1', api);
app.notFound(problemNotFound);
app.onError(problemOnError);

export default app;
