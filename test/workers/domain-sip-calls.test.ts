/**
 * Calls and messages with a second domain (tenant) `b.example`, alias `sip.b.example`: local within
 * the domain, and never from one domain straight into another, which goes to the caller's own
 * domain's outbound routing as any foreign host does.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { getHeader } from '../../shared/message/index.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { ALIAS_B, createUserIn, DOMAIN_B, serveDomainB } from './support/domains.ts';
import { ANSWER_SDP, bodyText, OFFER_SDP, Phone } from './support/phone.ts';
import { Watch } from './support/watcher.ts';

/** The installation users' password text (the watcher answers challenges with it); the HA1s still differ, the realm being b.example. */
const PASSWORD_B = PASSWORD;

let serial = 0;
async function usersOfB(...names: string[]): Promise<string[]> {
  serial += 1;
  const created = names.map((name) => `${name}${serial}`);
  for (const name of created) await createUserIn(DOMAIN_B, name, PASSWORD_B);
  return created;
}

beforeAll(async () => {
  await serveDomainB();
});

describe('a call within the second domain', () => {
  it('rings the callee, is answered and hung up, with the edge naming the domain of both users', async () => {
    const [bob, carol] = await usersOfB('bob', 'carol');
    const caller = await Phone.online(bob!, PASSWORD_B, 600, DOMAIN_B);
    const callee = await Phone.online(carol!, PASSWORD_B, 600, DOMAIN_B);
    const call = await caller.call(carol!);
    const incoming = await callee.incoming();
    expect(bodyText(incoming.invite)).toBe(OFFER_SDP);
    expect(getHeader(incoming.invite, 'From')).toContain(`<sip:${bob}@${DOMAIN_B}>`);
    incoming.ring();
    expect((await call.response()).status).toBe(180);
    incoming.answer();
    const answered = await call.response();
    expect(answered.status).toBe(200);
    expect(bodyText(answered)).toBe(ANSWER_SDP);
    call.ack();
    await callee.expectRequest('ACK');
    call.request('BYE');
    const bye = await callee.expectRequest('BYE');
    callee.respond(bye, 200);
    expect((await caller.expectResponse()).status).toBe(200);
    caller.socket.close();
    callee.socket.close();
  });

  it('reaches a user of the domain named by its alias', async () => {
    const [bob, carol] = await usersOfB('bob', 'carol');
    const caller = await Phone.online(bob!, PASSWORD_B, 600, DOMAIN_B);
    const callee = await Phone.online(carol!, PASSWORD_B, 600, DOMAIN_B);
    const call = await caller.call(`sip:${carol}@${ALIAS_B}`);
    const incoming = await callee.incoming();
    incoming.reject(486);
    const busy = await call.response();
    expect(busy.status).toBe(486);
    call.ackFailure(busy);
    caller.socket.close();
    callee.socket.close();
  });
});

describe('a call or message from the installation domain to the second domain', () => {
  it("is not delivered to the second domain's user: it takes the caller's routing, as a foreign host does", async () => {
    const [alice] = await freshUsers('alice');
    const [carol] = await usersOfB('carol');
    const caller = await Phone.online(alice!, PASSWORD);
    const carolPhone = await Phone.online(carol!, PASSWORD_B, 600, DOMAIN_B);
    // What the edge answers a host it does not serve, with no PBX link to route to.
    const foreign = await caller.call(`sip:${carol}@elsewhere.example`);
    const unroutable = await foreign.response();
    expect(unroutable.status).toBeGreaterThanOrEqual(400);
    foreign.ackFailure(unroutable);
    const across = await caller.call(`sip:${carol}@${DOMAIN_B}`);
    const refused = await across.response();
    expect([refused.status, refused.reason]).toEqual([unroutable.status, unroutable.reason]);
    across.ackFailure(refused);
    const message = await caller.message(`sip:${carol}@${DOMAIN_B}`, 'hello across');
    expect(message.status).toBe(404);
    await carolPhone.expectSilence();
    caller.socket.close();
    carolPhone.socket.close();
  });

  it('does not reach a user of the installation domain from the second domain either', async () => {
    const [alice] = await freshUsers('alice');
    const [bob] = await usersOfB('bob');
    const alicePhone = await Phone.online(alice!, PASSWORD);
    const caller = await Phone.online(bob!, PASSWORD_B, 600, DOMAIN_B);
    const call = await caller.call(`sip:${alice}@demo.sipedge.local`);
    const refused = await call.response();
    expect(refused.status).toBeGreaterThanOrEqual(400);
    call.ackFailure(refused);
    await alicePhone.expectSilence();
    alicePhone.socket.close();
    caller.socket.close();
  });
});

describe('presence with the second domain', () => {
  it("lets a user watch another user of its domain, named by the domain's alias, and not a user of another domain", async () => {
    const [bob, carol] = await usersOfB('bob', 'carol');
    const [alice] = await freshUsers('alice');
    const watcher = await Phone.online(bob!, PASSWORD_B, 600, DOMAIN_B);
    const local = await new Watch(watcher, carol!, 'presence', ALIAS_B).subscribe();
    expect(local.response.status).toBe(200);
    expect(local.notify).toBeDefined();
    const across = await new Watch(watcher, alice!, 'presence', 'demo.sipedge.local').subscribe();
    expect(across.response.status).toBe(404);
    watcher.socket.close();
  });
});
