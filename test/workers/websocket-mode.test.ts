/**
 * WebSocket registration mode in the Worker: the users API checks `registration_mode` against `pbx`
 * (problem JSON naming the field), a relayed user's socket is closed when its PBX cannot be
 * reached, and users in proxy mode (the default) register at the edge exactly as before.
 * The relay itself, with a real PBX, is tested in `test/pbx/websocket-registration.test.ts`.
 */
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { deleteLink, putLink, type ProblemBody } from './support/pbx-links.ts';
import { Phone } from './support/phone.ts';
import { EDGE, openSipSocket, type SipSocket } from './support/sip-socket.ts';
import { DOMAIN, operatorHeaders } from './support/users.ts';

let serial = 0;

function putUser(username: string, body: unknown): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1/users/${encodeURIComponent(username)}`, { method: 'PUT', headers: operatorHeaders(), body: JSON.stringify(body) });
}

async function getUser(username: string): Promise<Record<string, unknown>> {
  const response = await exports.default.fetch(`${EDGE}/api/v1/users/${encodeURIComponent(username)}`, { headers: operatorHeaders() });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

async function refusal(response: Response): Promise<{ status: number; pointers: (string | undefined)[]; detail: string }> {
  const body = (await response.json()) as ProblemBody;
  return { status: response.status, pointers: (body.errors ?? []).map((error) => error.pointer), detail: body.detail };
}

/** Two links of the test: one over SIP over WebSocket (to a port where nothing listens), one over TCP. */
async function links(): Promise<{ wss: string; tcp: string }> {
  serial += 1;
  const wss = `relay-wss-${serial}`;
  const tcp = `relay-tcp-${serial}`;
  expect((await putLink(wss, { host: '127.0.0.1', port: 9, transport: 'wss', register: false })).status).toBe(201);
  expect((await putLink(tcp, { host: 'pbx.example', transport: 'tcp', register: false })).status).toBe(201);
  return { wss, tcp };
}

/** A REGISTER as a browser in WebSocket mode sends it: its AOR in the PBX's domain. */
function foreignRegister(user: string, host: string): string {
  const tag = Math.random().toString(36).slice(2, 10);
  return [
    `REGISTER sip:${host} SIP/2.0`,
    `Via: SIP/2.0/WSS ${tag}.invalid;branch=z9hG4bK${tag}`,
    'Max-Forwards: 70',
    `To: <sip:${user}@${host}>`,
    `From: <sip:${user}@${host}>;tag=${tag}`,
    `Call-ID: ${tag}`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:${tag}@${tag}.invalid;transport=ws>`,
    'Expires: 600',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function closedBy(socket: SipSocket, timeoutMs: number): Promise<{ code: number; reason: string }> {
  const deadline = Date.now() + timeoutMs;
  while (socket.closed === undefined) {
    if (Date.now() > deadline) throw new Error(`the socket stayed open for ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return socket.closed;
}

describe('registration_mode in the users API', () => {
  it('takes websocket with a wss link and no PBX password, shows it, and goes back to proxy', async () => {
    const { wss, tcp } = await links();
    const [user] = await freshUsers('relayed');
    const put = await putUser(user!, { password: PASSWORD, registration_mode: 'websocket', pbx: { link: wss, username: '2001' } });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(await put.json()).toMatchObject({ registration_mode: 'websocket', pbx: { link: wss, username: '2001' } });
    expect(await getUser(user!)).toMatchObject({ registration_mode: 'websocket', pbx: { link: wss, username: '2001' } });
    // No proxy registration exists for a relayed user.
    const registration = await exports.default.fetch(`${EDGE}/api/v1/users/${user!}/pbx-registration`, { headers: operatorHeaders() });
    expect(registration.status).toBe(404);

    expect((await putUser(user!, { password: PASSWORD })).status).toBe(200);
    const back = await getUser(user!);
    expect(back.registration_mode).toBeUndefined();
    expect(back.pbx).toBeUndefined();
    await deleteLink(wss);
    await deleteLink(tcp);
  });

  it('refuses websocket mode without a pbx, with a link that is not wss or does not exist, or with a PBX password, naming the field', async () => {
    const { wss, tcp } = await links();
    const [user] = await freshUsers('refused');
    const cases: [unknown, number, string, RegExp][] = [
      [{ password: PASSWORD, registration_mode: 'websocket' }, 400, '#/pbx', /required with registration_mode websocket/],
      [{ password: PASSWORD, registration_mode: 'websocket', pbx: { link: tcp, username: '2001' } }, 409, '#/pbx/link', /transport is tcp; registration_mode websocket needs a wss link/],
      [{ password: PASSWORD, registration_mode: 'websocket', pbx: { link: 'no-such-link', username: '2001' } }, 409, '#/pbx/link', /no such PBX link/],
      [{ password: PASSWORD, registration_mode: 'websocket', pbx: { link: wss, username: '2001', password: 'pbx secret' } }, 400, '#/pbx/password', /the browser authenticates to the PBX itself/],
      [{ password: PASSWORD, registration_mode: 'websocket', pbx: { link: wss, username: '2001', auth_id: 'a2001' } }, 400, '#/pbx/auth_id', /the browser authenticates to the PBX itself/],
      [{ password: PASSWORD, registration_mode: 'relay', pbx: { link: wss, username: '2001' } }, 400, '#/registration_mode', /./],
      // Proxy mode (the default) still needs the PBX password.
      [{ password: PASSWORD, pbx: { link: tcp, username: '2001' } }, 400, '#/pbx/password', /required/],
    ];
    for (const [body, status, pointer, detail] of cases) {
      const answer = await refusal(await putUser(user!, body));
      expect(answer, JSON.stringify(body)).toMatchObject({ status, pointers: [pointer] });
      expect(answer.detail).toMatch(detail);
    }
    // Nothing was written by the refusals.
    expect((await getUser(user!)).registration_mode).toBeUndefined();
    await deleteLink(wss);
    await deleteLink(tcp);
  });
});

describe('sockets of relayed and proxy-mode users', () => {
  it('closes a relayed user\'s socket when the PBX cannot be reached, on /sip and on /sip/<user>', async () => {
    const { wss, tcp } = await links();
    const [user] = await freshUsers('unreached');
    expect((await putUser(user!, { password: PASSWORD, registration_mode: 'websocket', pbx: { link: wss, username: user! } })).status).toBe(200);
    for (const path of ['/sip', `/sip/${user!}`]) {
      const socket = await openSipSocket({ path });
      socket.send(foreignRegister(user!, 'pbx.example'));
      const closed = await closedBy(socket, 20_000);
      expect(closed.code, path).toBe(1011);
      expect(closed.reason).toBe('the PBX cannot be reached');
    }
    await deleteLink(wss);
    await deleteLink(tcp);
  });

  it('leaves proxy-mode users to the edge: they register with edge credentials, and a REGISTER in another domain is refused as before', async () => {
    const [user] = await freshUsers('proxymode');
    const phone = await Phone.online(user!, PASSWORD);
    expect(phone.socket.closed).toBeUndefined();
    phone.socket.close();

    const socket = await openSipSocket();
    const refused = await socket.request(foreignRegister(user!, 'pbx.example'));
    expect(refused.status).toBe(404);
    expect(refused.reason).toBe('Domain Not Served Here');
    // The socket stays the edge's: the next REGISTER, in the edge's domain, is challenged by its registrar.
    const challenged = await socket.request(foreignRegister(user!, DOMAIN));
    expect(challenged.status).toBe(401);
    socket.close();
  });
});
