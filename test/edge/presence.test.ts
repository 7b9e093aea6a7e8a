/**
 * Presence with the real SIP.js in Node 22 against the local edge: a SIP.js `Subscriber` watches
 * another user (RFC 3856) and sees the PIDF basic status follow that user's registration (open
 * once a device registers, closed when it unregisters), and a SIP.js `Publisher` (RFC 3903) sets
 * the PIDF the watcher gets. SIP.js answers the 407 challenges itself.
 */
import { Publisher, PublisherState, Subscriber, UserAgent, type Subscription } from 'sip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inbox } from './support/inbox.ts';
import { SipJsPhone } from './support/phones.ts';
import { startTestEdge, within, type TestEdge } from './support/test-edge.ts';

let edge: TestEdge;

beforeAll(async () => {
  edge = await startTestEdge();
  await edge.createUser('watcher', 'watcher password');
  await edge.createUser('watched', 'watched password');
}, 60_000);

afterAll(async () => {
  await edge?.stop();
});

const phone = (username: string, password: string) => ({ webSocketUrl: edge.webSocketUrl, domain: edge.domain, username, password });

/** Polls `condition` every 20 ms; rejects after `ms`. */
async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function basicOf(body: string): string | undefined {
  return /<basic>(open|closed)<\/basic>/.exec(body)?.[1];
}

describe('SIP.js presence', () => {
  it('watches another user go open when it registers and closed when it unregisters, and sees what it publishes', async () => {
    const watcher = new SipJsPhone(phone('watcher', 'watcher password'));
    await within(10_000, 'watcher connect', watcher.start());
    watcher.register();
    expect((await watcher.nextOutcome()).status).toBe(200);

    const notifications = new Inbox<string>('SIP.js NOTIFY');
    const target = UserAgent.makeURI(`sip:watched@${edge.domain}`);
    if (target === undefined) throw new Error('bad target');
    const subscriber: Subscription = new Subscriber(watcher.ua, target, 'presence', { expires: 600 });
    subscriber.delegate = {
      onNotify: (notification) => {
        void notification.accept();
        notifications.push(notification.request.body);
      },
    };
    await within(10_000, 'SUBSCRIBE', subscriber.subscribe());
    expect(basicOf(await within(8_000, 'NOTIFY 1', notifications.next()))).toBe('closed');

    const watched = new SipJsPhone(phone('watched', 'watched password'));
    await within(10_000, 'watched connect', watched.start());
    watched.register();
    expect((await watched.nextOutcome()).status).toBe(200);
    expect(basicOf(await within(8_000, 'NOTIFY 2', notifications.next()))).toBe('open');

    const publisher = new Publisher(watched.ua, UserAgent.makeURI(`sip:watched@${edge.domain}`)!, 'presence', { expires: 600, contentType: 'application/pidf+xml' });
    const note = `<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:watched@${edge.domain}"><tuple id="a"><status><basic>open</basic></status><note>on the phone</note></tuple></presence>`;
    await within(10_000, 'PUBLISH', publisher.publish(note));
    expect(await within(8_000, 'NOTIFY 3', notifications.next())).toContain('on the phone');
    // SIP.js resolves publish() at once; it can unpublish only once the 200 brought the entity-tag.
    await until(() => publisher.state === PublisherState.Published);
    await within(10_000, 'unPUBLISH', publisher.unpublish());
    expect(await within(8_000, 'NOTIFY 4', notifications.next())).not.toContain('on the phone');

    await within(10_000, 'unREGISTER', watched.registerer.unregister());
    expect(basicOf(await within(8_000, 'NOTIFY 5', notifications.next()))).toBe('closed');

    await within(10_000, 'unSUBSCRIBE', subscriber.unsubscribe());
    await watched.stop();
    await watcher.stop();
  });
});

