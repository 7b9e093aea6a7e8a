/**
 * The OpenAPI 3.1 document of /api/v1: generated from the routes' own schemas, complete (every
 * route the Worker registers under /api/v1 is in it), and true (every operation it lists refuses a
 * request without a token with a 401 problem; a failed validation names the field).
 */
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../workers/index.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders, putUser } from './support/users.ts';

interface Operation {
  security?: Record<string, unknown>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface Document {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

/** The media nodes' own routes: signed with SIPEDGE_MEDIA_SECRET, not token-authenticated. */
function signed(operation: Operation): boolean {
  return operation.security?.some((scheme) => 'mediaNodeSignature' in scheme) === true;
}

async function document(): Promise<Document> {
  const response = await exports.default.fetch(`${EDGE}/api/v1/openapi.json`, { headers: operatorHeaders() });
  expect(response.status).toBe(200);
  return (await response.json()) as Document;
}

function operations(doc: Document): { path: string; method: string; operation: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })));
}

describe('GET /api/v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document of the API, with its bearer scheme and the problem schema', async () => {
    const doc = await document();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: '/api/v1' }]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.mediaNodeSignature).toMatchObject({ type: 'apiKey', in: 'header', name: 'Sipedge-Signature' });
    expect(doc.components.schemas.Problem).toBeDefined();
    const expected = [
      '/users',
      '/users/{username}',
      '/users/{username}/trace',
      '/users/{username}/registrations/log',
      '/users/{username}/provisioning',
      '/users/{username}/provisioning/{id}',
      '/users/{username}/presence',
      '/users/{username}/latency',
      '/users/import',
      '/tokens',
      '/tokens/{id}',
      '/me',
      '/me/trace',
      '/me/registrations/log',
      '/me/provisioning',
      '/me/presence',
      '/presence/events',
      '/provisioning-settings',
      '/pbx-links',
      '/pbx-links/{id}',
      '/pbx-links/{id}/trace',
      '/pbx-links/{id}/latency',
      '/media-nodes',
      '/media-nodes/{id}/latency',
      '/media-nodes/heartbeat',
      '/media-nodes/session-ended',
    ];
    for (const path of expected) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.paths['/users/{username}']?.put?.requestBody?.content['application/json']).toMatchObject({ schema: { $ref: '#/components/schemas/PutUser' } });
    expect(doc.paths['/pbx-links/{id}']?.put?.requestBody?.content['application/json']).toMatchObject({ schema: { $ref: '#/components/schemas/PutPbxLink' } });
    expect(doc.paths['/media-nodes/heartbeat']?.post?.requestBody?.content['application/json']).toMatchObject({ schema: { $ref: '#/components/schemas/MediaNodeHeartbeat' } });
    expect(doc.paths['/media-nodes/heartbeat']?.post?.security).toEqual([{ mediaNodeSignature: [] }]);
    expect(doc.paths['/media-nodes']?.get?.security).toBeUndefined();
  });

  it('declares for every operation its 401 problem, 403 wherever a token is needed, and a 400 problem wherever it takes input', async () => {
    const doc = await document();
    const problem = { schema: { $ref: '#/components/schemas/Problem' } };
    for (const { path, method, operation } of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      expect(operation.responses['401']?.content?.['application/problem+json'], where).toEqual(problem);
      if (signed(operation)) expect(operation.responses['403'], where).toBeUndefined();
      else expect(operation.responses['403']?.content?.['application/problem+json'], where).toEqual(problem);
      const takesInput = (operation.parameters ?? []).length > 0 || operation.requestBody !== undefined;
      if (takesInput) expect(operation.responses['400']?.content?.['application/problem+json'], where).toEqual(problem);
      for (const match of path.matchAll(/\{([^}]+)\}/g)) {
        expect(operation.parameters?.some((parameter) => parameter.in === 'path' && parameter.name === match[1]), `${where} declares ${match[1]}`).toBe(true);
      }
    }
  });

  it('lists every route the Worker registers under /api/v1', async () => {
    const doc = await document();
    const documented = new Set(operations(doc).map(({ path, method }) => `${method.toUpperCase()} ${path}`));
    const registered = app.routes
      .filter((route) => route.method !== 'ALL' && route.path.startsWith('/api/v1/'))
      .map((route) => ({ method: route.method, path: route.path.slice('/api/v1'.length).replace(/\/$/, '').replaceAll(/:([^/]+)/g, '{$1}') }))
      .filter((route) => route.path !== '/openapi.json');
    expect(registered.length).toBeGreaterThan(8);
    for (const route of registered) expect(documented, `${route.method} ${route.path}`).toContain(`${route.method} ${route.path}`);
  });

  it('answers every documented operation without a token (or signature) with 401 and a problem document', async () => {
    const doc = await document();
    for (const { path, method, operation } of operations(doc)) {
      const url = `${EDGE}/api/v1${path.replaceAll(/\{[^}]+\}/g, 'someone')}`;
      const response = await exports.default.fetch(url, { method: method.toUpperCase(), ...(method === 'get' || method === 'delete' ? {} : { body: '{}' }) });
      expect(response.status, `${method.toUpperCase()} ${path}`).toBe(401);
      expect(response.headers.get('Content-Type')).toBe('application/problem+json');
      expect(response.headers.get('WWW-Authenticate')).toBe(signed(operation) ? 'Sipedge-HMAC-SHA256' : 'Bearer realm="sipedge"');
    }
    const unauthenticated = await exports.default.fetch(`${EDGE}/api/v1/openapi.json`);
    expect(unauthenticated.status).toBe(401);
  });
});

describe('validation through the generated routes', () => {
  it('names a query parameter, a path parameter and a body member in the problem', async () => {
    const limit = await exports.default.fetch(`${EDGE}/api/v1/users?limit=0`, { headers: operatorHeaders() });
    expect(limit.status).toBe(400);
    expect(((await limit.json()) as { errors: unknown }).errors).toEqual([{ parameter: 'limit', detail: 'must be 1-500' }]);

    await putUser('olga', 'olgas password');
    const format = await exports.default.fetch(`${EDGE}/api/v1/users/olga/trace?format=xml&colour=red`, { headers: operatorHeaders() });
    expect(format.status).toBe(400);
    expect(((await format.json()) as { errors: unknown }).errors).toEqual([
      { parameter: 'format', detail: 'must be one of json, text, pcap' },
      { parameter: 'colour', detail: 'is not a known field' },
    ]);

    const body = await exports.default.fetch(`${EDGE}/api/v1/users/olga`, { method: 'PUT', headers: operatorHeaders(), body: JSON.stringify({ password: 'long enough', displayName: 7 }) });
    expect(body.status).toBe(400);
    expect(((await body.json()) as { errors: { pointer: string }[] }).errors.map((error) => error.pointer)).toEqual(['#/displayName']);
  });

  it('refuses a body sent as another content type with a 415 problem', async () => {
    const response = await exports.default.fetch(`${EDGE}/api/v1/users/olga`, {
      method: 'PUT',
      headers: { ...operatorHeaders(), 'Content-Type': 'text/plain' },
      body: JSON.stringify({ password: 'long enough' }),
    });
    expect(response.status).toBe(415);
    expect(response.headers.get('Content-Type')).toBe('application/problem+json');
  });
});
