/**
 * Real softphones in real browsers: headless Debian Chromium loads the real SIP.js and JsSIP
 * packages in two pages, both register to the local edge, and the SIP.js user calls the JsSIP user
 * with Chromium's fake microphone. Media goes browser to browser over loopback (the edge passes the
 * SDP through); each side's getStats() must show inbound audio packets growing, and the hang-up
 * must reach both. Then a MESSAGE each way with a non-ASCII body.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerAvailable } from '../support/peers.ts';
import { startTestEdge, within, type TestEdge } from '../edge/support/test-edge.ts';
import { launchChromium, openPhonePage } from './support/chromium.ts';
import { startPageServer, type PageServer } from './support/page-server.ts';
import type { PhoneConfig } from './pages/phone-api.ts';

const available = peerAvailable('chromium');

/** 20 ms audio frames: 100 more packets is two more seconds of audio received. */
const GROWTH = 100;

let edge: TestEdge;
let pages: PageServer;
let browser: Browser;

beforeAll(async () => {
  if (!available) return;
  edge = await startTestEdge();
  await edge.createUser('sipjs-user', 'sipjs password');
  await edge.createUser('jssip-user', 'jssip password');
  pages = await startPageServer();
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await edge?.stop();
});

function config(username: string, password: string): PhoneConfig {
  return { webSocketUrl: edge.webSocketUrl, domain: edge.domain, username, password };
}

function packets(page: Page): Promise<number> {
  return within(5_000, 'getStats', page.evaluate(() => window.phone!.inboundAudioPackets()));
}

/** Polls until the page has received `count` inbound audio packets, or fails after `timeoutMs`. */
async function receivedAtLeast(page: Page, count: number, timeoutMs: number, who: string): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seen = await packets(page);
  while (seen < count) {
    if (Date.now() > deadline) throw new Error(`${who}: ${seen} inbound audio packets after ${timeoutMs} ms, wanted ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    seen = await packets(page);
  }
  return seen;
}

describe.skipIf(!available)('SIP.js and JsSIP in Chromium', () => {
  it('register, call with audio flowing both ways for seconds, and both see the hang-up', async () => {
    const sipjs = await openPhonePage(browser, pages.url('sipjs'));
    const jssip = await openPhonePage(browser, pages.url('jssip'));
    expect(await within(15_000, 'SIP.js register', sipjs.evaluate((c) => window.phone!.register(c), config('sipjs-user', 'sipjs password')))).toBe(200);
    expect(await within(15_000, 'JsSIP register', jssip.evaluate((c) => window.phone!.register(c), config('jssip-user', 'jssip password')))).toBe(200);

    const answered = jssip.evaluate(() => window.phone!.answerNextCall());
    await within(30_000, 'SIP.js call established', sipjs.evaluate(() => window.phone!.call('jssip-user')));
    await within(30_000, 'JsSIP call established', answered);

    // Audio flows and keeps flowing: each side first hears something, then GROWTH packets more.
    const sipjsStart = await receivedAtLeast(sipjs, 1, 20_000, 'SIP.js');
    const jssipStart = await receivedAtLeast(jssip, 1, 20_000, 'JsSIP');
    await receivedAtLeast(sipjs, sipjsStart + GROWTH, 30_000, 'SIP.js');
    await receivedAtLeast(jssip, jssipStart + GROWTH, 30_000, 'JsSIP');

    const jssipEnded = jssip.evaluate(() => window.phone!.ended());
    await within(10_000, 'SIP.js hang-up', sipjs.evaluate(() => window.phone!.hangUp()));
    await within(10_000, 'SIP.js sees the end', sipjs.evaluate(() => window.phone!.ended()));
    await within(10_000, 'JsSIP sees the end', jssipEnded);

    const greeting = 'Grüße aus dem Browser 👋 — ça va ? 你好';
    const atJsSip = jssip.evaluate(() => window.phone!.nextMessage());
    expect(await within(10_000, 'SIP.js MESSAGE', sipjs.evaluate((body) => window.phone!.sendMessage('jssip-user', body), greeting))).toBe(200);
    expect(await within(10_000, 'JsSIP got it', atJsSip)).toBe(greeting);
    const reply = 'Danke ✓ Ünïcödé';
    const atSipJs = sipjs.evaluate(() => window.phone!.nextMessage());
    expect(await within(10_000, 'JsSIP MESSAGE', jssip.evaluate((body) => window.phone!.sendMessage('sipjs-user', body), reply))).toBe(200);
    expect(await within(10_000, 'SIP.js got it', atSipJs)).toBe(reply);
  }, 180_000);
});
