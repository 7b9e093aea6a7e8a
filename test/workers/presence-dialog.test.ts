/**
 * The `dialog` event package (RFC 4235), the busy-lamp field: a watcher of bob sees each of bob's
 * calls go trying, early, confirmed and terminated, from the B2BUA halves in bob's object.
 */
import { describe, expect, it } from 'vitest';
import { getHeader, type SipRequest } from '../../shared/message/index.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { bodyText, Phone } from './support/phone.ts';
import { Watch } from './support/watcher.ts';

function statesOf(notify: SipRequest): string[] {
  return [...bodyText(notify).matchAll(/<state>(\w+)<\/state>/g)].map((match) => match[1] ?? '');
}

describe('SUBSCRIBE to dialog (busy-lamp)', () => {
  it('reports trying, early, confirmed and terminated for a call to the watched user', async () => {
    const [alice, bob, carol] = await freshUsers('alice', 'bob', 'carol');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const watcher = await Phone.online(carol!, PASSWORD);
    const watch = new Watch(watcher, bob!, 'dialog');
    const { response, notify } = await watch.subscribe(600, ['Accept: application/dialog-info+xml']);
    expect(response.status).toBe(200);
    watcher.respond(notify!, 200);
    expect(getHeader(notify!, 'Content-Type')).toBe('application/dialog-info+xml');
    expect(bodyText(notify!)).toContain('version="0" state="full"');
    expect(statesOf(notify!)).toEqual([]);

    const call = await caller.call(bob!);
    const incoming = await callee.incoming();
    const trying = await watch.notified();
    expect(statesOf(trying)).toEqual(['trying']);
    expect(bodyText(trying)).toContain('direction="recipient"');
    expect(bodyText(trying)).toContain('version="1"');

    incoming.ring();
    expect((await call.response()).status).toBe(180);
    expect(statesOf(await watch.notified())).toEqual(['early']);

    incoming.answer();
    expect((await call.response()).status).toBe(200);
    call.ack();
    expect(statesOf(await watch.notified())).toEqual(['confirmed']);
    await callee.expectRequest('ACK');

    call.request('BYE');
    expect((await caller.expectResponse()).status).toBe(200);
    const bye = await callee.expectRequest('BYE');
    callee.respond(bye, 200);
    const ended = await watch.notified();
    expect(statesOf(ended)).toEqual(['terminated']);
    expect(bodyText(ended)).toContain(`<remote><identity>sip:${alice!}@`);
    for (const each of [caller, callee, watcher]) each.socket.close();
  });
});
