/**
 * Call records of calls through a PbxLink, every part real: the edge in workerd, a media node
 * process sampling quality every 500 ms, Kamailio as the PBX, baresip as extension 1001 (answers at
 * once, plays a tone), and SIP.js in headless Chromium with its fake microphone.
 *
 * The browser user calls 1001, then 1001 calls the browser user; after each call `/api/v1/calls`
 * has its record: outbound or inbound via the link, answered, ended, who hung up, and the media
 * node's figures per direction with quality samples that add up to them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type RunningEdge } from '../../workers/local/edge-runner.ts';
import { launchChromium, openPhonePage } from '../browser/support/chromium.ts';
import { startPageServer, type PageServer } from '../browser/support/page-server.ts';
import { within } from '../edge/support/test-edge.ts';
import { peerAvailable } from '../support/peers.ts';
import { startBaresip, type RunningBaresip } from './support/baresip.ts';
import { startPbx, type RunningPbx } from './support/kamailio-pbx.ts';
import { untilLinkRegistered, untilNodeHealthy } from './support/media-edge.ts';
import { startMediaNode, type RunningMediaNode } from './support/media-node.ts';
import { eventually } from './support/net.ts';

const available = peerAvailable('kamailio') && peerAvailable('baresip') && peerAvailable('chromium');

const SECRET = randomBytes(32).toString('base64url');
const TOKEN = randomBytes(18).toString('base64url');
const LINK_PASSWORD = 'link-secret';
const EXTENSION_PASSWORD = 'extension-secret';
const ALICE_PASSWORD = 'alice password';
const HEARTBEAT_MS = 3000;
const LINK = { host: '127.0.0.1', transport: 'tcp', register: true, username: 'edge', password: LINK_PASSWORD, endpoint: 'alice', expiration: 300, max_random_initial_delay: 0 };

interface Sample {
  readonly t: number;
  readonly packets: number;
  readonly mos: number | null;
}

interface CallRecord {
  readonly id: string;
  readonly live: boolean;
  readonly answeredAt: string | null;
  readonly direction: string;
  readonly link: string | null;
  readonly caller: string;
  readonly callee: string;
  readonly user: string | null;
  readonly sipCallId: string | null;
  readonly status: number | null;
  readonly endedBy: string | null;
  readonly media: null | {
    readonly nodeId: string;
    readonly summary: Record<'browserToPbx' | 'pbxToBrowser', { packets: number; mos: number } | null>;
    readonly samples?: Record<'browserToPbx' | 'pbxToBrowser', Sample[]> & { intervalMs: number };
  };
}

let edge: RunningEdge;
const stateDir = mkdtempSync(join(tmpdir(), 'sipedge-call-records-'));
let pbx: RunningPbx;
let node: RunningMediaNode;
let baresip: RunningBaresip;
let pages: PageServer;
let browser: Browser;
let alice: Page;

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(new URL(`/api/v1${path}`, edge.url), {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
}

/** The newest call's record, once it has ended and carries the media node's figures. */
async function newestFinishedCall(after: string | undefined): Promise<CallRecord> {
  return eventually('the call record with its media', 20_000, async () => {
    const { calls } = (await (await api('GET', '/calls?limit=1')).json()) as { calls: CallRecord[] };
    const call = calls[0];
    if (call === undefined || call.id === after || call.live || call.media === null) return undefined;
    return (await (await api('GET', `/calls/${call.id}`)).json()) as CallRecord;
  }, 250);
}

function expectMedia(call: CallRecord): void {
  expect(call.media?.nodeId).toBe('pbx-calls-node');
  for (const direction of ['browserToPbx', 'pbxToBrowser'] as const) {
    const summary = call.media?.summary[direction];
    const samples = call.media?.samples?.[direction] ?? [];
    expect(summary?.packets, direction).toBeGreaterThan(50);
    expect(summary?.mos, direction).toBeGreaterThan(3.5);
    // Samples every 500 ms over a call of seconds, adding up to the summary.
    expect(samples.length, direction).toBeGreaterThanOrEqual(3);
    expect(samples.reduce((sum, sample) => sum + sample.packets, 0), direction).toBe(summary?.packets);
    expect(samples.some((sample) => (sample.mos ?? 0) > 3.5), direction).toBe(true);
  }
  expect(call.media?.samples?.intervalMs).toBe(500);
}

beforeAll(async () => {
  if (!available) return;
  pbx = await startPbx({ edge: LINK_PASSWORD, '1001': EXTENSION_PASSWORD });
  edge = await startEdge({
    port: 0,
    persistTo: stateDir,
    vars: { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: TOKEN, SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_HEARTBEAT_MS: String(HEARTBEAT_MS) },
  });
  const domain = ((await (await fetch(new URL('/health', edge.url))).json()) as { domain: string }).domain;
  // The node's process takes this test's environment: samples every 500 ms.
  process.env.SIPEDGE_MEDIA_SAMPLE_INTERVAL_MS = '500';
  node = await startMediaNode(edge.url.href, SECRET, HEARTBEAT_MS);
  delete process.env.SIPEDGE_MEDIA_SAMPLE_INTERVAL_MS;
  baresip = await startBaresip({ user: '1001', password: EXTENSION_PASSWORD, registrarPort: pbx.udpPort });
  expect((await api('PUT', '/users/alice', { password: ALICE_PASSWORD })).ok).toBe(true);
  expect((await api('PUT', '/pbx-links/pbx', { ...LINK, port: pbx.tcpPort })).status).toBe(201);
  await untilLinkRegistered(api, 'pbx');
  await eventually('extension 1001 registered', 20_000, async () => (/AoR: 1001\b/.test(await pbx.registered()) ? true : undefined));
  await untilNodeHealthy(api);
  pages = await startPageServer();
  browser = await launchChromium();
  alice = await openPhonePage(browser, pages.url('sipjs'));
  const registered = await within(15_000, 'SIP.js register', alice.evaluate((config) => window.phone!.register(config), {
    webSocketUrl: `ws://127.0.0.1:${edge.url.port}/sip`,
    domain,
    username: 'alice',
    password: ALICE_PASSWORD,
  }));
  expect(registered).toBe(200);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await baresip?.stop();
  await node?.stop();
  await pbx?.stop();
  await edge?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

/** Waits until the browser has received `count` more audio packets than now. */
async function browserHears(count: number): Promise<void> {
  const packets = (): Promise<number> => within(5_000, 'getStats', alice.evaluate(() => window.phone!.inboundAudioPackets()));
  const start = await packets();
  await eventually(`${count} more inbound packets`, 30_000, async () => ((await packets()) >= start + count ? true : undefined), 250);
}

describe.skipIf(!available)('call records of calls through a PbxLink', () => {
  let previous: string | undefined;

  it('a browser user calls a PBX extension: outbound via the link, hung up by the caller, with the media figures', async () => {
    const mark = baresip.mark();
    await within(30_000, 'the call to 1001 established', alice.evaluate(() => window.phone!.call('1001')));
    await baresip.event('CALL_ESTABLISHED', 10_000, mark);
    await browserHears(100);
    const live = (await (await api('GET', '/calls?live=true')).json()) as { calls: CallRecord[] };
    expect(live.calls.map((call) => call.direction)).toEqual(['outbound']);
    const closed = baresip.event('CALL_CLOSED', 15_000, mark);
    await within(10_000, 'SIP.js hang-up', alice.evaluate(() => window.phone!.hangUp()));
    await closed;

    const call = await newestFinishedCall(undefined);
    expect(call).toMatchObject({ direction: 'outbound', link: 'pbx', caller: 'alice', callee: '1001', user: 'alice', status: 200, endedBy: 'caller' });
    expect(call.sipCallId).not.toBeNull();
    expectMedia(call);
    previous = call.id;
  }, 120_000);

  it('a PBX extension calls the browser user: inbound via the link, hung up by the PBX side, with the media figures', async () => {
    const mark = baresip.mark();
    const answered = alice.evaluate(() => window.phone!.answerNextCall());
    await baresip.command(`dial sip:edge@127.0.0.1:${pbx.udpPort}`);
    await within(30_000, 'the browser answered', answered);
    await baresip.event('CALL_ESTABLISHED', 15_000, mark);
    await browserHears(100);
    const ended = alice.evaluate(() => window.phone!.ended());
    await baresip.command('hangup');
    await within(15_000, 'the browser sees the PBX hang up', ended);

    const call = await newestFinishedCall(previous);
    expect(call).toMatchObject({ direction: 'inbound', link: 'pbx', caller: '1001', callee: 'alice', user: 'alice', status: 200, endedBy: 'caller' });
    expect(call.answeredAt).not.toBeNull();
    // The record names alice's own leg: her trace has its messages (the console's ladder).
    const trace = (await (await api('GET', `/users/alice/trace?callId=${encodeURIComponent(call.sipCallId ?? '')}`)).json()) as { records: { summary: string }[] };
    expect(trace.records.map((record) => record.summary.split(' ', 1)[0])).toContain('INVITE');
    expectMedia(call);
  }, 120_000);
});
