/**
 * The registrar of a second domain (tenant) `b.example`, alias `sip.b.example`, beside the
 * installation's `demo.sipedge.local`: through the shared `/sip` and the per-user URL, with the
 * domain's own realm, users and trace retention.
 */
import { exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { getHeader, getHeaders } from '../../shared/message/index.ts';
import type { SipUser } from '../../workers/user/sip-user.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { ALIAS_B, createUserIn, DOMAIN_B, serveDomainB, userStubIn } from './support/domains.ts';
import { Device } from './support/register-client.ts';
import { EDGE, openSipSocket, SipSocket } from './support/sip-socket.ts';
import { createUser, DOMAIN, userStub } from './support/users.ts';

const PASSWORD_A = 'password of domain a';
const PASSWORD_B = 'password of domain b';

let serial = 0;
function fresh(name: string): string {
  serial += 1;
  return `${name}${serial}`;
}

async function openUserSocket(segment: string): Promise<SipSocket> {
  const response = await exports.default.fetch(`${EDGE}/sip/${segment}`, { headers: { Upgrade: 'websocket', 'Sec-WebSocket-Protocol': 'sip' } });
  const ws = response.webSocket;
  if (response.status !== 101 || ws === null) throw new Error(`/sip/${segment} answered ${response.status}, not 101`);
  ws.accept();
  return new SipSocket(ws);
}

beforeAll(async () => {
  await serveDomainB({ traceHours: 1 });
});

describe('a user of a second domain', () => {
  it('registers through the shared /sip, challenged with the realm of its own domain', async () => {
    const bob = fresh('bob');
    await createUserIn(DOMAIN_B, bob, PASSWORD_B);
    const device = new Device(await openSipSocket(), { user: bob, password: PASSWORD_B, domain: DOMAIN_B });
    const challenge = await device.send({ expires: 600 });
    expect(challenge.status).toBe(401);
    for (const value of getHeaders(challenge, 'WWW-Authenticate')) expect(value).toMatch(/realm="b\.example"/);
    const response = await device.register({ expires: 600 });
    expect(response.status).toBe(200);
    expect(getHeader(response, 'Require')).toBe('outbound');
    expect(await userStubIn(DOMAIN_B, bob).listBindings()).toHaveLength(1);
    device.socket.close();
  });

  it('registers by the domain alias (To and Request-URI), bound to the one user of the domain', async () => {
    const bob = fresh('bob');
    await createUserIn(DOMAIN_B, bob, PASSWORD_B);
    const device = new Device(await openSipSocket(), { user: bob, password: PASSWORD_B, domain: ALIAS_B });
    const response = await device.register({ expires: 600 });
    expect(response.status).toBe(200);
    expect(await userStubIn(DOMAIN_B, bob).listBindings()).toHaveLength(1);
    // The Request-URI may also name the alias while To names the domain, or the WebSocket host.
    for (const registrar of [ALIAS_B, 'edge.test']) {
      const other = new Device(await openSipSocket(), { user: bob, password: PASSWORD_B, domain: DOMAIN_B, registrar });
      expect((await other.register({ expires: 600 })).status).toBe(200);
      other.socket.close();
    }
    expect(await userStubIn(DOMAIN_B, bob).listBindings()).toHaveLength(3);
    device.socket.close();
  });

  it('is refused with 404 when its Request-URI names another served domain', async () => {
    const bob = fresh('bob');
    await createUserIn(DOMAIN_B, bob, PASSWORD_B);
    const device = new Device(await openSipSocket(), { user: bob, password: PASSWORD_B, domain: DOMAIN_B, registrar: DOMAIN });
    const response = await device.register({ expires: 600 });
    expect(response.status).toBe(404);
    expect(await userStubIn(DOMAIN_B, bob).listBindings()).toHaveLength(0);
    device.socket.close();
  });

  it('registers on the per-user URL /sip/<user>@<domain>, by the domain or its alias, percent-encoded or not', async () => {
    const bob = fresh('bob');
    await createUserIn(DOMAIN_B, bob, PASSWORD_B);
    const sockets: SipSocket[] = [];
    for (const segment of [`${bob}@${DOMAIN_B}`, `${bob}%40${ALIAS_B}`]) {
      const socket = await openUserSocket(segment);
      sockets.push(socket);
      const device = new Device(socket, { user: bob, password: PASSWORD_B, domain: DOMAIN_B });
      expect((await device.register({ expires: 600 })).status).toBe(200);
    }
    // Both sockets landed in the user's own object.
    const held = await runInDurableObject(userStubIn(DOMAIN_B, bob), (_instance: SipUser, state) => state.getWebSockets().length);
    expect(held).toBe(2);
    for (const socket of sockets) socket.close();
  });
});

describe('domains apart', () => {
  it('answers a REGISTER for a domain this edge does not serve with 404 and a reason', async () => {
    const device = new Device(await openSipSocket(), { user: 'zoe', password: PASSWORD_B, domain: 'c.example' });
    const response = await device.register({ expires: 600 });
    expect(response.status).toBe(404);
    expect(response.reason).toBe('Domain Not Served Here');
    device.socket.close();
  });

  it('keeps the same username in two domains as two users, each with its own password', async () => {
    const dana = fresh('dana');
    await createUser(dana, PASSWORD_A);
    await createUserIn(DOMAIN_B, dana, PASSWORD_B);
    const register = async (domain: string, password: string): Promise<number> => {
      const device = new Device(await openSipSocket(), { user: dana, password, domain });
      const status = (await device.register({ expires: 600 })).status;
      device.socket.close();
      return status;
    };
    expect(await register(DOMAIN, PASSWORD_B)).toBe(401);
    expect(await register(DOMAIN_B, PASSWORD_A)).toBe(401);
    expect(await register(DOMAIN, PASSWORD_A)).toBe(200);
    expect(await userStub(dana).listBindings()).toHaveLength(1);
    expect(await userStubIn(DOMAIN_B, dana).listBindings()).toHaveLength(0);
    expect(await register(DOMAIN_B, PASSWORD_B)).toBe(200);
    expect(await userStubIn(DOMAIN_B, dana).listBindings()).toHaveLength(1);
  });

  it("keeps a user's SIP trace as long as its domain's retention says (b.example: 1 hour, the installation: 24)", async () => {
    const erin = fresh('erin');
    await createUser(erin, PASSWORD_A);
    await createUserIn(DOMAIN_B, erin, PASSWORD_B);
    const clock = new FakeClock(Date.now());
    for (const stub of [userStub(erin), userStubIn(DOMAIN_B, erin)]) {
      await runInDurableObject(stub, (instance: SipUser) => {
        instance.clock = clock;
      });
    }
    for (const [domain, password] of [[DOMAIN, PASSWORD_A], [DOMAIN_B, PASSWORD_B]] as const) {
      const device = new Device(await openSipSocket(), { user: erin, password, domain });
      expect((await device.register({ expires: 600 })).status).toBe(200);
      device.socket.close();
    }
    expect((await userStubIn(DOMAIN_B, erin).readTrace()).length).toBeGreaterThan(0);
    clock.advance(2 * 3_600_000);
    expect(await userStubIn(DOMAIN_B, erin).readTrace()).toEqual([]);
    expect((await userStub(erin).readTrace()).length).toBeGreaterThan(0);
  });
});
