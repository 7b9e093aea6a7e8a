/**
 * Brute force from one source address across users (workers/registrar/address-guard.ts): wrong
 * passwords tried on many users from one IP slow that IP down (503 + Retry-After), then lock it
 * out (403 + Retry-After), both on open sockets and for new ones, while other addresses and the
 * users themselves are unaffected. The guard's numbers are shortened here (two failures slow, three
 * lock, one second of slow-down) so the test runs in seconds.
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { getHeader } from '../../shared/message/index.ts';
import { addressGuard, type AddressGuard } from '../../workers/registrar/address-guard-object.ts';
import { Device } from './support/register-client.ts';
import { openSipSocket, upgradeSipSocket } from './support/sip-socket.ts';
import { createUser } from './support/users.ts';

const PASSWORD = 'correct horse battery';
const ATTACKER = '203.0.113.7';
const NEIGHBOUR = '198.51.100.20';

async function shortenGuard(address: string): Promise<void> {
  await runInDurableObject(addressGuard(env, address), (instance: AddressGuard) => {
    instance.policy = { windowMs: 60_000, slowAfter: 2, lockAfter: 3, lockMs: 60_000, maxBackoffMs: 1000 };
  });
}

/** One wrong guess: the challenge, then the REGISTER with a wrong password; the answer to the guess. */
async function guess(device: Device): Promise<ReturnType<Device['send']>> {
  const challenge = await device.send({ expires: 600 });
  expect(challenge.status).toBe(401);
  return device.send({ expires: 600 });
}

describe('failed authentications from one address across users', () => {
  it('slow the address down, then lock it out, for open and new sockets alike; other addresses and the owners carry on', async () => {
    const users = ['ipvictim1', 'ipvictim2', 'ipvictim3', 'ipvictim4', 'ipvictim5'];
    for (const user of users) await createUser(user, PASSWORD);
    await shortenGuard(ATTACKER);

    const socket = await openSipSocket({ remoteAddress: ATTACKER });
    const [first, second, third, fourth] = users.map((user) => new Device(socket, { user, password: 'password1' }));
    if (first === undefined || second === undefined || third === undefined || fourth === undefined) throw new Error('four devices');

    // One wrong password for each of two users: each user's own guard has seen a single failure.
    expect((await guess(first)).status).toBe(401);
    const slowed = await guess(second);
    expect(slowed.status).toBe(503);
    expect(slowed.reason).toBe('Too Many Failed Authentications From This Address');
    const retryAfter = Number(getHeader(slowed, 'Retry-After'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);

    // While slowed: credentials for a third user are refused unchecked on the open socket, a new
    // socket from the address is refused, and a socket from elsewhere registers its owner.
    expect((await guess(third)).status).toBe(503);
    const upgrade = await upgradeSipSocket({ remoteAddress: ATTACKER });
    expect(upgrade.status).toBe(503);
    expect(Number(upgrade.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1);
    expect(((await upgrade.json()) as { title: string }).title).toBe('Too Many Failed Authentications From This Address');
    const neighbour = new Device(await openSipSocket({ remoteAddress: NEIGHBOUR }), { user: 'ipvictim5', password: PASSWORD });
    expect((await neighbour.register({ expires: 600 })).status).toBe(200);

    // After the slow-down, one more wrong password locks the address out.
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
    const locked = await guess(fourth);
    expect(locked.status).toBe(403);
    expect(Number(getHeader(locked, 'Retry-After'))).toBeGreaterThan(30);
    expect((await upgradeSipSocket({ remoteAddress: ATTACKER })).status).toBe(403);
    expect((await upgradeSipSocket({ remoteAddress: ATTACKER, path: '/sip/ipvictim1' })).status).toBe(403);

    // Even the right password is refused from there while locked; a REGISTER without credentials is still just challenged.
    const owner = new Device(socket, { user: 'ipvictim1', password: PASSWORD });
    expect((await owner.register({ expires: 600 })).status).toBe(403);
    expect((await neighbour.register({ expires: 600 })).status).toBe(200);
    socket.close();
    neighbour.socket.close();
  });

  it('counts failures on the per-user URL too', async () => {
    const address = '203.0.113.99';
    await createUser('ipvictim6', PASSWORD);
    await createUser('ipvictim7', PASSWORD);
    await shortenGuard(address);
    const one = new Device(await openSipSocket({ remoteAddress: address, path: '/sip/ipvictim6' }), { user: 'ipvictim6', password: 'nope-nope' });
    expect((await guess(one)).status).toBe(401);
    const two = new Device(await openSipSocket({ remoteAddress: address, path: '/sip/ipvictim7' }), { user: 'ipvictim7', password: 'nope-nope' });
    expect((await guess(two)).status).toBe(503);
    expect((await upgradeSipSocket({ remoteAddress: address, path: '/sip/ipvictim6' })).status).toBe(503);
    one.socket.close();
    two.socket.close();
  });
});
