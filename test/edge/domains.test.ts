/**
 * A second domain (tenant) end to end: the operator creates `b.example` through the API (with its
 * first operator token) and two of its users with that token; real SIP.js and JsSIP packages in
 * headless Chromium register as those users through the shared `ws://127.0.0.1:PORT/sip` URL, with
 * URIs `user@b.example`, and the SIP.js user calls the JsSIP user: answered, audio received, hung
 * up, both sides see the end.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openPhonePage } from '../browser/support/chromium.ts';
import { startPageServer, type PageServer } from '../browser/support/page-server.ts';
import type { PhoneConfig } from '../browser/pages/phone-api.ts';
import { peerAvailable } from '../support/peers.ts';
import { startTestEdge, within, type TestEdge } from './support/test-edge.ts';

const available = peerAvailable('chromium');
const DOMAIN_B = 'b.example';

let edge: TestEdge;
let pages: PageServer;
let browser: Browser;
/** The operator token of `b.example`, as `POST /api/v1/domains` hands it over. */
let tokenB = '';

async function api(method: string, path: string, token: string, body: unknown): Promise<Response> {
  return fetch(new URL(`/api/v1${path}`, edge.edge.url), {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  if (!available) return;
  edge = await startTestEdge();
  const created = await api('POST', '/domains', edge.operatorToken, { name: DOMAIN_B, aliases: ['sip.b.example'] });
  expect(created.status).toBe(201);
  tokenB = ((await created.json()) as { operator_token: { token: string } }).operator_token.token;
  for (const username of ['bea', 'ben']) {
    const response = await api('PUT', `/users/${username}`, tokenB, { password: `${username} password b` });
    expect(response.status).toBe(201);
  }
  pages = await startPageServer();
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await edge?.stop();
});

function config(username: string): PhoneConfig {
  return { webSocketUrl: edge.webSocketUrl, domain: DOMAIN_B, username, password: `${username} password b` };
}

function packets(page: Page): Promise<number> {
  return within(5_000, 'getStats', page.evaluate(() => window.phone!.inboundAudioPackets()));
}

async function receivedSome(page: Page, who: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await packets(page)) === 0) {
    if (Date.now() > deadline) throw new Error(`${who}: no inbound audio packet within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe.skipIf(!available)('users of a second domain on the shared /sip URL, in Chromium', () => {
  it('register as user@b.example, and one calls the other: answered, audio flows, hung up', async () => {
    const sipjs = await openPhonePage(browser, pages.url('sipjs'));
    const jssip = await openPhonePage(browser, pages.url('jssip'));
    expect(edge.webSocketUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/sip$/);
    expect(await within(15_000, 'SIP.js register', sipjs.evaluate((c) => window.phone!.register(c), config('bea')))).toBe(200);
    expect(await within(15_000, 'JsSIP register', jssip.evaluate((c) => window.phone!.register(c), config('ben')))).toBe(200);
    // The edge challenged SIP.js with its own domain's realm, as bea's trace (read with b.example's token) shows.
    const trace = await fetch(new URL('/api/v1/users/bea/trace', edge.edge.url), { headers: { Authorization: `Bearer ${tokenB}` } });
    expect(trace.status).toBe(200);
    expect(await trace.text()).toContain('realm=\\"b.example\\"');

    const answered = jssip.evaluate(() => window.phone!.answerNextCall());
    await within(30_000, 'SIP.js call established', sipjs.evaluate(() => window.phone!.call('ben')));
    await within(30_000, 'JsSIP call established', answered);
    await receivedSome(sipjs, 'SIP.js');
    await receivedSome(jssip, 'JsSIP');

    const jssipEnded = jssip.evaluate(() => window.phone!.ended());
    await within(10_000, 'SIP.js hang-up', sipjs.evaluate(() => window.phone!.hangUp()));
    await within(10_000, 'SIP.js sees the end', sipjs.evaluate(() => window.phone!.ended()));
    await within(10_000, 'JsSIP sees the end', jssipEnded);
  }, 180_000);
});
