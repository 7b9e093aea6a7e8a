/**
 * WebSocket registration mode with real parts: the edge in workerd (trusting the test CA of
 * Kamailio's certificate through NODE_EXTRA_CA_CERTS), Kamailio as the PBX over secure WebSocket
 * with digest auth, and two SIP.js user agents in Node configured with their PBX identities
 * (domain 127.0.0.1, PBX usernames and passwords): 1101 on the shared `/sip`, frank (PBX user
 * 1102) on his own `/sip/frank`.
 *
 * The edge relays each socket to Kamailio's WSS listener: Kamailio challenges and binds both, the
 * edge's trace of the user shows the REGISTER with its 401 and 200 (credentials redacted), frank
 * calls 1101 through Kamailio (INVITE, 407, 200, ACK, BYE between the two relayed sockets), and
 * closing 1101's socket at the browser end closes the edge's socket to Kamailio.
 */
import { randomBytes } from 'node:crypto';
import { SessionState } from 'sip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEdge } from '../../workers/local/edge-runner.ts';
import { SipJsPhone } from '../edge/support/phones.ts';
import { reach } from '../edge/support/sessions.ts';
import { peerAvailable } from '../support/peers.ts';
import { startPbx, type RunningPbx } from './support/kamailio-pbx.ts';
import { eventually } from './support/net.ts';

const available = peerAvailable('kamailio');

const TOKEN = randomBytes(18).toString('base64url');
const PBX_PASSWORDS = { '1101': 'pbx secret of 1101', '1102': 'pbx secret of 1102' };

let edge: RunningEdge;
let pbx: RunningPbx;
const phones: SipJsPhone[] = [];

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(new URL(`/api/v1${path}`, edge.url), {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
}

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Kamailio's open WebSocket connections: one line with the peer's address per connection. */
async function pbxSockets(): Promise<number> {
  return ((await pbx.webSockets()).match(/^\s*\d+: wss?:/gm) ?? []).length;
}

function diagnostics(): string {
  return `\n--- kamailio\n${pbx.log().slice(-4000)}`;
}

interface TraceBody {
  readonly records: readonly { readonly direction: string; readonly summary: string; readonly message: string }[];
}

beforeAll(async () => {
  if (!available) return;
  pbx = await startPbx(PBX_PASSWORDS);
  // miniflare reads the variable once, when it loads: hence the edge runner is imported only now.
  process.env.NODE_EXTRA_CA_CERTS = pbx.caPath;
  const { startEdge } = await import('../../workers/local/edge-runner.ts');
  edge = await startEdge({ port: 0, vars: { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: TOKEN } });
  const link = await api('PUT', '/pbx-links/office-wss', { host: '127.0.0.1', port: pbx.wssPort, transport: 'wss', register: false });
  expect(link.status, await link.clone().text()).toBe(201);
  for (const [user, pbxUser] of [['1101', '1101'], ['frank', '1102']] as const) {
    const response = await api('PUT', `/users/${user}`, { password: `${user} edge password`, registration_mode: 'websocket', pbx: { link: 'office-wss', username: pbxUser } });
    expect(response.status, await response.clone().text()).toBe(201);
    expect(await response.json()).toMatchObject({ registration_mode: 'websocket', pbx: { link: 'office-wss', username: pbxUser } });
  }
}, 60_000);

afterAll(async () => {
  for (const phone of phones) await phone.stop().catch(() => undefined);
  await edge?.stop();
  await pbx?.stop();
});

describe.skipIf(!available)('WebSocket registration mode: SIP over WebSocket relayed to Kamailio', () => {
  it('registers at the PBX through the edge, traces it, relays a call between two relayed users, and closes the PBX side with the browser\'s', async () => {
    const port = edge.url.port;
    const socketsBefore = await pbxSockets();
    // The browsers carry their PBX identities: the PBX's domain, user names and passwords.
    const shared = new SipJsPhone({ webSocketUrl: `ws://127.0.0.1:${port}/sip`, domain: '127.0.0.1', username: '1101', password: PBX_PASSWORDS['1101'] });
    const frank = new SipJsPhone({ webSocketUrl: `ws://127.0.0.1:${port}/sip/frank`, domain: '127.0.0.1', username: '1102', password: PBX_PASSWORDS['1102'] });
    phones.push(shared, frank);
    await within(10_000, 'SIP.js connect (1101)', shared.start());
    await within(10_000, 'SIP.js connect (frank)', frank.start());
    try {
      shared.register();
      expect((await shared.nextOutcome(15_000)).status).toBe(200);
      frank.register();
      expect((await frank.nextOutcome(15_000)).status).toBe(200);
    } catch (error) {
      throw new Error(`${String(error)}${diagnostics()}`);
    }
    // Kamailio, not the edge, holds the bindings, each over its own WebSocket from the edge.
    const bindings = await pbx.registered();
    expect(bindings).toMatch(/AoR: 1101\b/);
    expect(bindings).toMatch(/AoR: 1102\b/);
    expect(await pbxSockets()).toBeGreaterThanOrEqual(socketsBefore + 2);

    // The user's trace shows the exchange with the PBX, the digest response redacted.
    const trace = await eventually('the REGISTER exchange in 1101\'s trace', 10_000, async () => {
      const body = (await (await api('GET', '/users/1101/trace')).json()) as TraceBody;
      const summaries = body.records.map((record) => `${record.direction} ${record.summary}`);
      return summaries.some((line) => /^out SIP\/2\.0 200/.test(line)) ? body : undefined;
    });
    const summaries = trace.records.map((record) => `${record.direction} ${record.summary}`);
    expect(summaries.filter((line) => line.startsWith('in REGISTER sip:127.0.0.1')).length).toBeGreaterThanOrEqual(2);
    expect(summaries).toContainEqual(expect.stringMatching(/^out SIP\/2\.0 401/));
    const answered = trace.records.find((record) => record.direction === 'in' && /^Authorization:/im.test(record.message));
    expect(answered?.message).toMatch(/username="1101"/);
    expect(answered?.message).not.toMatch(/response="[0-9a-f]{32}"/);

    // frank calls 1101 at the PBX: Kamailio challenges frank (407) and routes the INVITE to 1101's flow.
    const inviter = frank.inviter('1101');
    const incoming = shared.invitations.next(20_000);
    await inviter.invite();
    let invitation;
    try {
      invitation = await incoming;
    } catch (error) {
      throw new Error(`${String(error)}${diagnostics()}`);
    }
    expect(invitation.request.from.uri.user).toBe('1102');
    await invitation.accept();
    await reach(inviter, SessionState.Established, 15_000);
    await reach(invitation, SessionState.Established, 15_000);
    await inviter.bye();
    await reach(invitation, SessionState.Terminated, 15_000);
    const callTrace = (await (await api('GET', '/users/frank/trace')).json()) as TraceBody;
    const frankSummaries = callTrace.records.map((record) => `${record.direction} ${record.summary}`);
    expect(frankSummaries).toContainEqual(expect.stringMatching(/^out SIP\/2\.0 407/));
    expect(frankSummaries).toContainEqual(expect.stringMatching(/^in ACK /));
    expect(frankSummaries).toContainEqual(expect.stringMatching(/^in BYE /));

    // The browser's socket goes (no unREGISTER): the edge closes its socket to Kamailio.
    const open = await pbxSockets();
    await shared.stop();
    await eventually('Kamailio sees the relayed socket close', 15_000, async () => ((await pbxSockets()) <= open - 1 ? true : undefined));
  }, 90_000);
});
