/**
 * One local edge per test file, with registered SIP.js and JsSIP phones that are stopped after
 * each test: what the call tests through the edge (calls, PRACK, transfers) start from.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { UserAgentOptions } from 'sip.js';
import { JsSipPhone, SipJsPhone } from './phones.ts';
import { startTestEdge, within, type TestEdge } from './test-edge.ts';

export interface EdgePhones {
  /** The edge, once `beforeAll` has started it. */
  readonly edge: TestEdge;
  /** A new user `name` (password "<name> password") registered with SIP.js. */
  sipJs(name: string, sipJs?: Partial<UserAgentOptions>): Promise<SipJsPhone>;
  /** A new user `name` registered with JsSIP. */
  jsSip(name: string): Promise<JsSipPhone>;
  /** Stops `phone` after the test, like the phones made here. */
  track<T extends { stop(): unknown }>(phone: T): T;
}

/** Registers the file's hooks: the edge starts before all tests, phones stop after each. */
export function useEdgePhones(): EdgePhones {
  let edge: TestEdge | undefined;
  const running: { stop(): unknown }[] = [];
  beforeAll(async () => {
    edge = await startTestEdge();
  }, 60_000);
  afterAll(async () => {
    await edge?.stop();
  });
  afterEach(async () => {
    for (const phone of running.splice(0)) await phone.stop();
  });
  const started = (): TestEdge => {
    if (edge === undefined) throw new Error('the edge has not started');
    return edge;
  };
  const options = (name: string) => ({ webSocketUrl: started().webSocketUrl, domain: started().domain, username: name, password: `${name} password` });
  return {
    get edge() {
      return started();
    },
    async sipJs(name, sipJs) {
      await started().createUser(name, `${name} password`);
      const phone = new SipJsPhone({ ...options(name), ...(sipJs === undefined ? {} : { sipJs }) });
      running.push(phone);
      await within(10_000, 'SIP.js connect', phone.start());
      phone.register();
      expect((await phone.nextOutcome()).status).toBe(200);
      return phone;
    },
    async jsSip(name) {
      await started().createUser(name, `${name} password`);
      const phone = new JsSipPhone(options(name));
      running.push(phone);
      phone.start();
      expect((await phone.nextOutcome()).status).toBe(200);
      return phone;
    },
    track(phone) {
      running.push(phone);
      return phone;
    },
  };
}
