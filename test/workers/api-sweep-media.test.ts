/**
 * Media nodes are shared by every domain: when one restarts (its heartbeat says so), the calls it
 * carried end on the PBX links of every domain, not only on SIPEDGE_DOMAIN's. What each link is
 * told is recorded in place of what it does then (the BYEs on both legs: `pbx-calls.test.ts`).
 */
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { RequestSigner } from '../../shared/signing/index.ts';
import { PbxLink } from '../../workers/pbx/pbx-link.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders } from './support/users.ts';

const LINK = { host: '127.0.0.1', port: 9, transport: 'tcp', register: false };
const CONTROL_URL = 'http://127.0.0.1:18092/shared-node';

async function heartbeat(startedAt: string): Promise<number> {
  const path = '/api/v1/media-nodes/heartbeat';
  const body = JSON.stringify({ nodeId: 'shared-node', region: 'eu', state: 'up', controlUrl: CONTROL_URL, pbxAddress: '127.0.0.1', capacity: 10, sessions: 0, load: 0, cpu: null, startedAt, sentAt: new Date().toISOString() });
  const headers = await new RequestSigner(env.SIPEDGE_MEDIA_SECRET).sign({ method: 'POST', path, body });
  return (await exports.default.fetch(`${EDGE}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body })).status;
}

async function api(path: string, headers: Record<string, string>, method: string, body: unknown): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1${path}`, { method, headers, body: JSON.stringify(body) });
}

describe('a media node that restarts', { timeout: 30_000 }, () => {
  it("is reported to every domain's PBX links", async () => {
    const created = await api('/domains', operatorHeaders(), 'POST', { name: 'media-b.example' });
    expect(created.status).toBe(201);
    const b = { Authorization: `Bearer ${((await created.json()) as { operator_token: { token: string } }).operator_token.token}`, 'Content-Type': 'application/json' };
    expect((await api('/pbx-links/media-a-pbx', operatorHeaders(), 'PUT', LINK)).status).toBe(201);
    expect((await api('/pbx-links/media-b-pbx', b, 'PUT', LINK)).status).toBe(201);
    // Which links are told, by the configuration each reads of itself.
    const told: string[] = [];
    const lost = vi.spyOn(PbxLink.prototype, 'mediaNodeLost').mockImplementation(async function (this: PbxLink, controlUrl: string, reason: string) {
      const view = await this.getLink();
      told.push(`${view?.id} ${controlUrl} ${reason}`);
      return 0;
    });

    try {
      expect(await heartbeat(new Date(Date.now() - 120_000).toISOString())).toBe(200);
      // Started again since: the node restarted, and lost every session it carried.
      expect(await heartbeat(new Date(Date.now() - 1_000).toISOString())).toBe(200);
      await vi.waitFor(() => expect(told.sort()).toEqual([`media-a-pbx ${CONTROL_URL} media-node-restarted`, `media-b-pbx ${CONTROL_URL} media-node-restarted`]), { timeout: 10_000 });
    } finally {
      lost.mockRestore();
    }
  });
});
