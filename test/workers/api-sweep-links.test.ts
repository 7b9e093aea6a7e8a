/**
 * PBX link ids are unique across the edge, so an id one domain deleted can be taken by another:
 * the link then starts empty, and the new domain sees nothing of the former link (its trace, its
 * response times).
 */
import { exports } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { getHeader } from '../../shared/message/index.ts';
import type { PbxLink } from '../../workers/pbx/pbx-link.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { challenge, FakePbx } from './support/fake-pbx.ts';
import { inLink, install, linkStub } from './support/pbx-links.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders } from './support/users.ts';

const ID = 'recycled-pbx';
const A_CONFIG = { host: 'pbx-a.example.com', transport: 'tcp', username: 'a-pbx-user', password: 'a pbx secret', max_random_initial_delay: 0 };
const B_CONFIG = { host: '127.0.0.1', port: 9, transport: 'tcp', register: false };

async function api(path: string, headers: Record<string, string>, method = 'GET', body?: unknown): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

async function ring(clock: FakeClock): Promise<boolean> {
  const at = await runInDurableObject(linkStub(ID), (_instance: PbxLink, state) => state.storage.getAlarm());
  if (at === null) return false;
  clock.advanceTo(Math.max(clock.now(), at));
  return runDurableObjectAlarm(linkStub(ID));
}

describe('a PBX link id taken by another domain after its deletion', { timeout: 30_000 }, () => {
  it("shows the new domain nothing of the former link's trace or response times", async () => {
    const pbx = new FakePbx();
    const clock = new FakeClock(Date.UTC(2100, 0, 1));
    await install(ID, pbx, clock);
    // A's link registers to A's PBX: its trace and latency fill.
    expect((await api(`/pbx-links/${ID}`, operatorHeaders(), 'PUT', A_CONFIG)).status).toBe(201);
    expect(await ring(clock)).toBe(true);
    await inLink(ID, () => pbx.last.respond(401, [challenge('pbx-a.example.com', 'nonce-1')]));
    const contact = getHeader(pbx.requests.at(-1)!, 'Contact')!;
    await inLink(ID, () => pbx.last.respond(200, [{ name: 'Contact', value: `${contact};expires=600` }]));
    expect(await (await api(`/pbx-links/${ID}/trace?format=text`, operatorHeaders())).text()).toContain('a-pbx-user');

    // A deletes it (the link unregisters), B takes the id.
    expect((await api(`/pbx-links/${ID}`, operatorHeaders(), 'DELETE')).status).toBe(204);
    await inLink(ID, () => pbx.last.respond(200, []));
    const created = await api('/domains', operatorHeaders(), 'POST', { name: 'recycle-b.example' });
    const b = { Authorization: `Bearer ${((await created.json()) as { operator_token: { token: string } }).operator_token.token}`, 'Content-Type': 'application/json' };
    expect((await api(`/pbx-links/${ID}`, b, 'PUT', B_CONFIG)).status).toBe(201);

    const trace = await (await api(`/pbx-links/${ID}/trace?format=text`, b)).text();
    for (const marker of ['a-pbx-user', 'pbx-a.example.com']) expect(trace, trace).not.toContain(marker);
    const latency = (await (await api(`/pbx-links/${ID}/latency`, b)).json()) as { samples: unknown[] };
    expect(latency.samples).toEqual([]);
    expect(JSON.stringify(await (await api(`/pbx-links/${ID}`, b)).json())).not.toContain('pbx-a.example.com');
  });
});
