/** PBX links through the operator API, and a link object with a fake PBX, clock and randomness put in. */
import { env, exports } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import type { LinkIdentity, PbxLinkConfig } from '../../../workers/pbx/link-config.ts';
import type { PbxLinkView } from '../../../workers/pbx/link-engine.ts';
import type { PbxLink } from '../../../workers/pbx/pbx-link.ts';
import { expect, vi } from 'vitest';
import { getHeader } from '../../../shared/message/index.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { FakePbx } from './fake-pbx.ts';
import { EDGE } from './sip-socket.ts';
import { operatorHeaders } from './users.ts';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { pointer?: string; parameter?: string; detail: string }[];
}

export function putLink(id: string, body: unknown): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1/pbx-links/${encodeURIComponent(id)}`, { method: 'PUT', headers: operatorHeaders(), body: JSON.stringify(body) });
}

export function getLink(id: string): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1/pbx-links/${encodeURIComponent(id)}`, { headers: operatorHeaders() });
}

export function deleteLink(id: string): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1/pbx-links/${encodeURIComponent(id)}`, { method: 'DELETE', headers: operatorHeaders() });
}

export async function linkView(id: string): Promise<PbxLinkView> {
  const response = await getLink(id);
  if (response.status !== 200) throw new Error(`GET pbx-link ${id}: ${response.status} ${await response.text()}`);
  return (await response.json()) as PbxLinkView;
}

export function linkStub(id: string) {
  return env.PBX_LINK.get(env.PBX_LINK.idFromName(id));
}

/**
 * Puts the fake PBX, the clock and a fixed random source into the link's object (before it loads),
 * and with `mediaFetch` the media node's control API its calls reach.
 */
export async function install(id: string, pbx: FakePbx, clock: FakeClock, random = 0, mediaFetch?: typeof fetch): Promise<void> {
  await runInDurableObject(linkStub(id), (instance: PbxLink) => {
    instance.connector = pbx.connector;
    instance.clock = clock;
    instance.random = () => random;
    if (mediaFetch !== undefined) instance.mediaFetch = mediaFetch;
  });
}

/** Moves `clock` on to the link's alarm, when one is set, and runs it (a registering link sends its first REGISTER then). */
export async function runDueAlarm(id: string, clock: FakeClock): Promise<void> {
  const at = await runInDurableObject(linkStub(id), (_instance: PbxLink, state) => state.storage.getAlarm());
  if (at !== null) {
    clock.advanceTo(Math.max(clock.now(), at));
    await runDurableObjectAlarm(linkStub(id));
  }
}

/**
 * A link created through the API and registered to its own fake PBX (200 with expires 600), whose
 * `endpoint` takes the calls to its contact; with `mediaFetch` its calls reach that media node.
 */
export async function registeredLink(id: string, endpoint: string, mediaFetch?: typeof fetch): Promise<{ id: string; pbx: FakePbx; contact: string }> {
  const pbx = new FakePbx();
  const clock = new FakeClock(Date.now());
  await install(id, pbx, clock, 0, mediaFetch);
  expect((await putLink(id, { host: 'pbx.example', transport: 'tcp', username: 'edge', password: 'pw', endpoint, max_random_initial_delay: 0 })).status).toBe(201);
  await runDueAlarm(id, clock);
  const register = await vi.waitFor(() => {
    const found = pbx.requests.find((request) => request.method === 'REGISTER');
    if (found === undefined) throw new Error('no REGISTER yet');
    return found;
  }, { timeout: 5_000 });
  const contact = getHeader(register, 'Contact')!;
  await inLink(id, () => pbx.last.respond(200, [{ name: 'Contact', value: `${contact};expires=600` }], register));
  return { id, pbx, contact: contact.slice(contact.indexOf('<') + 1, contact.indexOf('>')) };
}

/** Runs `act` inside the link's object (socket events must), then lets its alarm sync settle. */
export async function inLink(id: string, act: () => void): Promise<void> {
  await runInDurableObject(linkStub(id), async (instance: PbxLink) => {
    act();
    await instance.getLink();
  });
}

/** A configuration as the API would store it, for tests of the pure modules. */
export function linkConfig(overrides: Partial<PbxLinkConfig> = {}): PbxLinkConfig {
  return {
    id: 'pbx',
    host: 'pbx.example.com',
    port: 5060,
    transport: 'tcp',
    register: true,
    can_terminate: true,
    username: 'alice',
    client_uri: 'sip:alice@pbx.example.com',
    server_uri: 'sip:pbx.example.com',
    contact_user: 's',
    expiration: 3600,
    max_retries: 10,
    retry_interval: 60,
    forbidden_retry_interval: 0,
    fatal_retry_interval: 0,
    auth_rejection_permanent: true,
    max_random_initial_delay: 10,
    line: false,
    support_path: false,
    support_outbound: false,
    ...overrides,
  };
}

export const IDENTITY: LinkIdentity = { contactHost: 'abcdef012345.invalid', instanceId: '00000000-0000-4000-8000-000000000001', line: 'a1b2c3d4' };
