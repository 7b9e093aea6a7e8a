/**
 * The media nodes' requests to the edge, through the Worker as a node sends them: signed with the
 * shared secret (`shared/signing/`, the node's own module), refused otherwise with the node's
 * reasons, each nonce usable once. And the operator's listing, behind the operator token.
 */
import { env, exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { RequestSigner, newNonce } from '../../shared/signing/index.ts';
import { mediaFleet } from '../../workers/media/media-fleet.ts';
import type { MediaFleet } from '../../workers/media/media-fleet.ts';
import type { FleetListing } from '../../workers/media/fleet-core.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders } from './support/users.ts';

const HEARTBEAT = '/api/v1/media-nodes/heartbeat';
const SESSION_ENDED = '/api/v1/media-nodes/session-ended';
const signer = new RequestSigner(env.SIPEDGE_MEDIA_SECRET);

interface Refusal {
  status: number;
  title: string;
  reason?: string;
  errors?: { pointer?: string; detail: string }[];
}

let serial = 0;

function heartbeat(fields: Record<string, unknown> = {}): Record<string, unknown> {
  serial += 1;
  const now = new Date().toISOString();
  return {
    nodeId: `sig-node-${serial}`,
    region: 'sig-test',
    state: 'up',
    controlUrl: 'http://127.0.0.1:8090',
    pbxAddress: '127.0.0.1',
    capacity: 200,
    sessions: 2,
    load: 0.01,
    cpu: 0.05,
    startedAt: now,
    sentAt: now,
    ...fields,
  };
}

/** Builds the signed request a node would send; `headers` overrides any of them. */
async function signed(path: string, body: unknown, options: { nowMs?: number; nonce?: string; signer?: RequestSigner } = {}): Promise<Request> {
  const text = JSON.stringify(body);
  const headers = await (options.signer ?? signer).sign({ method: 'POST', path, body: text }, options.nowMs ?? Date.now(), options.nonce ?? newNonce());
  return new Request(`${EDGE}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: text });
}

async function send(request: Request): Promise<Response> {
  return exports.default.fetch(request);
}

async function refusal(response: Response): Promise<Refusal> {
  expect(response.headers.get('Content-Type')).toBe('application/problem+json');
  return (await response.json()) as Refusal;
}

async function listing(): Promise<FleetListing> {
  const response = await exports.default.fetch(`${EDGE}/api/v1/media-nodes`, { headers: operatorHeaders() });
  expect(response.status).toBe(200);
  return (await response.json()) as FleetListing;
}

describe('signed requests from media nodes', () => {
  it('accepts a signed heartbeat without the operator token, and the operator sees the node healthy', async () => {
    const body = heartbeat();
    const response = await send(await signed(HEARTBEAT, body));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ nodeId: body.nodeId, health: 'healthy' });

    const node = (await listing()).nodes.find((each) => each.nodeId === body.nodeId);
    expect(node).toMatchObject({ region: 'sig-test', state: 'up', health: 'healthy', capacity: 200, sessions: 2, controlUrl: 'http://127.0.0.1:8090' });
  });

  it('refuses a request without signature headers as unsigned', async () => {
    const response = await send(new Request(`${EDGE}${HEARTBEAT}`, { method: 'POST', body: JSON.stringify(heartbeat()) }));
    expect(response.status).toBe(401);
    expect(response.headers.get('WWW-Authenticate')).toBe('Sipedge-HMAC-SHA256');
    expect(await refusal(response)).toMatchObject({ status: 401, reason: 'unsigned' });
  });

  it('refuses malformed signature headers', async () => {
    const request = await signed(HEARTBEAT, heartbeat());
    request.headers.set('Sipedge-Nonce', 'short');
    expect(await refusal(await send(request))).toMatchObject({ status: 401, reason: 'malformed' });
  });

  it('refuses a request signed with another secret', async () => {
    const response = await send(await signed(HEARTBEAT, heartbeat(), { signer: new RequestSigner(`${env.SIPEDGE_MEDIA_SECRET}-not`) }));
    expect(await refusal(response)).toMatchObject({ status: 401, reason: 'bad-signature' });
  });

  it('refuses a body changed after signing, and a signature for another path', async () => {
    const body = heartbeat();
    const original = await signed(HEARTBEAT, body);
    const tampered = new Request(original, { body: JSON.stringify({ ...body, sessions: 0 }) });
    expect(await refusal(await send(tampered))).toMatchObject({ reason: 'bad-signature' });

    const elsewhere = await signed(SESSION_ENDED, body);
    const moved = new Request(`${EDGE}${HEARTBEAT}`, { method: 'POST', headers: elsewhere.headers, body: JSON.stringify(body) });
    expect(await refusal(await send(moved))).toMatchObject({ reason: 'bad-signature' });
  });

  it('refuses a request stamped more than 30 s from the edge clock, either way', async () => {
    expect(await refusal(await send(await signed(HEARTBEAT, heartbeat(), { nowMs: Date.now() - 31_000 })))).toMatchObject({ reason: 'stale' });
    expect(await refusal(await send(await signed(HEARTBEAT, heartbeat(), { nowMs: Date.now() + 31_000 })))).toMatchObject({ reason: 'stale' });
  });

  it('refuses the same signed request the second time as replayed', async () => {
    const body = heartbeat();
    const nonce = newNonce();
    const nowMs = Date.now();
    expect((await send(await signed(HEARTBEAT, body, { nowMs, nonce }))).status).toBe(200);
    const again = await send(await signed(HEARTBEAT, body, { nowMs, nonce }));
    expect(await refusal(again)).toMatchObject({ status: 401, reason: 'replayed' });
    // A fresh nonce is a new request.
    expect((await send(await signed(HEARTBEAT, body))).status).toBe(200);
  });

  it('does not remember the nonce of a request that failed its signature', async () => {
    const nonce = newNonce();
    const nowMs = Date.now();
    const body = heartbeat();
    await send(await signed(HEARTBEAT, body, { nowMs, nonce, signer: new RequestSigner(`${env.SIPEDGE_MEDIA_SECRET}-not`) }));
    expect((await send(await signed(HEARTBEAT, body, { nowMs, nonce }))).status).toBe(200);
  });

  it('names the invalid fields of a signed heartbeat', async () => {
    const response = await send(await signed(HEARTBEAT, heartbeat({ state: 'sleeping', capacity: -1, controlUrl: 'ftp://x' })));
    expect(response.status).toBe(400);
    expect((await refusal(response)).errors?.map((error) => error.pointer).sort()).toEqual(['#/capacity', '#/controlUrl', '#/state']);
  });

  it('takes a heartbeat with fields it does not know (a newer node)', async () => {
    const body = heartbeat({ gateway: { udp: true } });
    expect((await send(await signed(HEARTBEAT, body))).status).toBe(200);
  });

  it('accepts a signed session-ended report, stores it, and answers a retry as a duplicate', async () => {
    const report = { nodeId: 'sig-node-ends', sessionId: `call-${newNonce()}`, reason: 'media-timeout', detail: { reason: 'media-timeout', leg: 'pbx' }, endedAt: new Date().toISOString(), stats: { state: 'ended' } };
    const first = await send(await signed(SESSION_ENDED, report));
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ accepted: true, duplicate: false });
    // The node retries with a fresh timestamp and nonce (`media-node/edge/edge-client.ts`).
    const retry = await send(await signed(SESSION_ENDED, report));
    expect(await retry.json()).toEqual({ accepted: true, duplicate: true });

    const stored = await runInDurableObject(mediaFleet(env), (fleet: MediaFleet) => fleet.store.sessionEnds().filter((end) => end.sessionId === report.sessionId));
    expect(stored).toEqual([expect.objectContaining({ nodeId: 'sig-node-ends', reason: 'media-timeout', report })]);
  });

  it('refuses an unsigned session-ended report', async () => {
    const response = await send(new Request(`${EDGE}${SESSION_ENDED}`, { method: 'POST', body: '{}' }));
    expect(await refusal(response)).toMatchObject({ status: 401, reason: 'unsigned' });
  });
});

describe('GET /api/v1/media-nodes', () => {
  it('needs the operator token', async () => {
    const response = await exports.default.fetch(`${EDGE}/api/v1/media-nodes`);
    expect(response.status).toBe(401);
    expect(response.headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
  });

  it('is not opened by a media signature', async () => {
    const headers = await signer.sign({ method: 'GET', path: '/api/v1/media-nodes' });
    const response = await exports.default.fetch(`${EDGE}/api/v1/media-nodes`, { headers });
    expect(response.status).toBe(401);
    expect(response.headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
  });

  it('leaves the rest of the API behind the operator token', async () => {
    const response = await exports.default.fetch(`${EDGE}/api/v1/media-nodes/anything-else`, { method: 'POST' });
    expect(response.status).toBe(401);
    expect(response.headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
  });
});
