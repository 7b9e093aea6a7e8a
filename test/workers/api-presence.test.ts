/**
 * Presence through the API: read as watchers get it, set (watchers get a NOTIFY with the PIDF),
 * removed, by an operator or by the user's own token, and followed as server-sent events.
 */
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '../../shared/message/index.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { bodyText, Phone } from './support/phone.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders } from './support/users.ts';
import { Watch } from './support/watcher.ts';

interface Presence {
  username: string;
  basic: string;
  source: string;
  registered: boolean;
  onCall: boolean;
  pidf: string;
  until?: string;
}

function basicOf(notify: SipRequest): string | undefined {
  return /<basic>(open|closed)<\/basic>/.exec(bodyText(notify))?.[1];
}

async function call(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: init.headers ?? operatorHeaders(),
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

/** Reads server-sent events from `response` until `count` events arrived. */
async function readEvents(reader: ReadableStreamDefaultReader<Uint8Array>, count: number, pending: { text: string }): Promise<{ event: string; data: unknown }[]> {
  const events: { event: string; data: unknown }[] = [];
  const decoder = new TextDecoder();
  while (events.length < count) {
    const split = pending.text.indexOf('\n\n');
    if (split !== -1) {
      const block = pending.text.slice(0, split);
      pending.text = pending.text.slice(split + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (data !== undefined) events.push({ event, data: JSON.parse(data) });
      continue;
    }
    const { done, value } = await reader.read();
    if (done) throw new Error('the event stream ended');
    pending.text += decoder.decode(value, { stream: true });
  }
  return events;
}

describe('presence API', () => {
  it('reads presence as watchers get it: registration, then what the API sets, then registration again', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const before = (await (await call(`/users/${bob!}/presence`)).json()) as Presence;
    expect(before).toMatchObject({ username: bob!, basic: 'closed', source: 'registration', registered: false, onCall: false });

    const watcher = await Phone.online(alice!, PASSWORD);
    const watch = new Watch(watcher, bob!, 'presence');
    const { notify } = await watch.subscribe(600);
    watcher.respond(notify!, 200);
    expect(basicOf(notify!)).toBe('closed');

    const set = await call(`/users/${bob!}/presence`, { method: 'PUT', body: { status: 'open', note: 'In the office <3' } });
    expect(set.status).toBe(200);
    const now = (await set.json()) as Presence;
    expect(now).toMatchObject({ basic: 'open', source: 'api', registered: false });
    expect(now.pidf).toContain('<note>In the office &lt;3</note>');
    expect(Date.parse(now.until!)).toBeGreaterThan(Date.now() + 3_500_000);
    const told = await watch.notified();
    expect(basicOf(told)).toBe('open');
    expect(bodyText(told)).toContain('<note>In the office &lt;3</note>');

    expect((await call(`/users/${bob!}/presence`, { method: 'DELETE' })).status).toBe(204);
    expect(basicOf(await watch.notified())).toBe('closed');
    expect(((await (await call(`/users/${bob!}/presence`)).json()) as Presence).source).toBe('registration');
    watcher.socket.close();
  });

  it('lets a user set its own presence with its token, and no one else', async () => {
    const [carol, dave] = await freshUsers('carol', 'dave');
    const created = (await (await call('/tokens', { method: 'POST', body: { name: 'carol', username: carol! } })).json()) as { token: string };
    const headers = { Authorization: `Bearer ${created.token}`, 'Content-Type': 'application/json' };
    const put = await call('/me/presence', { method: 'PUT', headers, body: { status: 'open' } });
    expect(put.status).toBe(200);
    expect(((await (await call('/me/presence', { headers })).json()) as Presence)).toMatchObject({ username: carol!, basic: 'open', source: 'api' });
    expect((await call(`/users/${dave!}/presence`, { method: 'PUT', headers, body: { status: 'open' } })).status).toBe(403);
    expect((await call('/me/presence', { method: 'DELETE', headers })).status).toBe(204);
  });

  it('refuses bad input and unknown users with problems', async () => {
    const [erin] = await freshUsers('erin');
    const bad = await call(`/users/${erin!}/presence`, { method: 'PUT', body: { status: 'away', expires: 5 } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { pointer: string }[] }).errors.map((error) => error.pointer)).toEqual(['#/status', '#/expires']);
    expect((await call('/users/nobody-here/presence')).status).toBe(404);
    expect((await call('/presence/events?users=nobody-here')).status).toBe(404);
    const empty = await call('/presence/events?users=');
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { errors: { parameter: string }[] }).errors[0]?.parameter).toBe('users');
  });

  it('streams the presence of a set of users at once, then each change', async () => {
    const [frank, gina] = await freshUsers('frank', 'gina');
    const response = await call(`/presence/events?users=${frank!},${gina!}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const pending = { text: '' };
    const initial = await readEvents(reader, 2, pending);
    expect(initial.map((event) => [event.event, (event.data as Presence).username, (event.data as Presence).basic])).toEqual([
      ['presence', frank!, 'closed'],
      ['presence', gina!, 'closed'],
    ]);

    const phone = await Phone.online(gina!, PASSWORD);
    const [change] = await readEvents(reader, 1, pending);
    expect(change).toMatchObject({ event: 'presence', data: { username: gina!, basic: 'open', registered: true, source: 'registration' } });

    await call(`/users/${frank!}`, { method: 'DELETE' });
    const [gone] = await readEvents(reader, 1, pending);
    expect(gone).toEqual({ event: 'gone', data: { username: frank! } });
    await reader.cancel();
    phone.socket.close();
  });
});
