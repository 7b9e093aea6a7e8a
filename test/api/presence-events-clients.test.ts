/**
 * The presence event stream with real clients: an operator follows two users over
 * `GET /api/v1/presence/events` (plain HTTP from Node, as a dashboard would) while the real SIP.js
 * and JsSIP packages register and unregister them over WebSocket (workerd on 127.0.0.1). Each
 * registration and unregistration shows on the stream as an event of its own, pushed by the edge.
 */
import { randomBytes } from 'node:crypto';
import * as JsSIP from 'jssip';
import { Registerer, UserAgent } from 'sip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type RunningEdge } from '../../workers/local/edge-runner.ts';
import { within } from '../edge/support/test-edge.ts';

const OPERATOR_TOKEN = randomBytes(18).toString('base64url');
const PASSWORD = 'a dashboard password';

interface PresenceEvent {
  event: string;
  data: { username: string; basic: string; registered: boolean };
}

let edge: RunningEdge;
let domain: string;

async function api(path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return fetch(new URL(path, edge.url), {
    method: init.method ?? 'GET',
    headers: { Authorization: `Bearer ${OPERATOR_TOKEN}`, 'Content-Type': 'application/json' },
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

  async next(): Promise<PresenceEvent> {
    for (;;) {
      const split = this.#pending.indexOf('\n\n');
      if (split !== -1) {
        const block = this.#pending.slice(0, split);
        this.#pending = this.#pending.slice(split + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data !== undefined) return { event: /^event: (.*)$/m.exec(block)?.[1] ?? 'message', data: JSON.parse(data) as PresenceEvent['data'] };
        continue;
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

function summary(event: PresenceEvent): string {
  return `${event.event} ${event.data.username} ${event.data.basic} registered=${String(event.data.registered)}`;
}

beforeAll(async () => {
  edge = await startEdge({
    port: 0,
    vars: { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: OPERATOR_TOKEN, SIPEDGE_MEDIA_SECRET: randomBytes(32).toString('base64url') },
  });
  domain = ((await (await fetch(new URL('/health', edge.url))).json()) as { domain: string }).domain;
});

afterAll(async () => {
  await edge?.stop();
});

describe('presence events with real clients', () => {
  it('shows SIP.js and JsSIP registering and unregistering as they do it', async () => {
    for (const username of ['panel-sipjs', 'panel-jssip']) expect((await api(`/api/v1/users/${username}`, { method: 'PUT', body: { password: PASSWORD } })).status).toBe(201);
    const response = await api('/api/v1/presence/events?users=panel-sipjs,panel-jssip');
    expect(response.status).toBe(200);
    const stream = new EventStream(response);
    expect([summary(await stream.next()), summary(await stream.next())]).toEqual(['presence panel-sipjs closed registered=false', 'presence panel-jssip closed registered=false']);

    const uri = UserAgent.makeURI(`sip:panel-sipjs@${domain}`)!;
    const sipjs = new UserAgent({ uri, transportOptions: { server: `ws://${edge.url.host}/sip` }, authorizationUsername: 'panel-sipjs', authorizationPassword: PASSWORD, logLevel: 'error', logBuiltinEnabled: false });
    await sipjs.start();
    const registerer = new Registerer(sipjs, { expires: 300 });
    await registerer.register();
    expect(summary(await within(10_000, 'the SIP.js registration event', stream.next()))).toBe('presence panel-sipjs open registered=true');

    JsSIP.debug.disable();
    const jssip = new JsSIP.UA({ uri: `sip:panel-jssip@${domain}`, password: PASSWORD, sockets: [new JsSIP.WebSocketInterface(`ws://${edge.url.host}/sip`)], register: true, register_expires: 300 });
    jssip.start();
    expect(summary(await within(10_000, 'the JsSIP registration event', stream.next()))).toBe('presence panel-jssip open registered=true');

    await registerer.unregister();
    expect(summary(await within(10_000, 'the SIP.js unregistration event', stream.next()))).toBe('presence panel-sipjs closed registered=false');
    jssip.unregister();
    expect(summary(await within(10_000, 'the JsSIP unregistration event', stream.next()))).toBe('presence panel-jssip closed registered=false');

    jssip.stop();
    await sipjs.stop();
    await stream.close();
  });
});
