/**
 * Media-node RTT as the edge measures it: the round trip of a signed control request (the
 * `MediaControl` a PbxLink uses, with a fake node and a fake clock), recorded per node in the
 * MediaFleet object and shown by `GET /api/v1/media-nodes` and `GET /api/v1/media-nodes/:id/latency`,
 * with the last heartbeat's delay; kept across an eviction of the fleet object.
 */
import { env, exports } from 'cloudflare:workers';
import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { RequestSigner } from '../../shared/signing/index.ts';
import { MediaControl } from '../../workers/media/media-control.ts';
import { FLEET_OBJECT_NAME, type MediaFleet } from '../../workers/media/media-fleet.ts';
import type { NodeLatencyView, RttSummary } from '../../workers/media/node-latency.ts';
import type { PbxLink } from '../../workers/pbx/pbx-link.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { FakePbx } from './support/fake-pbx.ts';
import { deleteLink, linkStub, putLink } from './support/pbx-links.ts';
import { Phone } from './support/phone.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders } from './support/users.ts';

const T0 = Date.UTC(2100, 0, 1);
const fleet = env.MEDIA_FLEET.get(env.MEDIA_FLEET.idFromName(FLEET_OBJECT_NAME));
const clock = new FakeClock(T0);

async function useFakeClock(): Promise<void> {
  await runInDurableObject(fleet, (instance: MediaFleet) => {
    instance.clock = clock;
  });
}

/** Each node's control API, as its heartbeat gives it. */
function controlUrl(nodeId: string): string {
  return `http://127.0.0.1:18090/${nodeId}`;
}

/** A heartbeat as the node sends it, signed; `sentAt` `lagMs` before the fleet's clock. */
async function heartbeat(nodeId: string, lagMs: number): Promise<Response> {
  const path = '/api/v1/media-nodes/heartbeat';
  const body = JSON.stringify({
    nodeId,
    region: 'eu',
    state: 'up',
    controlUrl: controlUrl(nodeId),
    pbxAddress: '127.0.0.1',
    capacity: 10,
    sessions: 0,
    load: 0,
    cpu: null,
    startedAt: new Date(T0 - 60_000).toISOString(),
    sentAt: new Date(clock.now() - lagMs).toISOString(),
  });
  const headers = await new RequestSigner(env.SIPEDGE_MEDIA_SECRET).sign({ method: 'POST', path, body });
  return exports.default.fetch(`${EDGE}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
}

function api(path: string): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1${path}`, { headers: operatorHeaders() });
}

describe('media-node RTT', () => {
  it('records the round trip of a signed control request and shows it per node and in the listing', async () => {
    await useFakeClock();
    expect((await heartbeat('node-rtt', 1_500)).status).toBe(200);

    // The node answers the session creation 35 ms after the edge sent it.
    const seen: Request[] = [];
    const fakeNode = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      seen.push(new Request(input, init));
      clock.advance(35);
      return Response.json({ id: 'link.pbx.call-1', offeredBy: 'browser', browserAnswer: 'v=0', pbxOffer: 'v=0' }, { status: 201 });
    };
    const recorded: Promise<boolean>[] = [];
    const control = new MediaControl(env.SIPEDGE_MEDIA_SECRET, fakeNode, {
      now: () => clock.now(),
      roundTrip: (url, operation, ms) => recorded.push(fleet.controlRoundTrip(url, operation, ms)),
    });
    const created = await control.create(controlUrl('node-rtt'), { id: 'link.pbx.call-1', browserOffer: 'v=0' });
    expect(created.ok).toBe(true);
    expect(seen[0]?.headers.get('Sipedge-Signature')).toBeTruthy();
    expect(await Promise.all(recorded)).toEqual([true]);

    const listing = (await (await api('/media-nodes')).json()) as { nodes: { nodeId: string; rtt: RttSummary }[] };
    expect(listing.nodes.find((node) => node.nodeId === 'node-rtt')?.rtt).toEqual({ count: 1, p50Ms: 35, p95Ms: 35, maxMs: 35 });

    const response = await api('/media-nodes/node-rtt/latency');
    expect(response.status).toBe(200);
    const latency = (await response.json()) as NodeLatencyView;
    expect(latency).toMatchObject({ nodeId: 'node-rtt', controlRtt: { count: 1, p50Ms: 35 }, heartbeatDelayMs: 1_500 });
    expect(latency.samples).toEqual([{ at: new Date(T0 + 35).toISOString(), operation: 'create', ms: 35 }]);
  });

  it('keeps the samples across an eviction of the fleet object once a heartbeat wrote them', async () => {
    await useFakeClock();
    await heartbeat('node-kept', 0);
    expect(await fleet.controlRoundTrip(controlUrl('node-kept'), 'delete', 12)).toBe(true);
    expect((await heartbeat('node-kept', 200)).status).toBe(200);
    await evictDurableObject(fleet);
    await useFakeClock();
    const latency = (await (await api('/media-nodes/node-kept/latency')).json()) as NodeLatencyView;
    expect(latency.samples.map(({ operation, ms }) => ({ operation, ms }))).toEqual([{ operation: 'delete', ms: 12 }]);
    // The heartbeat delay is not stored: the next heartbeat brings one.
    expect(latency.heartbeatDelayMs).toBeNull();
  });

  it("times the PbxLink's own control requests when a call through it takes a media node", async () => {
    await useFakeClock();
    expect((await heartbeat('node-call', 0)).status).toBe(200);
    const [alice] = await freshUsers('alice');
    const linkClock = new FakeClock(Date.now());
    const used: string[] = [];
    const pbx = new FakePbx();
    await runInDurableObject(linkStub('rtt-trunk'), (instance: PbxLink) => {
      instance.connector = pbx.connector;
      instance.clock = linkClock;
      // The node takes 30 ms to create the session.
      instance.mediaFetch = async (input, init) => {
        const url = new URL(input instanceof Request ? input.url : String(input));
        used.push(url.origin + url.pathname.replace(/\/v1\/.*$/, ''));
        linkClock.advance(30);
        const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, string>) : {};
        return Response.json({ id: body['id'], offeredBy: 'browser', browserAnswer: 'v=0\r\n', pbxOffer: 'v=0\r\n' }, { status: 201 });
      };
    });
    expect((await putLink('rtt-trunk', { host: 'pbx.example', transport: 'tcp', register: false })).status).toBe(201);
    const caller = await Phone.online(alice!, PASSWORD);
    await caller.call('4930123456');
    await vi.waitFor(() => expect(pbx.requests.some((request) => request.method === 'INVITE')).toBe(true), { timeout: 5_000, interval: 20 });

    const [nodeUrl] = used;
    const listing = await vi.waitFor(async () => {
      const nodes = ((await (await api('/media-nodes')).json()) as { nodes: { controlUrl: string; rtt: RttSummary }[] }).nodes;
      const node = nodes.find((each) => nodeUrl?.startsWith(each.controlUrl));
      expect(node?.rtt.count).toBeGreaterThan(0);
      return node;
    }, { timeout: 5_000, interval: 20 });
    expect(listing?.rtt).toMatchObject({ p50Ms: 30, maxMs: 30 });
    caller.socket.close();
    await deleteLink('rtt-trunk');
  });

  it('answers 404 for a node never heard from, 400 for an id that cannot be one, 401 without a token', async () => {
    expect(await fleet.controlRoundTrip('http://127.0.0.1:1', 'create', 5)).toBe(false);
    const missing = await api('/media-nodes/nobody/latency');
    expect(missing.status).toBe(404);
    const bad = await api('/media-nodes/no%20such%20id/latency');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: unknown }).errors).toEqual([{ parameter: 'id', detail: 'must be 1-64 letters, digits, dots, dashes or underscores' }]);
    const anonymous = await exports.default.fetch(`${EDGE}/api/v1/media-nodes/nobody/latency`);
    expect(anonymous.status).toBe(401);
  });
});
