/**
 * A provisioning link opened by a new device, used as is by the real SIP.js and JsSIP packages:
 * each registers with nothing but the configuration the link handed out (workerd on 127.0.0.1,
 * the operator API over HTTP, the phones over WebSocket); so does a phone of a tenant domain
 * created through the API, provisioned with that domain's own operator token.
 */
import { randomBytes } from 'node:crypto';
import * as JsSIP from 'jssip';
import { Registerer, UserAgent, type UserAgentOptions } from 'sip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type RunningEdge } from '../../workers/local/edge-runner.ts';

const OPERATOR_TOKEN = randomBytes(18).toString('base64url');
const PASSWORD = 'a provisioned password';

interface Config {
  webSocketUrl: string;
  sipjs: UserAgentOptions & { uri: string };
  jssip: { webSocketUrl: string; configuration: Record<string, unknown> & { uri: string } };
}

let edge: RunningEdge;

async function api(path: string, init: { method: string; body?: unknown; token?: string }): Promise<Response> {
  return fetch(new URL(path, edge.url), {
    method: init.method,
    headers: { Authorization: `Bearer ${init.token ?? OPERATOR_TOKEN}`, 'Content-Type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

/** Creates `username` (with the domain token `token`, if given), provisions it with its password, and opens the link as a new device would. */
async function provisionedConfig(username: string, token?: string): Promise<Config> {
  const as = token === undefined ? {} : { token };
  expect((await api(`/api/v1/users/${username}`, { method: 'PUT', body: { password: PASSWORD }, ...as })).status).toBe(201);
  const created = await api(`/api/v1/users/${username}/provisioning`, { method: 'POST', body: { password: PASSWORD }, ...as });
  expect(created.status).toBe(201);
  const { link } = (await created.json()) as { link: { url: string } };
  const opened = await fetch(link.url);
  expect(opened.status).toBe(200);
  expect((await fetch(link.url)).status).toBe(410);
  return (await opened.json()) as Config;
}

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

beforeAll(async () => {
  edge = await startEdge({
    port: 0,
    vars: { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: OPERATOR_TOKEN, SIPEDGE_MEDIA_SECRET: randomBytes(32).toString('base64url') },
  });
});

afterAll(async () => {
  await edge?.stop();
});

/** Registers a SIP.js phone with the configuration as is; the final status of its REGISTER. */
async function registerSipJs(config: Config): Promise<number> {
  const uri = UserAgent.makeURI(config.sipjs.uri);
  if (uri === undefined) throw new Error(`not a SIP URI: ${config.sipjs.uri}`);
  const ua = new UserAgent({ ...config.sipjs, uri, logLevel: 'error', logBuiltinEnabled: false });
  await ua.start();
  const registerer = new Registerer(ua, { expires: 300 });
  const status = await within(
    10_000,
    'SIP.js REGISTER',
    new Promise<number>((resolve) => {
      void registerer.register({
        requestDelegate: {
          onAccept: (response) => resolve(response.message.statusCode ?? 0),
          onReject: (response) => resolve(response.message.statusCode ?? 0),
        },
      });
    }),
  );
  await ua.stop();
  return status;
}

describe('a provisioned phone', () => {
  it('registers with SIP.js from the link configuration alone', async () => {
    const config = await provisionedConfig('prov-sipjs');
    expect(config.webSocketUrl).toBe(`ws://${edge.url.host}/sip/prov-sipjs`);
    expect(await registerSipJs(config)).toBe(200);
  });

  it("of a tenant domain registers with SIP.js in that domain, provisioned with the domain's own token", async () => {
    const created = await api('/api/v1/domains', { method: 'POST', body: { name: 'tenant.example.com' } });
    expect(created.status).toBe(201);
    const { operator_token: operator } = (await created.json()) as { operator_token: { token: string } };
    const config = await provisionedConfig('prov-tenant', operator.token);
    expect(config.sipjs.uri).toBe('sip:prov-tenant@tenant.example.com');
    expect(config.webSocketUrl).toBe(`ws://${edge.url.host}/sip/prov-tenant@tenant.example.com`);
    expect(await registerSipJs(config)).toBe(200);
    // The REGISTER is in the tenant's user's log, which the installation token does not see.
    const log = await api('/api/v1/users/prov-tenant/registrations/log', { method: 'GET', token: operator.token });
    expect(((await log.json()) as { entries: { status?: number }[] }).entries.map((entry) => entry.status)).toContain(200);
    expect((await api('/api/v1/users/prov-tenant/registrations/log', { method: 'GET' })).status).toBe(404);
  });

  it('registers with JsSIP from the link configuration alone', async () => {
    const config = await provisionedConfig('prov-jssip');
    JsSIP.debug.disable();
    const ua = new JsSIP.UA({ ...config.jssip.configuration, sockets: [new JsSIP.WebSocketInterface(config.jssip.webSocketUrl)] } as ConstructorParameters<typeof JsSIP.UA>[0]);
    const status = await within(
      10_000,
      'JsSIP REGISTER',
      new Promise<number>((resolve) => {
        ua.on('registered', (event) => resolve(event.response.status_code));
        ua.on('registrationFailed', (event) => resolve(event.response?.status_code ?? 0));
        ua.start();
      }),
    );
    expect(status).toBe(200);
    ua.stop();
  });
});
