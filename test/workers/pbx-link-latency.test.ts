/**
 * A PbxLink's SIP transaction response times, end to end inside workerd with a fake PBX behind the
 * connector seam and a fake clock: the time from each request on the link's flow to its first
 * response, the qualify OPTIONS of an idle link, timeouts, and `GET /api/v1/pbx-links/:id/latency`.
 */
import { exports } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { getHeader } from '../../shared/message/index.ts';
import type { LinkLatencyView } from '../../workers/pbx/link-latency.ts';
import type { PbxLink } from '../../workers/pbx/pbx-link.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { challenge, FakePbx } from './support/fake-pbx.ts';
import { inLink, install, linkStub, putLink, type ProblemBody } from './support/pbx-links.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders } from './support/users.ts';

// Far in the future, so that no alarm rings by itself: the test rings each one.
const T0 = Date.UTC(2100, 0, 1);
const CONFIG = { host: 'pbx.example.com', transport: 'tcp', username: 'alice', password: 'pbx secret', max_random_initial_delay: 0 };

let serial = 0;
interface Rig {
  readonly id: string;
  readonly pbx: FakePbx;
  readonly clock: FakeClock;
}

async function freshRig(): Promise<Rig> {
  serial += 1;
  const rig = { id: `latency-${serial}`, pbx: new FakePbx(), clock: new FakeClock(T0) };
  await install(rig.id, rig.pbx, rig.clock);
  return rig;
}

async function alarmAt(rig: Rig): Promise<number | null> {
  return runInDurableObject(linkStub(rig.id), (_instance: PbxLink, state) => state.storage.getAlarm());
}

/** Moves the clock to the armed alarm and rings it. */
async function ring(rig: Rig): Promise<void> {
  const at = await alarmAt(rig);
  if (at === null) throw new Error('no alarm armed');
  rig.clock.advanceTo(Math.max(rig.clock.now(), at));
  expect(await runDurableObjectAlarm(linkStub(rig.id))).toBe(true);
}

async function latency(id: string): Promise<LinkLatencyView> {
  const response = await exports.default.fetch(`${EDGE}/api/v1/pbx-links/${id}/latency`, { headers: operatorHeaders() });
  expect(response.status).toBe(200);
  return (await response.json()) as LinkLatencyView;
}

/** Rings alarms (keep-alives and the rest) until the link sends a request of `method`; answers when it did. */
async function ringUntilSent(rig: Rig, method: string): Promise<number> {
  const before = rig.pbx.requests.length;
  for (let rings = 0; rings < 20; rings += 1) {
    await ring(rig);
    if (rig.pbx.requests.slice(before).some((request) => request.method === method)) return rig.clock.now();
  }
  throw new Error(`no ${method} sent`);
}

/** PUT, first REGISTER, a 401 after `challengeMs`, the answered REGISTER's 200 after `okMs`. */
async function registered(rig: Rig, challengeMs: number, okMs: number, config: Record<string, unknown> = CONFIG): Promise<void> {
  expect((await putLink(rig.id, config)).status).toBe(201);
  await ring(rig);
  rig.clock.advance(challengeMs);
  await inLink(rig.id, () => rig.pbx.last.respond(401, [challenge('pbx.example.com', 'nonce-1')]));
  const contact = getHeader(rig.pbx.requests.at(-1)!, 'Contact')!;
  rig.clock.advance(okMs);
  await inLink(rig.id, () => rig.pbx.last.respond(200, [{ name: 'Contact', value: `${contact};expires=600` }]));
}

describe('SIP transaction response times toward a PBX link', () => {
  it('shows each REGISTER answered after so many milliseconds, and their p50, p95 and max', async () => {
    const rig = await freshRig();
    await registered(rig, 40, 120);
    const view = await latency(rig.id);
    expect(view.samples.map(({ method, status, ms }) => ({ method, status, ms }))).toEqual([
      { method: 'REGISTER', status: 401, ms: 40 },
      { method: 'REGISTER', status: 200, ms: 120 },
    ]);
    expect(view.summary).toEqual({ count: 2, p50_ms: 40, p95_ms: 120, max_ms: 120, timeouts: 0 });
    expect(view.methods.REGISTER).toEqual(view.summary);
    expect(view.qualify_frequency).toBe(0);
    expect(view.samples[0]?.at).toBe(new Date(T0 + 40).toISOString());
  });

  it('sends no OPTIONS when qualify_frequency is 0, up to the refresh', async () => {
    const rig = await freshRig();
    await registered(rig, 5, 5);
    const refreshedAt = await ringUntilSent(rig, 'REGISTER');
    expect(refreshedAt).toBe(T0 + 10 + 590_000);
    expect(rig.pbx.requests.map((request) => request.method)).not.toContain('OPTIONS');
  });

  it('qualifies an idle link with OPTIONS every qualify_frequency seconds and times the answer', async () => {
    const rig = await freshRig();
    await registered(rig, 10, 10, { ...CONFIG, qualify_frequency: 60 });
    const answeredAt = rig.clock.now();
    expect(await ringUntilSent(rig, 'OPTIONS')).toBe(answeredAt + 60_000);
    const options = rig.pbx.requests.at(-1)!;
    expect(options.method).toBe('OPTIONS');
    expect(options.uri).toBe('sip:pbx.example.com');
    rig.clock.advance(25);
    await inLink(rig.id, () => rig.pbx.last.respond(200));
    const view = await latency(rig.id);
    expect(view.methods.OPTIONS).toEqual({ count: 1, p50_ms: 25, p95_ms: 25, max_ms: 25, timeouts: 0 });
    expect(view.qualify_frequency).toBe(60);
    // The next qualify counts from that answer.
    const optionsAnsweredAt = rig.clock.now();
    expect(await ringUntilSent(rig, 'OPTIONS')).toBe(optionsAnsweredAt + 60_000);
  });

  it('counts a request without a response within 32 s as a timeout', async () => {
    const rig = await freshRig();
    await registered(rig, 10, 10, { ...CONFIG, qualify_frequency: 30 });
    await ringUntilSent(rig, 'OPTIONS');
    // The PBX never answers; the next qualify, 30 s later, finds the first one overdue.
    await ringUntilSent(rig, 'OPTIONS');
    rig.clock.advance(5_000);
    const view = await latency(rig.id);
    expect(view.methods.OPTIONS).toEqual({ count: 0, p50_ms: null, p95_ms: null, max_ms: null, timeouts: 1 });
    expect(view.samples.at(-1)).toMatchObject({ method: 'OPTIONS', status: null, ms: null });
  });
});

describe('the latency API', () => {
  it('refuses a qualify_frequency that is not 0-86400, naming the field', async () => {
    const response = await putLink('latency-bad', { ...CONFIG, qualify_frequency: -1 });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as ProblemBody;
    expect(problem.errors).toEqual([{ pointer: '#/qualify_frequency', detail: 'must be 0-86400' }]);
  });

  it('answers 404 for a link that does not exist and 401 without a token', async () => {
    const missing = await exports.default.fetch(`${EDGE}/api/v1/pbx-links/nowhere/latency`, { headers: operatorHeaders() });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ProblemBody).detail).toBe('there is no PBX link "nowhere"');
    const anonymous = await exports.default.fetch(`${EDGE}/api/v1/pbx-links/nowhere/latency`);
    expect(anonymous.status).toBe(401);
  });
});
