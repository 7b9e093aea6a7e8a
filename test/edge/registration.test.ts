/**
 * Real SIP.js and JsSIP, in Node 22, registering to the local edge over ws:// (RFC 7118), as a
 * browser page configured for Kamailio or Asterisk would (`test/browser/` runs them in Chromium).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsSipPhone, SipJsPhone, type RegisterOutcome } from './support/phones.ts';
import { startTestEdge, within, type TestEdge } from './support/test-edge.ts';

let edge: TestEdge;

beforeAll(async () => {
  edge = await startTestEdge();
  await edge.createUser('alice', 'alice password');
  await edge.createUser('bob', 'bob password');
}, 60_000);

afterAll(async () => {
  await edge?.stop();
});

const phone = (username: string, password: string) => ({ webSocketUrl: edge.webSocketUrl, domain: edge.domain, username, password });

describe('SIP.js', () => {
  it('registers with digest auth and gets its contact back with the granted expires', async () => {
    const alice = new SipJsPhone(phone('alice', 'alice password'));
    await within(10_000, 'SIP.js connect', alice.start());
    alice.register();
    const outcome = await alice.nextOutcome();
    expect(outcome.status).toBe(200);
    expect(outcome.contacts).toHaveLength(1);
    expect(outcome.contacts[0]).toMatch(/\.invalid;transport=ws>;expires=300$/);
    await alice.stop();
  });

  it('is refused with a wrong password', async () => {
    const mallory = new SipJsPhone(phone('alice', 'not the password'));
    await within(10_000, 'SIP.js connect', mallory.start());
    mallory.register();
    expect((await mallory.nextOutcome()).status).toBe(401);
    await mallory.stop();
  });
});

describe('JsSIP', () => {
  it('registers with digest auth, as an RFC 5626 outbound flow', async () => {
    const bob = new JsSipPhone(phone('bob', 'bob password'));
    bob.start();
    const outcome = await bob.nextOutcome();
    expect(outcome.status).toBe(200);
    expect(outcome.contacts).toHaveLength(1);
    // JsSIP asks for GRUUs (RFC 5627) and gets a public and a temporary one for its instance.
    expect(outcome.contacts[0]).toMatch(/reg-id=1;\+sip\.instance="<urn:uuid:([0-9a-f-]+)>";pub-gruu="sip:bob@[^";]+;gr=urn:uuid:\1";temp-gruu="sip:tgruu\.[A-Za-z0-9_-]+@[^";]+;gr";expires=300$/);
    bob.stop();
  });

  it('is refused with a wrong password', async () => {
    const mallory = new JsSipPhone(phone('bob', 'not the password'));
    mallory.start();
    expect((await mallory.nextOutcome()).status).toBe(401);
    mallory.stop();
  });
});

/**
 * The first answer to a REGISTER after the restart: outcomes without a SIP response (a REGISTER in
 * flight when the socket dropped) are no answer and are skipped; a final refusal fails the test.
 */
async function answerAfterRestart(phone: SipJsPhone | JsSipPhone): Promise<RegisterOutcome> {
  for (;;) {
    // Generous: on a loaded machine the restarted edge takes long to answer its first requests.
    const outcome = await phone.nextOutcome(90_000);
    if (outcome.status !== 0) return outcome;
  }
}

describe('a dropped WebSocket (a redeploy drops them all)', () => {
  it('leaves SIP.js and JsSIP registered again over new flows, each with one binding, and reachable', async () => {
    const alice = new SipJsPhone(phone('alice', 'alice password'));
    const bob = new JsSipPhone(phone('bob', 'bob password'));
    await within(10_000, 'SIP.js connect', alice.start());
    alice.register();
    bob.start();
    expect((await alice.nextOutcome()).status).toBe(200);
    expect((await bob.nextOutcome()).status).toBe(200);

    await within(90_000, 'edge restart', edge.restart(async () => {
      // The edge stays down until JsSIP has seen its socket drop and then failed to reconnect
      // (it retries every 1-2 s): the phones must come back from attempts made while it was away.
      await bob.disconnections.next(30_000);
      await bob.disconnections.next(30_000);
    }));

    const again = await answerAfterRestart(alice);
    expect(again.status).toBe(200);
    expect(again.contacts).toHaveLength(1);
    const bobAgain = await answerAfterRestart(bob);
    expect(bobAgain.status).toBe(200);
    expect(bobAgain.contacts).toHaveLength(1);

    // Reachable over the new flows, both ways.
    expect(await within(30_000, 'SIP.js MESSAGE', alice.message('bob', 'wieder da?'))).toBe(200);
    expect((await bob.messages.next(30_000)).body).toBe('wieder da?');
    expect(await within(30_000, 'JsSIP MESSAGE', bob.message('alice', 'ja ✓'))).toBe(200);
    expect((await alice.messages.next(30_000)).body).toBe('ja ✓');
    await alice.stop();
    bob.stop();
  }, 300_000);
});
