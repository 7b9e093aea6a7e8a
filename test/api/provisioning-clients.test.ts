/**
 * A provisioning link opened by a new device, used as is by the real SIP.js and JsSIP packages:
 * each registers with nothing but the configuration the link handed out (workerd on 127.0.0.1,
 * the operator API over HTTP, the phones over WebSocket).
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

async function api(path: string, init: { method: string; body?: unknown }): Promise<Response> {
  return fetch(new URL(path, edge.url), {
    method: init.method,
    headers: { Authorization: `Bearer ${OPERATOR_TOKEN}`, 'Content-Type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

/** Creates `username`, provisions it with its password, and opens the link as a new device would. */
async function provisionedConfig(username: string): Promise<Config> {
  expect((await api(`/api/v1/users/${username}`, { method: 'PUT', body: { password: PASSWORD } })).status).toBe(201);
  const created = await api(`/api/v1/users/${username}/provisioning`, { method: 'POST', body: { password: PASSWORD } });
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

describe('a provisioned phone', () => {
  it('registers with SIP.js from the link configuration alone', async () => {
    const config = await provisionedConfig('prov-sipjs');
    expect(config.webSocketUrl).toBe(`ws://${edge.url.host}/sip/prov-sipjs`);
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
    expect(status).toBe(200);
    await ua.stop();
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
