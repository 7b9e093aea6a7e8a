/**
 * Failover between trunks, with real parts: the edge in workerd, a media node process, two sipp
 * trunks over TCP (one refuses with 503, the other rings and answers with plain RTP/AVP PCMU), and
 * SIP.js in Node with WebRTC-like SDP as the caller. Routing has no rule, so the plan is every
 * link that can terminate, in id order: the first trunk's 503 sends the call to the second, the
 * caller sees 181 in between, gets the media node's WebRTC answer (not the trunk's RTP/AVP one),
 * and its hang-up reaches the trunk and deletes the media session.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionState, type Inviter } from 'sip.js';
import { startEdge, type RunningEdge } from '../../workers/local/edge-runner.ts';
import { within } from '../edge/support/test-edge.ts';
import { SipJsPhone } from '../edge/support/phones.ts';
import { peerAvailable } from '../support/peers.ts';
import { startMediaNode, type RunningMediaNode } from './support/media-node.ts';
import { eventually } from './support/net.ts';
import { startSippTrunk, type RunningSippTrunk } from './support/sipp-trunk.ts';

const available = peerAvailable('sipp');
const SECRET = randomBytes(32).toString('base64url');
const TOKEN = randomBytes(18).toString('base64url');
const HEARTBEAT_MS = 3000;

let edge: RunningEdge;
let node: RunningMediaNode;
let refusing: RunningSippTrunk;
let answering: RunningSippTrunk;
let phone: SipJsPhone;

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(new URL(`/api/v1${path}`, edge.url), {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
}

beforeAll(async () => {
  if (!available) return;
  edge = await startEdge({ port: 0, vars: { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: TOKEN, SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_HEARTBEAT_MS: String(HEARTBEAT_MS) } });
  const domain = ((await (await fetch(new URL('/health', edge.url))).json()) as { domain: string }).domain;
  node = await startMediaNode(edge.url.href, SECRET, HEARTBEAT_MS);
  refusing = await startSippTrunk('503 Service Unavailable');
  answering = await startSippTrunk();
  for (const [id, trunk] of [['a-refusing', refusing], ['b-answering', answering]] as const) {
    const response = await api('PUT', `/pbx-links/${id}`, { host: '127.0.0.1', port: trunk.port, transport: 'tcp', register: false });
    expect(response.status, await response.clone().text()).toBe(201);
  }
  expect((await api('PUT', '/users/carol', { password: 'carol password' })).ok).toBe(true);
  await eventually('the media node healthy at the edge', 20_000, async () => {
    const listing = (await (await api('GET', '/media-nodes')).json()) as { nodes: { health: string }[] };
    return listing.nodes.some((each) => each.health === 'healthy') ? true : undefined;
  });
  phone = new SipJsPhone({ webSocketUrl: `ws://127.0.0.1:${edge.url.port}/sip`, domain, username: 'carol', password: 'carol password' });
  await within(10_000, 'SIP.js connect', phone.start());
  phone.register();
  expect((await phone.nextOutcome()).status).toBe(200);
}, 90_000);

afterAll(async () => {
  await phone?.stop();
  await refusing?.stop();
  await answering?.stop();
  await node?.stop();
  await edge?.stop();
});

function reach(session: Inviter, state: SessionState, ms: number): Promise<void> {
  if (session.state === state) return Promise.resolve();
  return within(ms, `SIP.js session ${state}`, new Promise<void>((resolve) => {
    const listener = (next: SessionState): void => {
      if (next !== state) return;
      session.stateChange.removeListener(listener);
      resolve();
    };
    session.stateChange.addListener(listener);
  }));
}

describe.skipIf(!available)('failover between trunks', () => {
  it('goes on to the second trunk after the first one\'s 503, bridges the media, and ends cleanly', async () => {
    const provisional: number[] = [];
    const inviter = phone.inviter('4930123');
    await inviter.invite({ requestDelegate: { onProgress: (response) => void provisional.push(response.message.statusCode ?? 0) } });
    await reach(inviter, SessionState.Established, 30_000);

    expect(provisional).toContain(181);
    expect(provisional).toContain(180);
    const answer = phone.media[0]?.remote[0] ?? '';
    expect(answer).toMatch(/a=fingerprint:sha-256/);
    expect(answer).toMatch(/UDP\/TLS\/RTP\/SAVPF/);
    expect(answer).not.toMatch(/RTP\/AVP 0/);
    expect(refusing.received()).toEqual([expect.stringMatching(/^INVITE sip:4930123@127\.0\.0\.1:\d+;transport=tcp SIP\/2\.0$/), expect.stringMatching(/^ACK /)]);
    const live = (await node.sessions()).filter((session) => session.state !== 'ended').map((session) => session.id);
    expect(live).toEqual([expect.stringMatching(/^link\.b-answering\./)]);

    await inviter.bye();
    await reach(inviter, SessionState.Terminated, 10_000);
    await answering.finished(10_000);
    await refusing.finished(10_000);
    await eventually('the media sessions deleted', 10_000, async () => ((await node.sessions()).every((session) => session.state === 'ended') ? true : undefined));
  }, 60_000);
});
