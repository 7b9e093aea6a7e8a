/**
 * Domains (tenants) through `/api/v1/domains`: created by the installation token with their first
 * operator token, listed, changed (a domain's own token: display name and retention only), deleted
 * once empty; and the API acting per tenant: a domain's token creates users, PBX links, routes and
 * tokens in its domain, the other domain's token sees none of them (and the other way round), link
 * ids stay unique across the edge, call records, their retention and provisioning are the
 * domain's, and the token of a deleted domain opens nothing.
 */
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { directoryOf } from '../../workers/directory/directory.ts';
import type { ProblemBody } from './support/pbx-links.ts';
import { EDGE } from './support/sip-socket.ts';
import { DOMAIN, operatorHeaders } from './support/users.ts';

interface DomainView {
  name: string;
  display_name?: string;
  aliases: string[];
  retention: Record<'call_records' | 'call_record_days' | 'trace_records' | 'trace_kib' | 'trace_hours', number>;
  created_at: string | null;
  installation: boolean;
}

interface CreatedDomain extends DomainView {
  operator_token: { id: string; name: string; token: string };
}

const LINK = { host: '127.0.0.1', port: 9, transport: 'tcp', register: false };

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
}

async function call(path: string, headers: Record<string, string> = operatorHeaders(), init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return exports.default.fetch(`${EDGE}${path.startsWith('/provision/') ? '' : '/api/v1'}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

async function problem(response: Response, status: number): Promise<ProblemBody> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('Content-Type')).toBe('application/problem+json');
  return JSON.parse(text) as ProblemBody;
}

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  return JSON.parse(text) as T;
}

async function createDomain(body: Record<string, unknown>): Promise<CreatedDomain> {
  return json<CreatedDomain>(await call('/domains', operatorHeaders(), { method: 'POST', body }), 201);
}

// The first request starts the Worker, which can take seconds on a loaded machine.
describe('/api/v1/domains', { timeout: 30_000 }, () => {
  it('creates a domain with its first operator token, shows it, lists it, and lists only its own to its token', async () => {
    const created = await createDomain({ name: 'Tenant-One.Example.com.', display_name: 'Tenant One', aliases: ['sip.tenant-one.example.com:5061'], retention: { call_records: 500, trace_hours: 48 } });
    expect(created).toMatchObject({
      name: 'tenant-one.example.com',
      display_name: 'Tenant One',
      aliases: ['sip.tenant-one.example.com'],
      retention: { call_records: 500, call_record_days: 30, trace_records: 2000, trace_kib: 2048, trace_hours: 48 },
      installation: false,
      operator_token: { name: 'first operator token' },
    });
    expect(created.created_at).not.toBeNull();
    expect(created.operator_token.token).toMatch(/^sipedge\./);

    const shown = await json<DomainView>(await call('/domains/tenant-one.example.com'), 200);
    expect(shown).toEqual({ ...created, operator_token: undefined });

    const all = await json<{ domains: DomainView[] }>(await call('/domains'), 200);
    expect(all.domains[0]).toMatchObject({ name: DOMAIN, installation: true });
    expect(all.domains.map((domain) => domain.name)).toContain('tenant-one.example.com');

    const own = await json<{ domains: DomainView[] }>(await call('/domains', bearer(created.operator_token.token)), 200);
    expect(own.domains.map((domain) => domain.name)).toEqual(['tenant-one.example.com']);
    await problem(await call(`/domains/${DOMAIN}`, bearer(created.operator_token.token)), 404);
    // The token works at once, on its own domain: no users yet.
    expect(await json(await call('/users', bearer(created.operator_token.token)), 200)).toEqual({ users: [] });
  });

  it('names the invalid field, and refuses a name or alias another domain holds, saying which', async () => {
    const bad = await problem(await call('/domains', operatorHeaders(), { method: 'POST', body: { name: 'not a domain!', retention: { call_records: 5 } } }), 400);
    expect(bad.errors).toEqual(
      expect.arrayContaining([
        { pointer: '#/name', detail: expect.stringMatching(/host name/) },
        { pointer: '#/retention/call_records', detail: 'must be 100-100000' },
      ]),
    );
    expect((await problem(await call('/domains', operatorHeaders(), { method: 'POST', body: { name: 'x.example.com', colour: 'red' } }), 400)).errors).toEqual([{ pointer: '#/colour', detail: 'is not a known field' }]);
    expect((await problem(await call('/domains/bad_name!'), 400)).errors?.[0]?.parameter).toBe('name');

    await createDomain({ name: 'holder.example.com', aliases: ['shared.example.com'] });
    const byAlias = await problem(await call('/domains', operatorHeaders(), { method: 'POST', body: { name: 'other.example.com', aliases: ['shared.example.com'] } }), 409);
    expect(byAlias.detail).toBe('"shared.example.com" is already a name or alias of the domain "holder.example.com"');
    expect((await problem(await call('/domains', operatorHeaders(), { method: 'POST', body: { name: 'shared.example.com' } }), 409)).detail).toMatch(/alias of the domain "holder.example.com"/);
    expect((await problem(await call('/domains', operatorHeaders(), { method: 'POST', body: { name: 'holder.example.com' } }), 409)).detail).toMatch(/exists/);
    expect((await problem(await call('/domains', operatorHeaders(), { method: 'POST', body: { name: DOMAIN } }), 409)).detail).toMatch(/exists/);
  });

  it('lets the installation token change anything, a domain token only its own display name and retention', async () => {
    const created = await createDomain({ name: 'patch.example.com' });
    const tenant = bearer(created.operator_token.token);

    const byTenant = await json<DomainView>(await call('/domains/patch.example.com', tenant, { method: 'PATCH', body: { display_name: 'Patched', retention: { call_record_days: 7 } } }), 200);
    expect(byTenant).toMatchObject({ display_name: 'Patched', retention: { call_records: 10_000, call_record_days: 7 } });
    const aliases = await problem(await call('/domains/patch.example.com', tenant, { method: 'PATCH', body: { aliases: ['a.patch.example.com'] } }), 403);
    expect(aliases.detail).toMatch(/aliases.*needs the installation token/);
    await problem(await call(`/domains/${DOMAIN}`, tenant, { method: 'PATCH', body: { display_name: 'mine now' } }), 404);
    expect((await problem(await call('/domains/patch.example.com', tenant, { method: 'PATCH', body: { retention: { trace_hours: 0 } } }), 400)).errors).toEqual([{ pointer: '#/retention/trace_hours', detail: 'must be 1-744' }]);

    const byInstallation = await json<DomainView>(await call('/domains/patch.example.com', operatorHeaders(), { method: 'PATCH', body: { aliases: ['a.patch.example.com'] } }), 200);
    expect(byInstallation).toMatchObject({ display_name: 'Patched', aliases: ['a.patch.example.com'], retention: { call_record_days: 7 } });
    await problem(await call('/domains/nowhere.example.com', operatorHeaders(), { method: 'PATCH', body: {} }), 404);
  });

  it('keeps creating and deleting domains to the installation token, and never deletes SIPEDGE_DOMAIN', async () => {
    const created = await createDomain({ name: 'guarded.example.com' });
    const tenant = bearer(created.operator_token.token);
    expect((await problem(await call('/domains', tenant, { method: 'POST', body: { name: 'mine.example.com' } }), 403)).detail).toMatch(/installation token/);
    // Refused before the input is looked at.
    await problem(await call('/domains', tenant, { method: 'POST', body: { name: 'not a domain!' } }), 403);
    expect((await problem(await call('/domains/guarded.example.com', tenant, { method: 'DELETE' }), 403)).detail).toMatch(/installation token/);
    expect((await problem(await call(`/domains/${DOMAIN}`, operatorHeaders(), { method: 'DELETE' }), 409)).detail).toMatch(/SIPEDGE_DOMAIN/);
    await problem(await call('/domains/nowhere.example.com', operatorHeaders(), { method: 'DELETE' }), 404);
    expect((await call('/domains/guarded.example.com', operatorHeaders(), { method: 'DELETE' })).status).toBe(204);
    await problem(await call('/domains/guarded.example.com'), 404);
  });

  it('answers nothing without a token', async () => {
    for (const [method, path] of [['GET', '/domains'], ['POST', '/domains'], ['GET', '/domains/x.example.com'], ['PATCH', '/domains/x.example.com'], ['DELETE', '/domains/x.example.com']] as const) {
      const response = await call(path, { 'Content-Type': 'application/json' }, { method, ...(method === 'POST' || method === 'PATCH' ? { body: {} } : {}) });
      expect(response.status, `${method} ${path}`).toBe(401);
      expect(response.headers.get('WWW-Authenticate')).toBe('Bearer realm="sipedge"');
    }
  });
});

describe('two domains', { timeout: 30_000 }, () => {
  it('keep their users, links, routes and tokens apart, and a link id stays unique across the edge', async () => {
    const b = bearer((await createDomain({ name: 'b.example.com' })).operator_token.token);
    const a = operatorHeaders();

    // B's operator creates a user, a link, a route and a token in B.
    expect((await call('/users/bob', b, { method: 'PUT', body: { password: 'bobs long password' } })).status).toBe(201);
    expect(await json(await call('/users/bob', b), 200)).toMatchObject({ username: 'bob', aor: 'bob@b.example.com' });
    expect(await json(await call('/pbx-links/b-pbx', b, { method: 'PUT', body: LINK }), 201)).toMatchObject({ id: 'b-pbx', domain: 'b.example.com' });
    expect((await call('/routes/b-route', b, { method: 'PUT', body: { pattern: '\\d+', trunks: ['b-pbx'] } })).status).toBe(201);
    const imported = await exports.default.fetch(`${EDGE}/api/v1/users/import`, { method: 'POST', headers: { ...b, 'Content-Type': 'text/csv' }, body: 'username,password\nbea,beas long password\n' });
    expect(await json(imported, 200)).toEqual({ created: 1, replaced: 0, total: 1 });
    const bToken = await json<{ id: string; domain: string }>(await call('/tokens', b, { method: 'POST', body: { name: 'b script' } }), 201);
    expect(bToken.domain).toBe('b.example.com');

    // The default domain's token sees none of them.
    expect(((await json<{ users: { username: string }[] }>(await call('/users', a), 200)).users).map((user) => user.username)).not.toContain('bob');
    expect(((await json<{ users: { username: string }[] }>(await call('/users', a), 200)).users).map((user) => user.username)).not.toContain('bea');
    for (const path of ['/users/bob', '/users/bob/trace', '/users/bob/registrations/log', '/users/bob/latency', '/pbx-links/b-pbx', '/pbx-links/b-pbx/trace', '/pbx-links/b-pbx/latency', '/routes/b-route']) {
      await problem(await call(path, a), 404);
    }
    expect(((await json<{ links: { id: string }[] }>(await call('/pbx-links', a), 200)).links).map((link) => link.id)).not.toContain('b-pbx');
    expect(((await json<{ routes: { id: string }[] }>(await call('/routes', a), 200)).routes).map((rule) => rule.id)).not.toContain('b-route');
    expect(((await json<{ tokens: { id: string }[] }>(await call('/tokens', a), 200)).tokens).map((token) => token.id)).not.toContain(bToken.id);
    await problem(await call(`/tokens/${bToken.id}`, a, { method: 'DELETE' }), 404);
    await problem(await call('/pbx-links/b-pbx', a, { method: 'DELETE' }), 404);
    // A's users cannot be given B's link either: it does not exist for them.
    expect((await problem(await call('/users/ann', a, { method: 'PUT', body: { password: 'anns long password', pbx: { link: 'b-pbx', username: '1001', password: 'x' } } }), 409)).errors).toEqual([{ pointer: '#/pbx/link', detail: 'there is no such PBX link' }]);

    // And the other way round.
    expect((await call('/users/alma', a, { method: 'PUT', body: { password: 'almas long password' } })).status).toBe(201);
    expect((await call('/pbx-links/a-pbx', a, { method: 'PUT', body: LINK })).status).toBe(201);
    expect(((await json<{ users: { username: string }[] }>(await call('/users', b), 200)).users).map((user) => user.username)).toEqual(['bea', 'bob']);
    await problem(await call('/users/alma', b), 404);
    await problem(await call('/pbx-links/a-pbx', b), 404);
    expect(((await json<{ links: { id: string }[] }>(await call('/pbx-links', b), 200)).links).map((link) => link.id)).toEqual(['b-pbx']);
    expect(((await json<{ tokens: { id: string }[] }>(await call('/tokens', b), 200)).tokens).map((token) => token.id)).not.toContain('operator-secret');

    // Settings are the domain's own; media nodes are everybody's (and show no calls).
    const ice = { iceServers: [{ urls: 'stun:stun.b.example.com' }] };
    expect(await json(await call('/provisioning-settings', b, { method: 'PUT', body: ice }), 200)).toEqual(ice);
    expect(await json(await call('/provisioning-settings', a), 200)).not.toEqual(ice);
    expect((await call('/media-nodes', b)).status).toBe(200);

    // Link ids are the edge's: B cannot take A's, nor A B's.
    expect((await problem(await call('/pbx-links/a-pbx', b, { method: 'PUT', body: LINK }), 409)).detail).toMatch(/unique across the edge/);
    await problem(await call('/pbx-links/b-pbx', a, { method: 'PUT', body: LINK }), 409);
    expect(await json(await call('/pbx-links/a-pbx', a), 200)).toMatchObject({ domain: DOMAIN });
  });

  it("keep their call records, retention and provisioning apart", async () => {
    const b = bearer((await createDomain({ name: 'calls-b.example.com' })).operator_token.token);
    // The domain's own operator sets its retention; the Directory follows.
    expect(await json(await call('/domains/calls-b.example.com', b, { method: 'PATCH', body: { retention: { call_records: 100 } } }), 200)).toMatchObject({ retention: { call_records: 100 } });
    expect((await call('/users/carl', b, { method: 'PUT', body: { password: 'carls long password' } })).status).toBe(201);

    // 105 calls in B: its retention keeps the newest 100.
    const start = Date.now() - 60_000;
    await directoryOf(env, 'calls-b.example.com').recordCalls(
      Array.from({ length: 105 }, (_, index) => ({ id: `b-call-${index}`, startedAt: start + index, caller: 'carl', callee: '100', direction: 'local' as const, user: 'carl' })),
    );
    const page = await json<{ calls: { id: string }[] }>(await call('/calls?limit=200', b), 200);
    expect(page.calls).toHaveLength(100);
    expect(page.calls[0]?.id).toBe('b-call-104');
    expect(page.calls.map((record) => record.id)).not.toContain('b-call-4');
    expect((await json<{ calls: { id: string }[] }>(await call('/calls?limit=200'), 200)).calls.map((record) => record.id)).not.toContain('b-call-104');
    await problem(await call('/calls/b-call-104'), 404);
    expect(await json(await call('/calls/b-call-104', b), 200)).toMatchObject({ caller: 'carl' });

    // Provisioning: B's user, B's URI and realm, a link that opens from B's Directory.
    await problem(await call('/users/carl/provisioning', operatorHeaders(), { method: 'POST', body: {} }), 404);
    const provisioned = await json<{ config: { uri: string; webSocketUrl: string }; link: { url: string } }>(await call('/users/carl/provisioning', b, { method: 'POST', body: { password: 'carls long password' } }), 201);
    expect(provisioned.config.uri).toBe('sip:carl@calls-b.example.com');
    expect(provisioned.config.webSocketUrl).toMatch(/\/sip\/carl@calls-b\.example\.com$/);
    const opened = await exports.default.fetch(provisioned.link.url);
    expect(opened.status).toBe(200);
    expect(await opened.json()).toMatchObject({ uri: 'sip:carl@calls-b.example.com', jssip: { configuration: { uri: 'sip:carl@calls-b.example.com', password: 'carls long password' } } });
    expect((await exports.default.fetch(provisioned.link.url)).status).toBe(410);
  });

  it('refuse to delete a domain that has users, links or routes, then delete it, after which its tokens open nothing', async () => {
    const created = await createDomain({ name: 'gone.example.com' });
    const b = bearer(created.operator_token.token);
    expect((await call('/users/gus', b, { method: 'PUT', body: { password: 'guss long password' } })).status).toBe(201);
    const user = await json<{ token: string }>(await call('/tokens', b, { method: 'POST', body: { name: 'gus phone', username: 'gus' } }), 201);
    expect((await call('/pbx-links/gone-pbx', b, { method: 'PUT', body: LINK })).status).toBe(201);
    expect((await call('/me', bearer(user.token))).status).toBe(200);

    expect((await problem(await call('/domains/gone.example.com', operatorHeaders(), { method: 'DELETE' }), 409)).detail).toMatch(/still has 1 user and 1 PBX link;/);
    expect((await call('/users/gus', b, { method: 'DELETE' })).status).toBe(204);
    expect((await call('/routes/gone-route', b, { method: 'PUT', body: { pattern: '\\d+', trunks: ['gone-pbx'] } })).status).toBe(201);
    expect((await problem(await call('/domains/gone.example.com', operatorHeaders(), { method: 'DELETE' }), 409)).detail).toMatch(/still has 1 PBX link and 1 route;/);
    expect((await call('/pbx-links/gone-pbx', b, { method: 'DELETE' })).status).toBe(204);
    expect((await call('/routes/gone-route', b, { method: 'DELETE' })).status).toBe(204);
    expect((await call('/domains/gone.example.com', operatorHeaders(), { method: 'DELETE' })).status).toBe(204);

    for (const path of ['/users', '/tokens', '/pbx-links', '/domains']) {
      expect((await problem(await call(path, b), 403)).detail, path).toMatch(/domain no longer served/);
    }
    // The user's token went with the user; a user token of a deleted domain would be refused the same way.
    expect((await call('/me', bearer(user.token))).status).toBe(401);

    // Created again, the domain does not honour the old life's tokens.
    await createDomain({ name: 'gone.example.com' });
    expect((await call('/users', b)).status).toBe(401);
  });
});
