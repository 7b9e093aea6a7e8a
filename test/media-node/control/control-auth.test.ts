import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newNonce } from '../../../media-node/signing/index.ts';
import type { ProblemBody } from '../support/control-client.ts';
import { startNode, type NodeRig } from '../support/media-node-rig.ts';

let node: NodeRig;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node.close();
});

function expectRefused(reply: { status: number; contentType: string; body: ProblemBody }, reason: string): void {
  expect(reply.status).toBe(401);
  expect(reply.contentType).toContain('application/problem+json');
  expect(reply.body).toMatchObject({ status: 401, title: 'Unauthorized', reason });
  expect(reply.body.detail.length).toBeGreaterThan(10);
}

describe('the control API refuses requests that are not signed by the edge, now, once', () => {
  it('accepts a signed request', async () => {
    expect((await node.client.request('GET', '/v1/sessions')).status).toBe(200);
  });

  it('refuses an unsigned request, whatever the path (no probing for session ids)', async () => {
    expectRefused(await node.client.request<ProblemBody>('GET', '/v1/sessions', undefined, { signed: false }), 'unsigned');
    expectRefused(await node.client.request<ProblemBody>('GET', '/v1/sessions/some-call', undefined, { signed: false }), 'unsigned');
    expectRefused(await node.client.request<ProblemBody>('POST', '/v1/sessions', { id: 'x', browserOffer: 'v=0' }, { signed: false }), 'unsigned');
    expectRefused(await node.client.request<ProblemBody>('GET', '/not-a-route', undefined, { signed: false }), 'unsigned');
  });

  it('refuses a request signed with another secret, or whose body was changed after signing', async () => {
    expectRefused(await node.client.request<ProblemBody>('GET', '/v1/sessions', undefined, { secret: 'another-secret-that-is-long-enough-0000' }), 'bad-signature');
    const tampered = await node.client.request<ProblemBody>('POST', '/v1/sessions', { id: 'a', pbxOffer: 'v=0' }, { sendBody: JSON.stringify({ id: 'b', pbxOffer: 'v=0' }) });
    expectRefused(tampered, 'bad-signature');
  });

  it('refuses a stale request either side of the 30 s window and accepts one inside it', async () => {
    const now = Date.now();
    expectRefused(await node.client.request<ProblemBody>('GET', '/v1/sessions', undefined, { nowMs: now - 32_000 }), 'stale');
    expectRefused(await node.client.request<ProblemBody>('GET', '/v1/sessions', undefined, { nowMs: now + 32_000 }), 'stale');
    expect((await node.client.request('GET', '/v1/sessions', undefined, { nowMs: now - 25_000 })).status).toBe(200);
    expect((await node.client.request('GET', '/v1/sessions', undefined, { nowMs: now + 25_000 })).status).toBe(200);
  });

  it('refuses a replayed request: the same signed request twice, or a nonce reused', async () => {
    const nowMs = Date.now();
    const nonce = newNonce();
    expect((await node.client.request('GET', '/v1/sessions', undefined, { nowMs, nonce })).status).toBe(200);
    expectRefused(await node.client.request<ProblemBody>('GET', '/v1/sessions', undefined, { nowMs, nonce }), 'replayed');
    expectRefused(await node.client.request<ProblemBody>('GET', '/v1/sessions/other', undefined, { nonce }), 'replayed');
  });

  it('refuses malformed signature headers', async () => {
    expectRefused(await node.client.request<ProblemBody>('GET', '/v1/sessions', undefined, { nonce: 'short' }), 'malformed');
  });

  it('answers /health and /metrics without a signature, and counts the refusals', async () => {
    const health = await node.client.request<{ status: string; sessions: number }>('GET', '/health', undefined, { signed: false });
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', sessions: 0, capacity: 200, region: 'local' } });
    const metrics = await node.client.request<string>('GET', '/metrics', undefined, { signed: false });
    expect(metrics.status).toBe(200);
    expect(metrics.contentType).toContain('text/plain');
    expect(metrics.body).toMatch(/^sipedge_media_control_refused_total\{reason="replayed"\} [1-9]/m);
    expect(metrics.body).toMatch(/^sipedge_media_control_refused_total\{reason="stale"\} [1-9]/m);
    expect(metrics.body).toMatch(/^process_cpu_seconds_total \d/m);
    expect(metrics.body).toMatch(/^sipedge_media_sessions_capacity 200$/m);
  });
});

describe('/metrics with a bearer token configured', () => {
  it('wants the token', async () => {
    const guarded = await startNode({ SIPEDGE_MEDIA_METRICS_TOKEN: 'scrape-token-0123456789' });
    try {
      const url = `${guarded.service.controlUrl}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { Authorization: 'Bearer wrong-token-000000000' } })).status).toBe(401);
      const ok = await fetch(url, { headers: { Authorization: 'Bearer scrape-token-0123456789' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('sipedge_media_sessions');
    } finally {
      await guarded.close();
    }
  });
});
