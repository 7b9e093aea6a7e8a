/**
 * Presence through the edge (RFC 6665 SUBSCRIBE/NOTIFY, RFC 3856 presence with PIDF, RFC 3903
 * PUBLISH): the watcher is challenged like a caller, the watched user's object keeps the
 * subscription, answers 200 with Expires, notifies at once and on every change, and ends the
 * subscription on unsubscribe, on expiry (its alarm), on a refused NOTIFY, and when the user goes.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { getHeader, type SipRequest } from '../../shared/message/index.ts';
import type { SipUser } from '../../workers/user/sip-user.ts';
import { fakeClockFor, freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { bodyText, Phone } from './support/phone.ts';
import { operatorHeaders, userStub } from './support/users.ts';
import { EDGE } from './support/sip-socket.ts';
import { pidf, publish, Watch } from './support/watcher.ts';
import { exports } from 'cloudflare:workers';

async function subscriptionCount(user: string): Promise<number> {
  return runInDurableObject(userStub(user), (instance: SipUser) => instance.core.presence.subscriptions().length);
}

function basicOf(notify: SipRequest): string | undefined {
  return /<basic>(open|closed)<\/basic>/.exec(bodyText(notify))?.[1];
}

describe('SUBSCRIBE to presence', () => {
  it('is challenged, answered 200 with Expires, and notified at once and whenever the user registers or leaves', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const watcher = await Phone.online(alice!, PASSWORD);
    const watch = new Watch(watcher, bob!, 'presence');
    const { response, notify } = await watch.subscribe(600);
    expect(response.status).toBe(200);
    expect(getHeader(response, 'Expires')).toBe('600');
    expect(notify).toBeDefined();
    watcher.respond(notify!, 200);
    expect(getHeader(notify!, 'Event')).toBe('presence');
    expect(getHeader(notify!, 'Content-Type')).toBe('application/pidf+xml');
    expect(getHeader(notify!, 'Subscription-State')).toMatch(/^active;expires=(600|599)$/);
    expect(basicOf(notify!)).toBe('closed');

    const phone = await Phone.online(bob!, PASSWORD);
    expect(basicOf(await watch.notified())).toBe('open');
    // A second device changes nothing: some device was already registered.
    const laptop = await Phone.online(bob!, PASSWORD);
    await watcher.expectSilence();
    expect((await laptop.device.unregister()).status).toBe(200);
    await watcher.expectSilence();
    expect((await phone.device.unregister()).status).toBe(200);
    expect(basicOf(await watch.notified())).toBe('closed');
    for (const each of [watcher, phone, laptop]) each.socket.close();
  });

  it('refreshes within the dialog, and unsubscribes with Expires: 0 (terminated;reason=timeout)', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const watcher = await Phone.online(alice!, PASSWORD);
    const watch = new Watch(watcher, bob!, 'presence');
    const first = await watch.subscribe(600);
    watcher.respond(first.notify!, 200);
    const refresh = await watch.subscribe(300);
    expect(refresh.response.status).toBe(200);
    expect(getHeader(refresh.response, 'Expires')).toBe('300');
    watcher.respond(refresh.notify!, 200);
    expect(getHeader(refresh.notify!, 'Subscription-State')).toMatch(/^active;expires=(300|299)$/);
    expect(Number(/^(\d+)/.exec(getHeader(refresh.notify!, 'CSeq') ?? '')?.[1])).toBe(Number(/^(\d+)/.exec(getHeader(first.notify!, 'CSeq') ?? '')?.[1]) + 1);
    expect(await subscriptionCount(bob!)).toBe(1);

    const gone = await watch.subscribe(0);
    expect(gone.response.status).toBe(200);
    watcher.respond(gone.notify!, 200);
    expect(getHeader(gone.notify!, 'Subscription-State')).toBe('terminated;reason=timeout');
    expect(await subscriptionCount(bob!)).toBe(0);
    // RFC 6665 §4.2.1.2: a refresh of what is gone is 481.
    expect((await watch.subscribe(600)).response.status).toBe(481);
    watcher.socket.close();
  });

  it('expires on the alarm with a NOTIFY terminated;reason=timeout', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const clock = await fakeClockFor(bob!);
    const watcher = await Phone.online(alice!, PASSWORD);
    const watch = new Watch(watcher, bob!, 'presence');
    watcher.respond((await watch.subscribe(60)).notify!, 200);
    clock.advance(30_000);
    expect(await runDurableObjectAlarm(userStub(bob!))).toBe(true);
    await watcher.expectSilence();
    clock.advance(31_000);
    expect(await runDurableObjectAlarm(userStub(bob!))).toBe(true);
    const last = await watch.notified();
    expect(getHeader(last, 'Subscription-State')).toBe('terminated;reason=timeout');
    expect(await subscriptionCount(bob!)).toBe(0);
    watcher.socket.close();
  });

  it('refuses unknown packages (489 with Allow-Events), too brief an Expires (423), unknown users (404)', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const watcher = await Phone.online(alice!, PASSWORD);
    const bad = await new Watch(watcher, bob!, 'conference').subscribe(600);
    expect(bad.response.status).toBe(489);
    expect(getHeader(bad.response, 'Allow-Events')).toBe('presence, dialog, message-summary');
    const brief = await new Watch(watcher, bob!, 'presence').subscribe(10);
    expect(brief.response.status).toBe(423);
    expect(getHeader(brief.response, 'Min-Expires')).toBe('60');
    expect((await new Watch(watcher, 'nobody-here', 'presence').subscribe(600)).response.status).toBe(404);
    watcher.socket.close();
  });

  it('answers message-summary (RFC 3842) for the user itself with "Messages-Waiting: no", and refuses it for another user (403)', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const phone = await Phone.online(alice!, PASSWORD);
    const own = await new Watch(phone, alice!, 'message-summary').subscribe(600);
    expect(own.response.status).toBe(200);
    expect(own.notify).toBeDefined();
    phone.respond(own.notify!, 200);
    expect(getHeader(own.notify!, 'Event')).toBe('message-summary');
    expect(getHeader(own.notify!, 'Content-Type')).toBe('application/simple-message-summary');
    expect(bodyText(own.notify!)).toMatch(/^Messages-Waiting: no\r\nMessage-Account: sip:alice\d+@[^\r]+\r\n$/);
    const other = await new Watch(phone, bob!, 'message-summary').subscribe(600);
    expect(other.response.status).toBe(403);
    phone.socket.close();
  });

  it('ends a subscription whose NOTIFY the device refuses with 481', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const watcher = await Phone.online(alice!, PASSWORD);
    const watch = new Watch(watcher, bob!, 'presence');
    watcher.respond((await watch.subscribe(600)).notify!, 481);
    await watcher.expectSilence();
    expect(await subscriptionCount(bob!)).toBe(0);
    watcher.socket.close();
  });

  it('tells every watcher noresource when the user is deleted', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const watcher = await Phone.online(alice!, PASSWORD);
    const watch = new Watch(watcher, bob!, 'presence');
    watcher.respond((await watch.subscribe(600)).notify!, 200);
    const deleted = await exports.default.fetch(`${EDGE}/api/v1/users/${bob!}`, { method: 'DELETE', headers: operatorHeaders() });
    expect(deleted.status).toBe(204);
    expect(getHeader(await watch.notified(), 'Subscription-State')).toBe('terminated;reason=noresource');
    watcher.socket.close();
  });
});

describe('PUBLISH (RFC 3903)', () => {
  it('sets the PIDF watchers get, refreshes and modifies by entity-tag, and falls back to registration when removed', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const watcher = await Phone.online(alice!, PASSWORD);
    const phone = await Phone.online(bob!, PASSWORD);
    const watch = new Watch(watcher, bob!, 'presence');
    watcher.respond((await watch.subscribe(600)).notify!, 200);

    const initial = await publish(phone, { body: pidf(bob!, 'open', 'in a meeting'), expires: 600 });
    expect(initial.status).toBe(200);
    const etag = getHeader(initial, 'SIP-ETag');
    expect(etag).toBeTruthy();
    expect(getHeader(initial, 'Expires')).toBe('600');
    expect(bodyText(await watch.notified())).toContain('in a meeting');

    const refreshed = await publish(phone, { etag: etag!, expires: 600 });
    expect(refreshed.status).toBe(200);
    const etag2 = getHeader(refreshed, 'SIP-ETag');
    expect(etag2).not.toBe(etag);
    await watcher.expectSilence();
    expect((await publish(phone, { etag: etag!, expires: 600 })).status).toBe(412);

    const modified = await publish(phone, { etag: etag2!, body: pidf(bob!, 'closed', 'gone fishing'), expires: 600 });
    expect(modified.status).toBe(200);
    expect(bodyText(await watch.notified())).toContain('gone fishing');

    expect((await publish(phone, { etag: getHeader(modified, 'SIP-ETag')!, expires: 0 })).status).toBe(200);
    const fallback = await watch.notified();
    expect(bodyText(fallback)).not.toContain('gone fishing');
    expect(basicOf(fallback)).toBe('open');
    watcher.socket.close();
    phone.socket.close();
  });

  it('refuses other packages (489), other users (403), brief Expires (423), and expires on the alarm', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const clock = await fakeClockFor(bob!);
    const phone = await Phone.online(bob!, PASSWORD);
    expect((await publish(phone, { body: pidf(bob!, 'open', 'x'), event: 'dialog' })).status).toBe(489);
    expect((await publish(phone, { body: pidf(bob!, 'open', 'x'), expires: 5 })).status).toBe(423);
    const watcher = await Phone.online(alice!, PASSWORD);
    const watch = new Watch(watcher, bob!, 'presence');
    watcher.respond((await watch.subscribe(3600)).notify!, 200);
    expect((await publish(phone, { body: pidf(bob!, 'open', 'briefly'), expires: 60 })).status).toBe(200);
    expect(bodyText(await watch.notified())).toContain('briefly');
    clock.advance(61_000);
    expect(await runDurableObjectAlarm(userStub(bob!))).toBe(true);
    const after = await watch.notified();
    expect(bodyText(after)).not.toContain('briefly');
    expect(basicOf(after)).toBe('open');
    watcher.socket.close();
    phone.socket.close();
  });
});
