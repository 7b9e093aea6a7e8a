/**
 * The routing resources of /api/v1: rules, inbound mappings and settings, validated with problem
 * documents that name the field; webhook secrets never shown; the dry run's plan and explanation;
 * the PBX-link registry the pbx-links API keeps. All against the domain's one Routing object, so
 * each test uses ids of its own and puts the settings it needs.
 */
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { deleteLink, putLink, type ProblemBody } from './support/pbx-links.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders } from './support/users.ts';

function api(method: string, path: string, body?: unknown, headers: Record<string, string> = operatorHeaders()): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1${path}`, { method, headers: { ...headers, 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

async function problem(response: Response, status: number): Promise<ProblemBody> {
  expect(response.status).toBe(status);
  expect(response.headers.get('Content-Type')).toBe('application/problem+json');
  return (await response.json()) as ProblemBody;
}

const SECRET = 'routing-webhook-secret-0123';

describe('/api/v1/routes', () => {
  it('needs the operator token', async () => {
    expect((await api('GET', '/routes', undefined, {})).status).toBe(401);
    expect((await api('POST', '/routes/dry-run', { user: 'alice', dialled: '1' }, {})).status).toBe(401);
    expect((await api('GET', '/routing-settings', undefined, {})).status).toBe(401);
  });

  it('creates, shows, lists, replaces and deletes a rule', async () => {
    const rule = { priority: 5, pattern: '00(49\\d+)', rewrite: { strip: 2, prepend: '+' }, trunks: ['crud-trunk'] };
    const created = await api('PUT', '/routes/crud', rule);
    expect(created.status).toBe(201);
    expect(created.headers.get('Location')).toBe('/api/v1/routes/crud');
    expect(await created.json()).toEqual({ id: 'crud', ...rule });
    expect(await (await api('GET', '/routes/crud')).json()).toEqual({ id: 'crud', ...rule });
    expect((await api('PUT', '/routes/crud', { ...rule, priority: 6 })).status).toBe(200);
    const list = (await (await api('GET', '/routes')).json()) as { routes: { id: string; priority: number }[] };
    expect(list.routes.find((r) => r.id === 'crud')?.priority).toBe(6);
    expect((await api('DELETE', '/routes/crud')).status).toBe(204);
    expect((await problem(await api('GET', '/routes/crud'), 404)).detail).toBe('there is no route "crud"');
    await problem(await api('DELETE', '/routes/crud'), 404);
  });

  it('lists rules in the order they are tried: by priority, then id', async () => {
    await api('PUT', '/routes/order-a', { priority: 900_002, pattern: '1', trunks: ['t'] });
    await api('PUT', '/routes/order-b', { priority: 900_001, pattern: '1', trunks: ['t'] });
    await api('PUT', '/routes/order-c', { priority: 900_001, pattern: '1', trunks: ['t'] });
    const list = (await (await api('GET', '/routes')).json()) as { routes: { id: string }[] };
    expect(list.routes.map((r) => r.id).filter((id) => id.startsWith('order-'))).toEqual(['order-b', 'order-c', 'order-a']);
    for (const id of ['order-a', 'order-b', 'order-c']) await api('DELETE', `/routes/${id}`);
  });

  it('names each invalid field', async () => {
    const body = await problem(
      await api('PUT', '/routes/bad', { pattern: '(\\d+)+', trunks: [], rewrite: { strip: -1 }, conditions: { countries: ['de'] }, colour: 'red' }),
      400,
    );
    const pointers = body.errors?.map((error) => error.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['#/pattern', '#/trunks', '#/rewrite/strip', '#/conditions/countries/0', '#/colour']));
    expect(body.errors?.find((error) => error.pointer === '#/pattern')?.detail).toContain('nested quantifiers');
    expect((await problem(await api('PUT', '/routes/bad', { pattern: '(49', trunks: ['t'] }), 400)).errors?.[0]).toMatchObject({ pointer: '#/pattern' });
    expect((await problem(await api('PUT', '/routes/bad%20id', { pattern: '1', trunks: ['t'] }), 400)).errors?.[0]).toMatchObject({ parameter: 'id' });
  });

  it('refuses a caller-ID template with an unknown placeholder, naming it', async () => {
    const body = await problem(await api('PUT', '/routes/cid', { pattern: '\\d+', trunks: ['t'], caller_id: { display_name: '{department}', user: '{did}' } }), 400);
    expect(body.errors).toEqual([{ pointer: '#/caller_id/display_name', detail: 'unknown placeholder {department} (known: {username}, {dialled}, {display_name}, {did}, {extension}, {group})' }]);
  });
});

describe('the OpenAPI document', () => {
  it('describes the routing resources', async () => {
    const document = (await (await api('GET', '/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/routes', '/routes/{id}', '/routes/dry-run', '/inbound-mappings', '/inbound-mappings/{id}', '/routing-settings']));
  });
});

describe('/api/v1/routes/dry-run', () => {
  it('gives the plan and explains each rule and trunk, without taking a slot', async () => {
    expect((await putLink('dry-trunk-a', { host: 'trunk-a.example', transport: 'tcp', register: false })).status).toBe(201);
    expect((await putLink('dry-trunk-b', { host: 'trunk-b.example', transport: 'tcp', register: false, can_terminate: false })).status).toBe(201);
    await api('PUT', '/routing-settings', { limits: { user_concurrent_calls: 1 } });
    expect((await api('PUT', '/routes/dry-uk', { priority: 1, pattern: '0044\\d+', trunks: ['dry-trunk-a'] })).status).toBe(201);
    expect((await api('PUT', '/routes/dry-de', { priority: 2, pattern: '0049(\\d+)', rewrite: { replace: { pattern: '^00', with: '+' } }, trunks: ['dry-trunk-b', 'dry-trunk-a', 'dry-gone'], conditions: { countries: ['DE'] } })).status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const response = await api('POST', '/routes/dry-run', { user: 'alice', dialled: '0049301234', country: 'DE' });
      expect(response.status).toBe(200);
      const result = (await response.json()) as Record<string, unknown>;
      expect(result['limit']).toBeUndefined();
      expect(result['plan']).toEqual({ ok: true, ruleId: 'dry-de', attempts: [{ linkId: 'dry-trunk-a', number: '+49301234', callerId: { user: 'alice' } }] });
      expect(result['explanation']).toMatchObject({
        rules: [
          { id: 'dry-uk', matched: false, reason: 'pattern 0044\\d+ does not match 0049301234' },
          { id: 'dry-de', matched: true, reason: 'pattern 0049(\\d+) matches and its conditions hold' },
        ],
        trunks: [
          { link_id: 'dry-trunk-b', used: false, reason: 'cannot terminate calls' },
          { link_id: 'dry-gone', used: false, reason: 'not a known PBX link' },
          { link_id: 'dry-trunk-a', used: true, reason: 'attempt 1' },
        ],
      });
    }
    const abroad = (await (await api('POST', '/routes/dry-run', { user: 'alice', dialled: '0049301234', country: 'FR' })).json()) as { plan: unknown };
    expect(abroad.plan).toEqual({ ok: false, status: 404, reason: 'No route' });
    await api('DELETE', '/routes/dry-uk');
    await api('DELETE', '/routes/dry-de');
    await deleteLink('dry-trunk-a');
    await deleteLink('dry-trunk-b');
  });

  it('names invalid fields of the request', async () => {
    const body = await problem(await api('POST', '/routes/dry-run', { user: '', dialled: '1'.repeat(65) }), 400);
    expect(body.errors?.map((error) => error.pointer).sort()).toEqual(['#/dialled', '#/user']);
  });
});

describe('/api/v1/pbx-links listing', () => {
  it('lists the links with their registration state, and forgets deleted ones', async () => {
    expect((await putLink('list-trunk', { host: 'trunk.example', transport: 'tcp', register: false })).status).toBe(201);
    const listed = (await (await api('GET', '/pbx-links')).json()) as { links: { id: string; status: string }[] };
    expect(listed.links.find((link) => link.id === 'list-trunk')).toEqual({ id: 'list-trunk', status: expect.any(String) });
    expect((await deleteLink('list-trunk')).status).toBe(204);
    const after = (await (await api('GET', '/pbx-links')).json()) as { links: { id: string }[] };
    expect(after.links.map((link) => link.id)).not.toContain('list-trunk');
  });
});

describe('/api/v1/inbound-mappings', () => {
  it('creates, lists and deletes a mapping', async () => {
    const mapping = { number: '+4930555100', users: ['alice', 'bob'] };
    expect((await api('PUT', '/inbound-mappings/sales', mapping)).status).toBe(201);
    expect(await (await api('GET', '/inbound-mappings/sales')).json()).toEqual({ id: 'sales', ...mapping });
    const list = (await (await api('GET', '/inbound-mappings')).json()) as { mappings: { id: string }[] };
    expect(list.mappings.map((m) => m.id)).toContain('sales');
    expect((await api('DELETE', '/inbound-mappings/sales')).status).toBe(204);
    await problem(await api('GET', '/inbound-mappings/sales'), 404);
  });

  it('wants exactly one of number and to_user, and users', async () => {
    const body = await problem(await api('PUT', '/inbound-mappings/bad', { number: '1', to_user: 'x', users: [] }), 400);
    expect(body.errors?.map((error) => error.pointer).sort()).toEqual(['#/number', '#/users']);
  });
});

describe('/api/v1/routing-settings', () => {
  it('never returns a webhook secret, and keeps the stored one when it is left out', async () => {
    const put = await api('PUT', '/routing-settings', { webhooks: { routing: { url: 'https://hooks.example/route', secret: SECRET } } });
    expect(put.status).toBe(200);
    const text = await put.text();
    expect(text).not.toContain(SECRET);
    expect(JSON.parse(text).webhooks).toEqual({ routing: { url: 'https://hooks.example/route', timeout_ms: 2000, secret_set: true } });
    const kept = await api('PUT', '/routing-settings', { webhooks: { routing: { url: 'https://hooks.example/other', timeout_ms: 500 } } });
    expect(kept.status).toBe(200);
    const got = await (await api('GET', '/routing-settings')).text();
    expect(got).not.toContain(SECRET);
    expect(JSON.parse(got).webhooks.routing).toEqual({ url: 'https://hooks.example/other', timeout_ms: 500, secret_set: true });
    expect((await api('PUT', '/routing-settings', {})).status).toBe(200);
  });

  it('wants a secret for a new webhook, and names invalid fields', async () => {
    await api('PUT', '/routing-settings', {});
    const missing = await problem(await api('PUT', '/routing-settings', { webhooks: { inbound: { url: 'https://hooks.example/in' } } }), 400);
    expect(missing.errors).toEqual([{ pointer: '#/webhooks/inbound/secret', detail: 'is required: no secret is stored for this webhook yet' }]);
    const invalid = await problem(
      await api('PUT', '/routing-settings', { limits: { user_concurrent_calls: -1 }, deny_patterns: ['(0|00)*'], webhooks: { routing: { url: 'ftp://x', secret: 'short' } } }),
      400,
    );
    expect(invalid.errors?.map((error) => error.pointer).sort()).toEqual(['#/deny_patterns/0', '#/limits/user_concurrent_calls', '#/webhooks/routing/secret', '#/webhooks/routing/url']);
  });

  it('refuses a user caller-ID template with an unknown placeholder, and dropping an attribute a route uses', async () => {
    await api('PUT', '/routing-settings', {});
    const body = await problem(await api('PUT', '/routing-settings', { user_caller_ids: { alice: { user: '{mobile}' } } }), 400);
    expect(body.errors?.[0]).toMatchObject({ pointer: '#/user_caller_ids/alice/user' });
    expect(body.errors?.[0]?.detail).toContain('unknown placeholder {mobile}');
    expect((await api('PUT', '/routes/uses-did', { pattern: '\\d+', trunks: ['t'], caller_id: { user: '{did}' } })).status).toBe(201);
    const dropped = await problem(await api('PUT', '/routing-settings', { user_attributes: ['extension'] }), 400);
    expect(dropped.errors).toEqual([{ pointer: '#/user_attributes', detail: "route uses-did's caller ID uses an attribute this list leaves out" }]);
    await api('DELETE', '/routes/uses-did');
  });
});
