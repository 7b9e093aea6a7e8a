import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../support/fake-clock.ts';
import { FakePbx } from './support/fake-pbx.ts';
import { deleteLink, getLink, install, linkView, putLink, type ProblemBody } from './support/pbx-links.ts';
import { EDGE } from './support/sip-socket.ts';

// Storage persists across the tests of a file, so every test uses links of its own. Each link gets
// a fake PBX and a clock far in the future, so that no real alarm rings and no real socket opens.
let serial = 0;
async function freshLink(): Promise<{ id: string; pbx: FakePbx }> {
  serial += 1;
  const id = `api-link-${serial}`;
  const pbx = new FakePbx();
  await install(id, pbx, new FakeClock(Date.UTC(2100, 0, 1)));
  return { id, pbx };
}

const MINIMAL = { host: 'pbx.example.com', transport: 'tcp', username: 'alice', password: 'pbx secret' };

async function problem(response: Response): Promise<ProblemBody> {
  expect(response.headers.get('Content-Type')).toBe('application/problem+json');
  return (await response.json()) as ProblemBody;
}

describe('/api/v1/pbx-links', () => {
  it('needs the operator token', async () => {
    const response = await exports.default.fetch(`${EDGE}/api/v1/pbx-links/any`, { method: 'PUT', body: JSON.stringify(MINIMAL) });
    expect(response.status).toBe(401);
  });

  it('creates a link with Asterisk\'s defaults, and never shows the password', async () => {
    const { id } = await freshLink();
    const response = await putLink(id, MINIMAL);
    expect(response.status).toBe(201);
    expect(response.headers.get('Location')).toBe(`/api/v1/pbx-links/${id}`);
    const view = (await response.json()) as Record<string, unknown>;
    expect(view).toMatchObject({
      id,
      host: 'pbx.example.com',
      port: 5060,
      transport: 'tcp',
      register: true,
      can_terminate: true,
      username: 'alice',
      password_set: true,
      client_uri: 'sip:alice@pbx.example.com',
      server_uri: 'sip:pbx.example.com',
      contact_user: 's',
      expiration: 3600,
      max_retries: 10,
      retry_interval: 60,
      forbidden_retry_interval: 0,
      fatal_retry_interval: 0,
      auth_rejection_permanent: true,
      max_random_initial_delay: 10,
      line: false,
      support_path: false,
      support_outbound: false,
    });
    expect(view).not.toHaveProperty('password');
    expect(JSON.stringify(view)).not.toContain('pbx secret');
    expect(view.registration).toMatchObject({ state: 'registering', retries: 0, connection: 'closed' });
  });

  it('defaults the port to 5061 over TLS and keeps what the operator sets', async () => {
    const { id } = await freshLink();
    const response = await putLink(id, {
      ...MINIMAL,
      transport: 'tls',
      client_uri: 'sip:+4930123@trunk.example.net',
      server_uri: 'sip:trunk.example.net',
      contact_user: 'inbound',
      contact_header_params: 'x-tenant=7',
      expiration: 600,
      line: true,
      endpoint: 'reception',
      user_agent: 'Office link',
      security_negotiation: 'no',
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({
      port: 5061,
      client_uri: 'sip:+4930123@trunk.example.net',
      contact_user: 'inbound',
      contact_header_params: ';x-tenant=7',
      expiration: 600,
      line: true,
      endpoint: 'reception',
      user_agent: 'Office link',
    });
  });

  it('replaces a link (200), keeping the password when it is left out and removing it when null', async () => {
    const { id } = await freshLink();
    await putLink(id, MINIMAL);
    const kept = await putLink(id, { host: 'pbx.example.com', transport: 'tcp', username: 'alice', expiration: 120 });
    expect(kept.status).toBe(200);
    expect(await kept.json()).toMatchObject({ password_set: true, expiration: 120 });
    const removed = await putLink(id, { ...MINIMAL, password: null });
    expect(await removed.json()).toMatchObject({ password_set: false });
  });

  it('names every invalid field', async () => {
    const { id } = await freshLink();
    const response = await putLink(id, {
      host: 'not a host',
      port: 70000,
      transport: 'sctp',
      expiration: 0,
      client_uri: 'http://example.com/',
      contact_header_params: '=;',
      type: 'registration',
    });
    expect(response.status).toBe(400);
    const body = await problem(response);
    const pointers = body.errors?.map((error) => error.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['#/host', '#/port', '#/transport', '#/expiration', '#/client_uri', '#/contact_header_params', '#/type']));
    expect(body.errors?.find((error) => error.pointer === '#/type')?.detail).toBe('is not a known field');
  });

  it('needs a username to register, unless client_uri is given', async () => {
    const { id } = await freshLink();
    const response = await putLink(id, { host: 'pbx.example.com', transport: 'tcp' });
    expect(response.status).toBe(400);
    expect((await problem(response)).errors).toEqual([{ pointer: '#/username', detail: 'is required to register, unless client_uri is given' }]);
    expect((await putLink(id, { host: 'pbx.example.com', transport: 'tcp', client_uri: 'sip:100@pbx.example.com' })).status).toBe(201);
  });

  it('takes a WebSocket path for wss only', async () => {
    const { id } = await freshLink();
    const refused = await putLink(id, { ...MINIMAL, ws_path: '/ws' });
    expect(refused.status).toBe(400);
    expect((await problem(refused)).errors).toEqual([{ pointer: '#/ws_path', detail: 'is for transport wss only' }]);
    const created = await putLink(id, { ...MINIMAL, transport: 'wss', ws_path: '/ws', register: false });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ transport: 'wss', port: 443, ws_path: '/ws' });
  });

  it('takes udp (through a media node) and wss, each with its default port', async () => {
    for (const [transport, port] of [['udp', 5060], ['wss', 443]] as const) {
      const { id } = await freshLink();
      const response = await putLink(id, { ...MINIMAL, transport, register: false });
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ transport, port });
    }
  });

  it('refuses Asterisk options it does not implement, saying what to do instead', async () => {
    const { id } = await freshLink();
    const response = await putLink(id, { ...MINIMAL, security_negotiation: 'mediasec', security_mechanisms: 'msrp-tls', outbound_auth: 'trunk-auth' });
    expect(response.status).toBe(422);
    const body = await problem(response);
    expect(body.errors?.map((error) => error.pointer)).toEqual(['#/security_negotiation', '#/security_mechanisms', '#/outbound_auth']);
    expect(body.errors?.[0]?.detail).toContain('mediasec');
    expect(body.errors?.[0]?.detail).toContain('not implemented');
    expect(body.errors?.[2]?.detail).toContain('username, password and');
  });

  it('shows a link that does not register as unregistered, without connecting', async () => {
    const { id, pbx } = await freshLink();
    await putLink(id, { ...MINIMAL, register: false });
    expect((await linkView(id)).registration).toMatchObject({ state: 'unregistered' });
    expect(pbx.connections).toHaveLength(0);
  });

  it('deletes a link (204), then knows it no more (404)', async () => {
    const { id } = await freshLink();
    await putLink(id, MINIMAL);
    expect((await deleteLink(id)).status).toBe(204);
    expect((await getLink(id)).status).toBe(404);
    expect((await deleteLink(id)).status).toBe(404);
  });

  it('refuses an invalid link id as a path parameter', async () => {
    const response = await putLink('-bad', MINIMAL);
    expect(response.status).toBe(400);
    expect((await problem(response)).errors?.[0]?.parameter).toBe('id');
  });
});
