import { afterEach, describe, expect, it } from 'vitest';
import { HEARTBEAT_PATH, SESSION_ENDED_PATH } from '../../../media-node/config/index.ts';
import type { SessionView } from '../../../media-node/control/index.ts';
import { callFromBrowser, pbxSdp, startNode, type NodeRig } from '../support/media-node-rig.ts';
import { udpPeer } from '../support/udp.ts';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function node(env: Record<string, string> = {}): Promise<NodeRig> {
  const rig = await startNode(env);
  cleanup.push(() => rig.close());
  return rig;
}

describe('a session that ends without the edge asking', () => {
  it('is reported to the edge, signed, with its reason and final figures, so the edge can BYE both dialogs', async () => {
    const rig = await node();
    const call = await callFromBrowser(rig.client, 'timeout-call', { mediaTimeoutMs: 1000 });
    cleanup.push(() => call.close());
    // Nobody sends: after a second of silence the session ends itself.
    const report = await rig.edge.waitFor(SESSION_ENDED_PATH);
    expect(report.refused).toBeUndefined();
    expect(report.body).toMatchObject({ nodeId: 'test-node', sessionId: 'timeout-call', reason: 'media-timeout', detail: { reason: 'media-timeout' } });
    expect(report.body['stats']).toMatchObject({ id: 'timeout-call', state: 'ended' });
    const view = await rig.client.request<SessionView>('GET', '/v1/sessions/timeout-call');
    expect(view.body).toMatchObject({ state: 'ended', end: { reason: 'media-timeout' } });
    // The edge's BYE handling then deletes it: the same report, no error.
    const deleted = await rig.client.request('DELETE', '/v1/sessions/timeout-call');
    expect(deleted).toMatchObject({ status: 200, body: { reason: 'media-timeout' } });
    // And the id cannot be reused for another call.
    const reused = await rig.client.request('POST', '/v1/sessions', { id: 'timeout-call', pbxOffer: pbxSdp(call.pbx) });
    expect(reused.status).toBe(409);
  });

  it('is retried while the edge answers 5xx, and delivered once it takes it', async () => {
    const rig = await node();
    rig.edge.respond((path, nth) => (path === SESSION_ENDED_PATH && nth <= 2 ? 503 : 200));
    const call = await callFromBrowser(rig.client, 'retried-call', { mediaTimeoutMs: 1000 });
    cleanup.push(() => call.close());
    await rig.edge.waitFor(SESSION_ENDED_PATH, 3);
    const attempts = rig.edge.requests.filter((request) => request.path === SESSION_ENDED_PATH);
    expect(attempts.map((attempt) => attempt.refused)).toEqual([undefined, undefined, undefined]);
    expect(new Set(attempts.map((attempt) => attempt.body['sessionId']))).toEqual(new Set(['retried-call']));
    await expectEventually(() => rig.service.endReporter.counters.delivered === 1);
    expect(rig.service.metrics()).toMatch(/^sipedge_media_end_reports_total\{outcome="delivered"\} 1$/m);
  });
});

describe('shutting down', () => {
  it('ends every session, reports each as node-shutdown, and tells the edge it is stopping', async () => {
    const rig = await startNode();
    try {
      const call = await callFromBrowser(rig.client, 'relaying-call');
      cleanup.push(() => call.close());
      const pbx = await udpPeer();
      cleanup.push(() => pbx.close());
      expect((await rig.client.request('POST', '/v1/sessions', { id: 'ringing-call', pbxOffer: pbxSdp(pbx) })).status).toBe(201);
      await rig.service.stop();
      const reports = rig.edge.requests.filter((request) => request.path === SESSION_ENDED_PATH);
      expect(reports.map((report) => report.body['sessionId']).sort()).toEqual(['relaying-call', 'ringing-call']);
      expect(reports.every((report) => report.body['reason'] === 'node-shutdown' && report.refused === undefined)).toBe(true);
      const beats = rig.edge.requests.filter((request) => request.path === HEARTBEAT_PATH);
      expect(beats.at(-1)?.body).toMatchObject({ state: 'stopping', sessions: 0 });
      expect(rig.service.state).toBe('stopped');
    } finally {
      await rig.close();
    }
  });
});

describe('heartbeats', () => {
  it('are signed and say where the node is, its region, capacity and load', async () => {
    const rig = await node({ SIPEDGE_MEDIA_REGION: 'eu-west', SIPEDGE_MEDIA_MAX_SESSIONS: '50' });
    const beat = await rig.edge.waitFor(HEARTBEAT_PATH);
    expect(beat.refused).toBeUndefined();
    expect(beat.body).toMatchObject({
      nodeId: 'test-node',
      region: 'eu-west',
      state: 'up',
      controlUrl: rig.service.controlUrl,
      pbxAddress: '127.0.0.1',
      capacity: 50,
      sessions: 0,
      load: 0,
    });
  });

  it('carry on when the edge answers 404 (its side is not there yet), and the node keeps working', async () => {
    const rig = await node({ SIPEDGE_MEDIA_HEARTBEAT_MS: '1000' });
    rig.edge.respond(() => 404);
    // Beats go one after another: the third is sent only once the second's 404 was handled.
    await rig.edge.waitFor(HEARTBEAT_PATH, 3, 8000);
    expect(rig.service.heartbeat?.counters.failed).toBeGreaterThanOrEqual(1);
    expect((await rig.client.request('GET', '/v1/sessions')).status).toBe(200);
  });
});

async function expectEventually(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
