/**
 * MESSAGE and INVITE to a GRUU (RFC 5627 §8.4.2): with two devices of one user registered, a
 * request to one device's public or temporary GRUU reaches that device only. A GRUU whose device
 * has no binding gets 480 and is not stored for the user's other devices; a message the device
 * refuses or leaves unanswered is not stored either. A message to the AOR still reaches both.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { getHeaders, type SipResponse } from '../../shared/message/index.ts';
import type { SipUser } from '../../workers/user/sip-user.ts';
import type { FakeClock } from '../support/fake-clock.ts';
import { fakeClockFor, freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { bodyText, Phone } from './support/phone.ts';
import { DOMAIN, userStub } from './support/users.ts';

async function storedCount(user: string): Promise<number> {
  return runInDurableObject(userStub(user), (_instance: SipUser, state) => {
    const exists = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'stored_message'").toArray().length > 0;
    return exists ? Number(state.storage.sql.exec('SELECT count(*) AS n FROM stored_message').one().n) : 0;
  });
}

/** The pub-gruu and temp-gruu the registrar gave `phone`, read from the 200 OK of a refresh. */
async function gruusOf(phone: Phone): Promise<{ pub: string; temp: string }> {
  const response: SipResponse = await phone.device.register({ expires: 600 });
  const contact = getHeaders(response, 'Contact').find((value) => phone.device.instance !== undefined && value.includes(phone.device.instance)) ?? '';
  const pub = /;pub-gruu="([^"]+)"/.exec(contact)?.[1];
  const temp = /;temp-gruu="([^"]+)"/.exec(contact)?.[1];
  if (pub === undefined || temp === undefined) throw new Error(`no GRUUs for ${phone.user} in ${contact}`);
  return { pub, temp };
}

/**
 * A sender and a recipient with two registered devices, and the GRUUs of the first; with `clocked`,
 * the recipient's object runs on a fake clock (set before its devices register).
 */
async function twoDevices(clocked = false): Promise<{ recipient: string; sender: Phone; desk: Phone; mobile: Phone; pub: string; temp: string; clock?: FakeClock }> {
  const [alice, bob] = await freshUsers('gr-alice', 'gr-bob');
  const clock = clocked ? await fakeClockFor(bob!) : undefined;
  const sender = await Phone.online(alice!, PASSWORD);
  const desk = await Phone.online(bob!, PASSWORD);
  const mobile = await Phone.online(bob!, PASSWORD);
  return { recipient: bob!, sender, desk, mobile, ...(await gruusOf(desk)), ...(clock === undefined ? {} : { clock }) };
}

describe('requests to a GRUU', () => {
  it('a MESSAGE to a public or temporary GRUU reaches that device only', async () => {
    const { recipient, sender, desk, mobile, pub, temp } = await twoDevices();
    for (const gruu of [pub, temp]) {
      const answered = sender.message(gruu, `für ${gruu.slice(0, 12)}`);
      const received = await desk.expectRequest('MESSAGE');
      expect(bodyText(received)).toBe(`für ${gruu.slice(0, 12)}`);
      expect(received.uri).toBe(desk.device.contactUri);
      desk.respond(received, 200, { toTag: 'd' });
      expect((await answered).status).toBe(200);
      await mobile.expectSilence(500);
    }
    expect(await storedCount(recipient)).toBe(0);

    // The AOR still reaches both devices.
    const toAll = sender.message(recipient, 'an alle');
    desk.respond(await desk.expectRequest('MESSAGE'), 200, { toTag: 'd2' });
    mobile.respond(await mobile.expectRequest('MESSAGE'), 200, { toTag: 'm2' });
    expect((await toAll).status).toBe(200);
    for (const each of [sender, desk, mobile]) each.socket.close();
  });

  it('an INVITE to a public GRUU rings that device only', async () => {
    const { sender, desk, mobile, pub } = await twoDevices();
    await sender.call(pub);
    const incoming = await desk.incoming();
    await mobile.expectSilence(500);
    incoming.reject(486);
    expect((await sender.expectResponse()).status).toBe(486);
    await desk.expectRequest('ACK');
    for (const each of [sender, desk, mobile]) each.socket.close();
  });

  it('a GRUU without a registered device gets 480 and is not kept for the other devices', async () => {
    const { recipient, sender, desk, mobile, pub } = await twoDevices();
    // An instance the user never registered.
    const unknown = `sip:${recipient}@${DOMAIN};gr=urn:uuid:00000000-0000-4000-8000-000000000000`;
    expect((await sender.message(unknown, 'niemand')).status).toBe(480);
    // The device unregisters: its GRUU now reaches nobody.
    expect((await desk.device.register({ expires: 0 })).status).toBe(200);
    const gone = await sender.message(pub, 'zu spät');
    expect(gone.status).toBe(480);
    expect(gone.reason).toBe('Temporarily Unavailable');
    await mobile.expectSilence(500);
    expect(await storedCount(recipient)).toBe(0);
    // Nothing waits for the device's return either.
    expect((await desk.device.register({ expires: 600 })).status).toBe(200);
    await desk.expectSilence(500);
    for (const each of [sender, desk, mobile]) each.socket.close();
  });

  it('a temporary GRUU the edge did not issue gets 404', async () => {
    const { sender, desk, mobile } = await twoDevices();
    const forged = `sip:tgruu.${'A'.repeat(60)}@${DOMAIN};gr`;
    expect((await sender.message(forged, 'gefälscht')).status).toBe(404);
    await desk.expectSilence(300);
    await mobile.expectSilence(300);
    for (const each of [sender, desk, mobile]) each.socket.close();
  });

  it("the device's refusal reaches the sender, and a device that does not answer gets 480; neither is stored", async () => {
    const { recipient, sender, desk, mobile, pub, clock } = await twoDevices(true);
    const refused = sender.message(pub, 'nein');
    desk.respond(await desk.expectRequest('MESSAGE'), 488, { toTag: 'r' });
    const answer = await refused;
    expect([answer.status, answer.reason]).toEqual([488, 'Not Acceptable Here']);

    const unanswered = sender.message(pub, 'hallo?');
    await desk.expectRequest('MESSAGE');
    clock?.advance(8_000);
    expect(await runDurableObjectAlarm(userStub(recipient))).toBe(true);
    expect((await unanswered).status).toBe(480);
    await mobile.expectSilence(300);
    expect(await storedCount(recipient)).toBe(0);
    for (const each of [sender, desk, mobile]) each.socket.close();
  });
});
