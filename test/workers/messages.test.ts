/**
 * MESSAGE (RFC 3428) between users through the edge: challenged like a call, delivered to every
 * registered device (200 from the first), stored when nobody takes it (202) and delivered when the
 * recipient next registers. Bodies are UTF-8 and arrive byte for byte.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { getHeader } from '../../shared/message/index.ts';
import type { SipUser } from '../../workers/user/sip-user.ts';
import { fakeClockFor, freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { bodyText, Phone } from './support/phone.ts';
import { DOMAIN, userStub } from './support/users.ts';

const GREETING = 'Grüße aus Köln 👋 — ça va ? 你好';

async function storedCount(user: string): Promise<number> {
  return runInDurableObject(userStub(user), (_instance: SipUser, state) => {
    const exists = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'stored_message'").toArray().length > 0;
    return exists ? Number(state.storage.sql.exec('SELECT count(*) AS n FROM stored_message').one().n) : 0;
  });
}

describe('MESSAGE between users', () => {
  it('is challenged with 407, then delivered to every device with its UTF-8 body; 200 comes from the first', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const sender = await Phone.online(alice!, PASSWORD);
    const phone = await Phone.online(bob!, PASSWORD);
    const laptop = await Phone.online(bob!, PASSWORD);

    const answered = sender.message(bob!, GREETING);
    const onPhone = await phone.expectRequest('MESSAGE');
    const onLaptop = await laptop.expectRequest('MESSAGE');
    expect(bodyText(onPhone)).toBe(GREETING);
    expect(bodyText(onLaptop)).toBe(GREETING);
    expect(getHeader(onPhone, 'Content-Type')).toBe('text/plain;charset=UTF-8');
    expect(getHeader(onPhone, 'From')).toMatch(new RegExp(`^<sip:${alice}@${DOMAIN}>;tag=`));
    expect(onPhone.uri).toBe(phone.device.contactUri);
    phone.respond(onPhone, 200, { toTag: 'p1' });
    expect((await answered).status).toBe(200);
    laptop.respond(onLaptop, 200, { toTag: 'l1' });
    expect(await storedCount(bob!)).toBe(0);
    for (const each of [sender, phone, laptop]) each.socket.close();
  });

  it('goes both ways', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const first = await Phone.online(alice!, PASSWORD);
    const second = await Phone.online(bob!, PASSWORD);
    const there = first.message(bob!, 'hin');
    second.respond(await second.expectRequest('MESSAGE'), 200, { toTag: 'x' });
    expect((await there).status).toBe(200);
    const back = second.message(alice!, 'zurück ✓');
    const received = await first.expectRequest('MESSAGE');
    expect(bodyText(received)).toBe('zurück ✓');
    first.respond(received, 200, { toTag: 'y' });
    expect((await back).status).toBe(200);
    first.socket.close();
    second.socket.close();
  });

  it('answers 404 for a user that does not exist', async () => {
    const [alice] = await freshUsers('alice');
    const sender = await Phone.online(alice!, PASSWORD);
    expect((await sender.message('nobody-at-all', 'hello?')).status).toBe(404);
    sender.socket.close();
  });

  it('is stored with 202 when the user is offline, and delivered with its Date when a device registers', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const sender = await Phone.online(alice!, PASSWORD);
    expect((await sender.message(bob!, GREETING)).status).toBe(202);
    expect((await sender.message(bob!, 'second')).status).toBe(202);
    expect(await storedCount(bob!)).toBe(2);

    const phone = await Phone.online(bob!, PASSWORD);
    const first = await phone.expectRequest('MESSAGE');
    const second = await phone.expectRequest('MESSAGE');
    expect([bodyText(first), bodyText(second)]).toEqual([GREETING, 'second']);
    expect(getHeader(first, 'Date')).toMatch(/GMT$/);
    phone.respond(first, 200, { toTag: 'a' });
    phone.respond(second, 200, { toTag: 'b' });
    await phone.expectSilence();
    expect(await storedCount(bob!)).toBe(0);

    // Delivered means gone: the next refresh brings nothing.
    expect((await phone.device.register({ expires: 600 })).status).toBe(200);
    await phone.expectSilence();
    sender.socket.close();
    phone.socket.close();
  });

  it('answers 202 when no device takes it in time (the alarm), and delivers it at the next registration', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const clock = await fakeClockFor(bob!);
    const sender = await Phone.online(alice!, PASSWORD);
    const phone = await Phone.online(bob!, PASSWORD);
    const answered = sender.message(bob!, 'are you there?');
    await phone.expectRequest('MESSAGE');
    clock.advance(8_000);
    expect(await runDurableObjectAlarm(userStub(bob!))).toBe(true);
    expect((await answered).status).toBe(202);
    expect(await storedCount(bob!)).toBe(1);

    await phone.reconnect();
    const again = await phone.expectRequest('MESSAGE');
    expect(bodyText(again)).toBe('are you there?');
    phone.respond(again, 200, { toTag: 'late' });
    await phone.expectSilence();
    expect(await storedCount(bob!)).toBe(0);
    sender.socket.close();
    phone.socket.close();
  });
});
