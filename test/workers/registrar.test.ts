import { env } from 'cloudflare:workers';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { beforeEach, describe, expect, it } from 'vitest';
import { answerChallenge } from '../../shared/auth/index.ts';
import { getHeader, getHeaders } from '../../shared/message/index.ts';
import type { SipUser } from '../../workers/user/sip-user.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { Device, contactExpires } from './support/register-client.ts';
import { openSipSocket } from './support/sip-socket.ts';
import { createUser, userStub } from './support/users.ts';

const PASSWORD = 'correct horse battery';

// Storage persists across the tests of a file, so every test registers a user of its own.
let serial = 0;
let alice = '';
async function freshAlice(): Promise<void> {
  serial += 1;
  alice = `alice${serial}`;
  await createUser(alice, PASSWORD);
}

async function useClock(username: string, clock: FakeClock): Promise<void> {
  await runInDurableObject(userStub(username), (instance: SipUser) => {
    instance.clock = clock;
  });
}

async function rowsWritten(username: string): Promise<number> {
  return runInDurableObject(userStub(username), (instance: SipUser) => instance.store.rowsWritten);
}

async function storedBindingCount(username: string): Promise<number> {
  return runInDurableObject(userStub(username), (_instance: SipUser, state) => {
    const exists = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'binding'").toArray().length > 0;
    return exists ? Number(state.storage.sql.exec('SELECT count(*) AS n FROM binding').one().n) : 0;
  });
}

describe('the registrar', () => {
  beforeEach(freshAlice);

  it('challenges a REGISTER without credentials, SHA-256 first then MD5 (RFC 8760), with qop=auth', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    const response = await device.send();
    expect(response.status).toBe(401);
    const challenges = getHeaders(response, 'WWW-Authenticate');
    expect(challenges).toHaveLength(2);
    expect(challenges[0]).toMatch(/algorithm=SHA-256/);
    expect(challenges[1]).toMatch(/algorithm=MD5/);
    expect(challenges[0]).toMatch(/realm="demo\.sipedge\.local"/);
    expect(challenges[0]).toMatch(/qop="auth"/);
    device.socket.close();
  });

  it('registers with MD5 digest, answering with the contact, its expires, Require: outbound and a Date', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD, algorithms: ['MD5'] });
    const response = await device.register({ expires: 600 });
    expect(response.status).toBe(200);
    expect(contactExpires(response).get(device.contactUri)).toBe(600);
    expect(getHeader(response, 'Contact')).toContain(`+sip.instance="${device.instance}"`);
    expect(getHeader(response, 'Require')).toBe('outbound');
    expect(getHeader(response, 'Date')).toMatch(/GMT$/);
    expect(getHeader(response, 'To')).toMatch(/;tag=/);
    device.socket.close();
  });

  it('registers with SHA-256 digest (RFC 8760)', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD, algorithms: ['SHA-256'] });
    expect((await device.register({ expires: 600 })).status).toBe(200);
    device.socket.close();
  });

  it('refuses a wrong password with a new challenge and stores nothing', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: 'wrong password' });
    expect((await device.register({ expires: 600 })).status).toBe(401);
    expect(await storedBindingCount(alice)).toBe(0);
    device.socket.close();
  });

  it('answers an unknown user exactly like a wrong password, and creates no storage for it', async () => {
    const device = new Device(await openSipSocket(), { user: 'mallory', password: PASSWORD });
    expect((await device.register({ expires: 600 })).status).toBe(401);
    const tables = await runInDurableObject(userStub('mallory'), (_instance: SipUser, state) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray());
    expect(tables.filter((row) => !String(row.name).startsWith('_cf'))).toEqual([]);
    device.socket.close();
  });

  it('refuses credentials of another user for this address-of-record', async () => {
    await createUser(`bob${serial}`, 'bobs password');
    const device = new Device(await openSipSocket(), { user: alice, password: 'bobs password', authUser: `bob${serial}` });
    // No aliases: 403 naming both, not a password prompt (401) for what is a configuration mistake.
    const response = await device.register({ expires: 600 });
    expect([response.status, response.reason]).toEqual([403, `bob${serial} may not act as alice${serial}`]);
    device.socket.close();
  });

  it('answers an interval below the minimum with 423 and Min-Expires', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    const response = await device.register({ expires: 10 });
    expect(response.status).toBe(423);
    expect(getHeader(response, 'Min-Expires')).toBe('60');
    device.socket.close();
  });

  it('shortens an interval above the maximum to 3600 seconds', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    const response = await device.register({ expires: 86_400 });
    expect(contactExpires(response).get(device.contactUri)).toBe(3600);
    device.socket.close();
  });

  it('keeps a contact per device, each on its own flow, and lists all of them', async () => {
    const phone = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    const laptop = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    const plain = new Device(await openSipSocket(), { user: alice, password: PASSWORD, instance: null });
    await phone.register({ expires: 600 });
    await laptop.register({ expires: 300 });
    const response = await plain.register({ expires: 120 });
    expect(response.status).toBe(200);
    const listed = contactExpires(response);
    expect(listed.get(phone.contactUri)).toBeGreaterThan(590);
    expect(listed.get(laptop.contactUri)).toBeGreaterThan(290);
    expect(listed.get(plain.contactUri)).toBe(120);
    // RFC 5626 §6: only a REGISTER that used outbound gets Require: outbound.
    expect(getHeader(response, 'Require')).toBeUndefined();
    const bindings = await userStub(alice).listBindings();
    expect(new Set(bindings.map((binding) => binding.flow.connectionId)).size).toBe(3);
    for (const device of [phone, laptop, plain]) device.socket.close();
  });

  it('answers a query REGISTER (no Contact) with the bindings, changing nothing', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    await device.register({ expires: 600 });
    const before = await rowsWritten(alice);
    const response = await device.query();
    expect(response.status).toBe(200);
    expect(contactExpires(response).has(device.contactUri)).toBe(true);
    expect(await rowsWritten(alice)).toBe(before);
    device.socket.close();
  });

  it('removes one binding with expires=0 and every binding with Contact: *', async () => {
    const phone = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    const laptop = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    const tablet = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    await phone.register({ expires: 600 });
    await laptop.register({ expires: 600 });
    await tablet.register({ expires: 600 });

    const afterOne = await phone.unregister();
    expect(afterOne.status).toBe(200);
    expect([...contactExpires(afterOne).keys()].sort()).toEqual([laptop.contactUri, tablet.contactUri].sort());

    const afterAll = await laptop.register({ contact: '*', expires: 0 });
    expect(afterAll.status).toBe(200);
    expect(getHeaders(afterAll, 'Contact')).toEqual([]);
    expect(await storedBindingCount(alice)).toBe(0);
    for (const device of [phone, laptop, tablet]) device.socket.close();
  });

  it('refuses Contact: * without Expires: 0 with 400', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    const response = await device.register({ contact: '*', expires: 600 });
    expect(response.status).toBe(400);
    device.socket.close();
  });

  it('refuses Path from a UA that does not support it with 420 (RFC 3327 §5.3)', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    await device.register({ expires: 600 });
    const response = await device.send({ expires: 600, supported: 'outbound', extraHeaders: ['Path: <sip:edge.example;lr>'] });
    expect(response.status).toBe(420);
    expect(getHeader(response, 'Unsupported')).toBe('path');
    device.socket.close();
  });

  it('stores and echoes Path for a UA that supports it', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    const response = await device.register({ expires: 600, extraHeaders: ['Path: <sip:edge.example;lr;ob>'] });
    expect(response.status).toBe(200);
    expect(getHeaders(response, 'Path')).toEqual(['<sip:edge.example;lr;ob>']);
    expect((await userStub(alice).listBindings())[0]?.path).toEqual(['<sip:edge.example;lr;ob>']);
    device.socket.close();
  });
});

describe('registrar storage and time', () => {
  beforeEach(freshAlice);

  it('writes no row for a refresh that changes nothing, reusing the nonce with a higher nc', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    expect((await device.register({ expires: 600 })).status).toBe(200);
    const before = await rowsWritten(alice);
    const refresh = await device.send({ expires: 600 });
    expect(refresh.status).toBe(200);
    expect(await rowsWritten(alice)).toBe(before);
    device.socket.close();
  });

  it('drops a binding at its exact expiry for SIP, even before the alarm', async () => {
    const clock = new FakeClock(Date.now());
    await useClock(alice, clock);
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    expect((await device.register({ expires: 60 })).status).toBe(200);
    clock.advance(61_000);
    const query = await device.query();
    expect(query.status).toBe(200);
    expect(contactExpires(query).size).toBe(0);
    // Seen expired, the row goes at once: an eviction now must not bring the binding back.
    expect(await storedBindingCount(alice)).toBe(0);
    device.socket.close();
  });

  it('removes an expired binding from storage with the alarm, which then disarms', async () => {
    const clock = new FakeClock(Date.now());
    await useClock(alice, clock);
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    expect((await device.register({ expires: 60 })).status).toBe(200);
    expect(await storedBindingCount(alice)).toBe(1);
    // The alarm rings at the stored bound, 12 intervals past the expiry.
    const alarm = await runInDurableObject(userStub(alice), (_instance: SipUser, state) => state.storage.getAlarm());
    expect(alarm).toBe(clock.now() + 60_000 + 12 * 60_000);

    clock.advance(13 * 60_000);
    expect(await runDurableObjectAlarm(userStub(alice))).toBe(true);
    expect(await storedBindingCount(alice)).toBe(0);
    expect(await runInDurableObject(userStub(alice), (_instance: SipUser, state) => state.storage.getAlarm())).toBeNull();
    device.socket.close();
  });

  it('rearms the alarm when it rings before anything is due', async () => {
    const clock = new FakeClock(Date.now());
    await useClock(alice, clock);
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    await device.register({ expires: 600 });
    const armed = await runInDurableObject(userStub(alice), (_instance: SipUser, state) => state.storage.getAlarm());
    expect(await runDurableObjectAlarm(userStub(alice))).toBe(true);
    expect(await userStub(alice).listBindings()).toHaveLength(1);
    expect(await runInDurableObject(userStub(alice), (_instance: SipUser, state) => state.storage.getAlarm())).toBe(armed);
    device.socket.close();
  });

  it('keeps the alarm for the other bindings when one expires', async () => {
    const clock = new FakeClock(Date.now());
    await useClock(alice, clock);
    const short = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    const long = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    await short.register({ expires: 60 });
    await long.register({ expires: 3600 });
    clock.advance(13 * 60_000 + 1000);
    expect(await runDurableObjectAlarm(userStub(alice))).toBe(true);
    const left = await userStub(alice).listBindings();
    expect(left.map((binding) => binding.contact)).toEqual([long.contact]);
    expect(await runInDurableObject(userStub(alice), (_instance: SipUser, state) => state.storage.getAlarm())).toBe(left[0]?.expiresBound);
    short.socket.close();
    long.socket.close();
  });

  it('loses no binding when the object is evicted, and a client with an old nonce gets a stale challenge', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    expect((await device.register({ expires: 600 })).status).toBe(200);
    await evictDurableObject(userStub(alice));

    const refresh = await device.send({ expires: 600 });
    expect(refresh.status).toBe(401);
    expect(getHeader(refresh, 'WWW-Authenticate')).toMatch(/stale=true/);
    const response = await device.send({ expires: 600 });
    expect(response.status).toBe(200);
    expect(contactExpires(response).get(device.contactUri)).toBe(600);
    expect(await userStub(alice).listBindings()).toHaveLength(1);
    device.socket.close();
  });

  it('answers a replayed REGISTER (same nonce and nc) with a stale challenge, so the phone retries without a password prompt', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    const challenge = await device.socket.request(device.requestText({ expires: 600 }));
    expect(challenge.status).toBe(401);
    const answer = answerChallenge({
      challenges: getHeaders(challenge, 'WWW-Authenticate'),
      account: { username: alice, password: PASSWORD },
      method: 'REGISTER',
      uri: `sip:${device.registrar}`,
      state: { counts: [] },
    });
    if (!answer.ok) throw new Error(answer.detail);
    expect((await device.socket.request(device.requestText({ expires: 600 }, answer.value))).status).toBe(200);

    // The same credentials again, as a phone resends a request its dropped socket never answered.
    const replayed = await device.socket.request(device.requestText({ expires: 300 }, answer.value));
    expect(replayed.status).toBe(401);
    expect(getHeader(replayed, 'WWW-Authenticate')).toMatch(/stale=true/);
    expect(contactExpires(await device.query()).get(device.contactUri)).toBe(600);
    // Not counted as a guess: the next registration goes straight through.
    expect((await device.register({ expires: 600 })).status).toBe(200);
    device.socket.close();
  });

  it('moves a binding to the new flow when a client reconnects and re-registers, in one round trip', async () => {
    const device = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    await device.register({ expires: 600 });
    const [before] = await userStub(alice).listBindings();
    device.socket.close();

    device.socket = await openSipSocket();
    const response = await device.send({ expires: 600 });
    expect(response.status).toBe(200);
    const after = await userStub(alice).listBindings();
    expect(after).toHaveLength(1);
    expect(after[0]?.key).toBe(before?.key);
    expect(after[0]?.flow.connectionId).not.toBe(before?.flow.connectionId);
    device.socket.close();
  });
});

describe('brute-force protection', () => {
  beforeEach(freshAlice);

  it('slows repeated failures with 503 and Retry-After, then locks out with 403, even across eviction', async () => {
    const clock = new FakeClock(Date.now());
    await useClock(alice, clock);
    const attacker = new Device(await openSipSocket(), { user: alice, password: 'guess' });
    await attacker.send();

    const statuses: number[] = [];
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const response = await attacker.send();
      statuses.push(response.status);
      if (response.status === 503) {
        const retryAfter = Number(getHeader(response, 'Retry-After'));
        expect(retryAfter).toBeGreaterThan(0);
        // A guess during the slow-down is not even checked.
        expect((await attacker.send()).status).toBe(503);
        clock.advance(retryAfter * 1000);
      }
    }
    expect(statuses).toEqual([401, 401, 401, 401, 503, 503, 503, 503, 503, 403]);

    const owner = new Device(await openSipSocket(), { user: alice, password: PASSWORD });
    const refused = await owner.register({ expires: 600 });
    expect(refused.status).toBe(403);
    expect(Number(getHeader(refused, 'Retry-After'))).toBeGreaterThan(800);

    await evictDurableObject(userStub(alice));
    await useClock(alice, clock);
    expect((await owner.register({ expires: 600 })).status).toBe(403);

    clock.advance(15 * 60_000);
    expect((await owner.register({ expires: 600 })).status).toBe(200);
    attacker.socket.close();
    owner.socket.close();
  });
});
