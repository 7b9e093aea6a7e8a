/**
 * The presence event stream (`GET /api/v1/presence/events`) is pushed: each change of a followed
 * user's presence as the SIP side sees it (registration, a device's PUBLISH, the API, a call
 * starting and ending, unregistration) arrives as an event once it happens, through the domain's
 * PresenceHub; users not asked for stay out; a token of another domain follows that domain's users
 * only; the hub forgets a stream once its client goes.
 */
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { domainRegistry } from '../../workers/domains/domain-registry.ts';
import { forgetServedDomains } from '../../workers/domains/served-domains.ts';
import { presenceHub } from '../../workers/presence/presence-hub.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { Phone } from './support/phone.ts';
import { EDGE } from './support/sip-socket.ts';
import { DOMAIN, operatorHeaders } from './support/users.ts';
import { pidf, publish } from './support/watcher.ts';

const OTHER_DOMAIN = 'other-tenant.example';

interface StreamEvent {
  event: string;
  data: { username: string; basic?: string; source?: string; registered?: boolean; onCall?: boolean; pidf?: string };
}

async function call(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: init.headers ?? operatorHeaders(),
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

/** An open event stream, read one event at a time (comments skipped). */
class EventStream {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #pending = '';

  constructor(response: Response) {
    this.#reader = response.body!.getReader();
  }

  static async open(users: readonly string[]): Promise<EventStream> {
    const response = await call(`/presence/events?users=${users.join(',')}`);
    expect(response.status).toBe(200);
    return new EventStream(response);
  }

  /** The next event, skipping comments. */
  async next(): Promise<StreamEvent> {
    for (;;) {
      const block = await this.#block();
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (data !== undefined) return { event: /^event: (.*)$/m.exec(block)?.[1] ?? 'message', data: JSON.parse(data) as StreamEvent['data'] };
    }
  }

  /** The next comment (a line starting with ":"), skipping events. */
  async comment(): Promise<string> {
    for (;;) {
      const block = await this.#block();
      if (block.startsWith(':')) return block;
    }
  }

  async #block(): Promise<string> {
    for (;;) {
      const split = this.#pending.indexOf('\n\n');
      if (split !== -1) {
        const block = this.#pending.slice(0, split);
        this.#pending = this.#pending.slice(split + 2);
        return block;
      }
      const { done, value } = await this.#reader.read();
      if (done) throw new Error('the event stream ended');
      this.#pending += this.#decoder.decode(value, { stream: true });
    }
  }

  close(): Promise<void> {
    return this.#reader.cancel();
  }
}

function summary(event: StreamEvent): string {
  const { data } = event;
  return `${event.event} ${data.username} ${data.basic ?? '-'} ${data.source ?? '-'} registered=${String(data.registered)} onCall=${String(data.onCall)}`;
}

describe('presence event stream (pushed)', () => {
  it('gets each change as it happens: registration, PUBLISH, the API, a call starting and ending, unregistration', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const stream = await EventStream.open([bob!]);
    expect(summary(await stream.next())).toBe(`presence ${bob!} closed registration registered=false onCall=false`);

    const phone = await Phone.online(bob!, PASSWORD);
    expect(summary(await stream.next())).toBe(`presence ${bob!} open registration registered=true onCall=false`);
    // A registration refresh changes nothing the stream shows: the next event is the PUBLISH's.
    expect((await phone.device.register({ expires: 600 })).status).toBe(200);

    expect((await publish(phone, { body: pidf(bob!, 'closed', 'in a meeting'), expires: 600 })).status).toBe(200);
    expect(summary(await stream.next())).toBe(`presence ${bob!} closed device registered=true onCall=false`);

    expect((await call(`/users/${bob!}/presence`, { method: 'PUT', body: { status: 'open', note: 'back' } })).status).toBe(200);
    const set = await stream.next();
    expect(summary(set)).toBe(`presence ${bob!} open api registered=true onCall=false`);
    expect(set.data.pidf).toBeUndefined();

    const caller = await Phone.online(alice!, PASSWORD);
    const outgoing = await caller.call(bob!);
    const incoming = await phone.incoming();
    expect(summary(await stream.next())).toBe(`presence ${bob!} open api registered=true onCall=true`);
    incoming.ring();
    incoming.answer();
    expect(outgoing.track(await caller.expectResponse()).status).toBe(180);
    expect((await outgoing.response()).status).toBe(200);
    outgoing.ack();
    await phone.expectRequest('ACK');
    outgoing.request('BYE');
    phone.respond(await phone.expectRequest('BYE'), 200);
    expect(summary(await stream.next())).toBe(`presence ${bob!} open api registered=true onCall=false`);

    expect((await call(`/users/${bob!}/presence`, { method: 'DELETE' })).status).toBe(204);
    expect(summary(await stream.next())).toBe(`presence ${bob!} closed device registered=true onCall=false`);

    // The device's publication stays in force; only `registered` changes.
    expect((await phone.device.unregister()).status).toBe(200);
    expect(summary(await stream.next())).toBe(`presence ${bob!} closed device registered=false onCall=false`);

    await stream.close();
    phone.socket.close();
    caller.socket.close();
  });

  it('does not carry changes of users it did not ask for', async () => {
    const [carol, dave] = await freshUsers('carol', 'dave');
    const carolStream = await EventStream.open([carol!]);
    const daveStream = await EventStream.open([dave!]);
    await carolStream.next();
    await daveStream.next();
    // dave's change reaches dave's stream (the hub passed it on) before carol changes.
    expect((await call(`/users/${dave!}/presence`, { method: 'PUT', body: { status: 'open' } })).status).toBe(200);
    expect(summary(await daveStream.next())).toBe(`presence ${dave!} open api registered=false onCall=false`);
    expect((await call(`/users/${carol!}/presence`, { method: 'PUT', body: { status: 'closed', note: 'here' } })).status).toBe(200);
    expect(summary(await carolStream.next())).toBe(`presence ${carol!} closed api registered=false onCall=false`);
    await carolStream.close();
    await daveStream.close();
  });

  it("acts on the token's domain: another domain's token follows its own user of a name, never this domain's", async () => {
    const [erin, frank] = await freshUsers('erin', 'frank');
    expect((await domainRegistry(env).put({ name: OTHER_DOMAIN })).ok).toBe(true);
    forgetServedDomains();
    const created = await call('/tokens', { method: 'POST', body: { name: 'other tenant', domain: OTHER_DOMAIN } });
    expect(created.status).toBe(201);
    const otherHeaders = { Authorization: `Bearer ${((await created.json()) as { token: string }).token}`, 'Content-Type': 'application/json' };
    // A user of the same name in the other domain: its own SipUser object, its own hub.
    expect((await call(`/users/${erin!}`, { method: 'PUT', headers: otherHeaders, body: { password: PASSWORD } })).status).toBe(201);

    const refused = await call(`/presence/events?users=${frank!}`, { headers: otherHeaders });
    expect(refused.status).toBe(404);
    expect(refused.headers.get('Content-Type')).toContain('application/problem+json');

    const ours = await EventStream.open([erin!]);
    const theirs = new EventStream(await call(`/presence/events?users=${erin!}`, { headers: otherHeaders }));
    expect(summary(await ours.next())).toBe(`presence ${erin!} closed registration registered=false onCall=false`);
    expect(summary(await theirs.next())).toBe(`presence ${erin!} closed registration registered=false onCall=false`);
    // This domain's erin changes (and its stream shows it) before the other domain's does.
    expect((await call(`/users/${erin!}/presence`, { method: 'PUT', body: { status: 'closed', note: 'ours' } })).status).toBe(200);
    expect(summary(await ours.next())).toBe(`presence ${erin!} closed api registered=false onCall=false`);
    expect((await call(`/users/${erin!}/presence`, { method: 'PUT', headers: otherHeaders, body: { status: 'open', note: 'theirs' } })).status).toBe(200);
    expect(summary(await theirs.next())).toBe(`presence ${erin!} open api registered=false onCall=false`);
    expect(((await (await call(`/users/${erin!}/presence`, { headers: otherHeaders })).json()) as { pidf: string }).pidf).toContain('theirs');
    await ours.close();
    await theirs.close();
  });

  it('gets a comment on each heartbeat of the hub, and is forgotten by the hub once the client goes', async () => {
    const [frank] = await freshUsers('frank');
    const hub = presenceHub(env, DOMAIN);
    // The hub learns that a stream's client went on a write to it once the cancel went through:
    // its heartbeats, due every 20 s, sent here without the wait. The earlier tests' streams go first.
    const heartbeatsUntilNone = () =>
      vi.waitFor(
        async () => {
          await hub.heartbeat();
          expect(await hub.followers()).toBe(0);
        },
        { timeout: 10_000, interval: 20 },
      );
    await heartbeatsUntilNone();
    const stream = await EventStream.open([frank!]);
    await stream.next();
    await hub.heartbeat();
    expect(await stream.comment()).toBe(': keep-alive');
    expect(await hub.followers()).toBe(1);
    await stream.close();
    await heartbeatsUntilNone();
  }, 30_000);
});
