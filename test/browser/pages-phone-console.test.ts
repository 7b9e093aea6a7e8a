/**
 * The web pages as a user and an operator use them, in headless Debian Chromium against the local
 * edge serving the built pages (`[assets]`): alice and bob sign in on /phone (phone-sized
 * windows), alice calls bob from the dial pad, bob's phone rings and he answers, both see "in
 * call" and the other party's level meter move (Chromium's fake microphone, browser to browser over
 * loopback), alice hangs up and both histories show the call; a chat message goes from alice to
 * bob; then the operator signs in on /console and opens bob's SIP trace as a ladder with INVITE,
 * 200 and BYE, alice's leg included, and downloads it as a pcap; the console also lists users and
 * PBX links and answers a route dry-run; its Calls panel lists the call with its ladder and pcap,
 * and draws jitter, loss and MOS charts once a media node's report is filed with it. A second call is held, resumed and transferred (REFER) to
 * carol; last, the phone registers again by itself after the edge restarts. Screenshots go to
 * test-results/screenshots/.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestSigner } from '../../shared/signing/index.ts';
import { ROOT, startEdge, type RunningEdge } from '../../workers/local/edge-runner.ts';
import { peerAvailable } from '../support/peers.ts';
import { launchChromium } from './support/chromium.ts';

const available = peerAvailable('chromium');
const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');
const PHONE_SIZE = { width: 375, height: 812 };
const DESKTOP_SIZE = { width: 1280, height: 900 };
const USERS = { alice: 'alice pass 1', bob: 'bob pass 2', carol: 'carol pass 3' } as const;

let edge: RunningEdge;
let stateDir: string;
let browser: Browser;
const token = randomBytes(18).toString('base64url');
const vars = { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: token, SIPEDGE_MEDIA_SECRET: randomBytes(32).toString('base64url') };

beforeAll(async () => {
  if (!available) return;
  // The pages as `npm run build:web` left them (`npm test` builds them first); built here only when
  // absent: rebuilding would empty the folder under edges that other test files are starting.
  if (!existsSync(join(ROOT, 'workers/web/dist/phone.html'))) await build({ configFile: join(ROOT, 'workers/web/vite.config.ts'), logLevel: 'warn' });
  stateDir = mkdtempSync(join(tmpdir(), 'sipedge-pages-test-'));
  edge = await startEdge({ port: 0, persistTo: stateDir, vars });
  for (const [username, password] of Object.entries(USERS)) {
    const response = await fetch(new URL(`/api/v1/users/${username}`, edge.url), {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ password, displayName: username[0]?.toUpperCase() + username.slice(1) }),
    });
    if (!response.ok) throw new Error(`PUT /api/v1/users/${username}: ${response.status}`);
  }
  browser = await launchChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await edge?.stop();
  if (stateDir !== undefined) rmSync(stateDir, { recursive: true, force: true });
});

/**
 * A browser context of its own. The page's WebRTC is kept on loopback the way the other browser
 * tests do it (FIELD-NOTES "Browsers in tests"): its SDP carries only 127.0.0.1 candidates.
 */
async function newContext(viewport: { width: number; height: number }): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport, permissions: ['microphone'] });
  await context.addInitScript(() => {
    const loopbackOnly = (sdp: string): string =>
      sdp
        .split('\r\n')
        .filter((line) => !line.startsWith('a=candidate:') || / udp \d+ 127\.0\.0\.1 \d+ typ host/i.test(line))
        .map((line) => (line.startsWith('c=IN IP4 ') ? 'c=IN IP4 127.0.0.1' : line))
        .join('\r\n');
    const Native = window.RTCPeerConnection;
    const filtered = (description: RTCSessionDescription | null): RTCSessionDescription | null =>
      description === null ? null : new RTCSessionDescription({ type: description.type, sdp: loopbackOnly(description.sdp) });
    class LoopbackPeerConnection extends Native {
      override get localDescription(): RTCSessionDescription | null {
        return filtered(super.localDescription);
      }
    }
    window.RTCPeerConnection = LoopbackPeerConnection;
  });
  return context;
}

async function openPage(context: BrowserContext, path: string): Promise<Page> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const response = await page.goto(new URL(path, edge.url).href, { timeout: 15_000 });
  expect(response?.status(), `${path} answers`).toBe(200);
  expect(errors).toEqual([]);
  return page;
}

async function signInPhone(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function callState(page: Page, text: string): Promise<void> {
  await page.locator('#call-state', { hasText: text }).waitFor({ timeout: 30_000 });
}

/** The call card said the call ended (it hides itself a few seconds later, so it may be hidden by now). */
async function callEnded(page: Page): Promise<void> {
  await page.locator('#call-state', { hasText: 'ended' }).waitFor({ state: 'attached', timeout: 30_000 });
}

/** Waits until the other party's level meter shows sound (above 0.02 of full scale). */
async function remoteLevelMoves(page: Page): Promise<number> {
  await page.waitForFunction(() => (document.querySelector<HTMLMeterElement>('#remote-level')?.value ?? 0) > 0.02, undefined, { timeout: 30_000, polling: 100 });
  return page.locator('#remote-level').evaluate((meter) => (meter as HTMLMeterElement).value);
}

function shot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

describe.skipIf(!available)('the /phone and /console pages', () => {
  it('every control on both pages has a name, and signing in works from the keyboard alone', async () => {
    const context = await newContext(PHONE_SIZE);
    for (const path of ['/phone', '/console']) {
      const page = await openPage(context, path);
      const unnamed = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('input, select, textarea, meter, button')]
          .filter((control) => {
            const labelled = ((control as HTMLInputElement).labels?.length ?? 0) > 0;
            return !labelled && !control.getAttribute('aria-label') && (control.textContent ?? '').trim() === '';
          })
          .map((control) => control.id || control.outerHTML.slice(0, 60)),
      );
      expect(unnamed, `${path}: controls without a name`).toEqual([]);
      await page.close();
    }
    const page = await openPage(context, '/phone');
    await page.keyboard.press('Tab'); // the skip link
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('username');
    await page.keyboard.type('bob');
    await page.keyboard.press('Tab');
    await page.keyboard.type(USERS.bob);
    await page.keyboard.press('Enter');
    await page.locator('#registration', { hasText: 'Registered' }).waitFor({ timeout: 20_000 });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('dial-target');
    // The tabs follow the arrow keys.
    await page.getByRole('tab', { name: 'Dial' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'Contacts' }).getAttribute('aria-selected')).toBe('true');
    expect(await page.locator('#panel-contacts').isVisible()).toBe(true);
    // Settings lists the microphones (Chromium's fake one) besides the system default.
    await page.getByRole('tab', { name: 'Settings' }).click();
    await expect.poll(() => page.locator('#microphone option').count(), { timeout: 10_000 }).toBeGreaterThan(1);
    await context.close();
  }, 60_000);

  it('a wrong password is refused on /phone with a clear message', async () => {
    const context = await newContext(PHONE_SIZE);
    const page = await openPage(context, '/phone');
    await signInPhone(page, 'alice', 'not the password');
    await expect.poll(() => page.getByRole('alert').first().textContent(), { timeout: 20_000 }).toBe('Wrong username or password.');
    expect(await page.locator('#registration').textContent()).toBe('Signed out');
    await context.close();
  }, 60_000);

  it('alice calls bob, both hear each other, hang up, chat, and the console draws the ladder', async () => {
    const aliceContext = await newContext(PHONE_SIZE);
    const bobContext = await newContext(PHONE_SIZE);
    const alice = await openPage(aliceContext, '/phone');
    const bob = await openPage(bobContext, '/phone');
    await shot(alice, 'phone-sign-in');

    await signInPhone(alice, 'alice', USERS.alice);
    await signInPhone(bob, 'bob', USERS.bob);
    await alice.locator('#registration', { hasText: 'Registered' }).waitFor({ timeout: 20_000 });
    await bob.locator('#registration', { hasText: 'Registered' }).waitFor({ timeout: 20_000 });

    // Presence: alice adds bob as a contact and sees him available (he is registered).
    await alice.getByRole('tab', { name: 'Contacts' }).click();
    await alice.getByLabel('Add a contact').fill('bob');
    await alice.getByRole('button', { name: 'Add', exact: true }).click();
    await alice.locator('#contacts li', { hasText: 'available' }).waitFor({ timeout: 20_000 });

    // Alice dials bob on the dial pad; bob's phone rings; he answers.
    await alice.getByRole('tab', { name: 'Dial' }).click();
    await alice.getByLabel('Number or user').fill('bob');
    await alice.getByRole('button', { name: 'Call', exact: true }).click();
    await callState(bob, 'incoming');
    expect(await bob.locator('#call-peer').textContent()).toContain('alice');
    await shot(bob, 'phone-incoming-call');
    await bob.getByRole('button', { name: 'Answer' }).click();
    await callState(alice, 'in call');
    await callState(bob, 'in call');

    // Each side's meter for the other party shows sound: audio flows both ways.
    expect(await remoteLevelMoves(alice)).toBeGreaterThan(0.02);
    expect(await remoteLevelMoves(bob)).toBeGreaterThan(0.02);
    await alice.locator('#call-timer', { hasText: /^0:0[1-9]|^0:[1-5]\d/ }).waitFor({ timeout: 15_000 });
    // While the call lasts, alice's contact list shows bob busy (dialog event package).
    await alice.getByRole('tab', { name: 'Contacts' }).click();
    await alice.locator('#contacts li', { hasText: 'on a call' }).waitFor({ timeout: 20_000 });
    await shot(alice, 'phone-in-call');

    // Mute is shown as pressed and can be undone.
    await alice.getByRole('button', { name: 'Mute' }).click();
    expect(await alice.locator('#mute').getAttribute('aria-pressed')).toBe('true');
    await alice.getByRole('button', { name: 'Unmute' }).click();

    await alice.getByRole('button', { name: 'Hang up' }).click();
    await callEnded(alice);
    await callEnded(bob);
    await bob.getByRole('tab', { name: 'History' }).click();
    await bob.locator('#history li', { hasText: 'from alice' }).waitFor({ timeout: 10_000 });
    await alice.getByRole('tab', { name: 'History' }).click();
    await alice.locator('#history li', { hasText: 'to bob' }).waitFor({ timeout: 10_000 });

    // Chat: alice writes to bob; bob sees it arrive in his conversation with alice.
    const greeting = 'Hallo Bob, Grüße ✓';
    await alice.getByRole('tab', { name: 'Chat' }).click();
    await alice.getByLabel('Conversation with').fill('bob');
    await alice.getByLabel('Message', { exact: true }).fill(greeting);
    await alice.getByRole('button', { name: 'Send' }).click();
    await alice.locator('#chat-log li', { hasText: 'delivered' }).waitFor({ timeout: 15_000 });
    await bob.locator('#unread', { hasText: '1 new' }).waitFor({ timeout: 15_000 });
    await bob.getByRole('tab', { name: /Chat/ }).click();
    await bob.locator('#chat-log li', { hasText: greeting }).waitFor({ timeout: 10_000 });
    expect(await bob.getByLabel('Conversation with').inputValue()).toBe('alice');
    await shot(bob, 'phone-chat');

    // The operator console: bob's trace as a ladder.
    const link = await fetch(new URL('/api/v1/pbx-links/office-pbx', edge.url), {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ host: '127.0.0.1', port: 5099, transport: 'tcp', register: false, can_terminate: false }),
    });
    expect(link.ok).toBe(true);
    const consoleContext = await newContext(DESKTOP_SIZE);
    const operator = await openPage(consoleContext, '/console');
    await operator.getByLabel('Operator token').fill(token);
    await operator.getByRole('button', { name: 'Sign in' }).click();
    // Users listed, PBX links with their state.
    await operator.locator('#users tr', { hasText: 'carol' }).waitFor({ timeout: 15_000 });
    await operator.locator('#links tr', { hasText: 'office-pbx' }).locator('.status', { hasText: 'unregistered' }).waitFor({ timeout: 15_000 });
    // The route dry-run answers in words (no trunk can terminate here, so it is refused).
    await operator.getByLabel('Calling user').fill('alice');
    await operator.getByLabel('Dialled number').fill('+4930123456');
    await operator.getByRole('button', { name: 'Dry run' }).click();
    await operator.locator('#dry-result', { hasText: /Refused|Would try/ }).waitFor({ timeout: 15_000 });

    await operator.getByLabel('User', { exact: true }).fill('bob');
    await operator.getByRole('button', { name: 'Show trace' }).click();
    const choice = operator.getByLabel('Call or dialog');
    await expect.poll(async () => (await choice.locator('option').allTextContents()).find((text) => text.startsWith('INVITE with alice')), { timeout: 15_000 }).toBeDefined();
    const inviteOption = (await choice.locator('option').allTextContents()).findIndex((text) => text.startsWith('INVITE with alice'));
    await choice.selectOption(String(inviteOption));
    const ladder = operator.locator('.ladder');
    await ladder.locator('li[data-label="INVITE"]').first().waitFor({ timeout: 15_000 });
    const labels = await ladder.locator('li').evaluateAll((items) => items.map((item) => item.getAttribute('data-label')));
    expect(labels).toContain('INVITE');
    expect(labels).toContain('200 OK');
    expect(labels).toContain('BYE');
    // Alice's leg is drawn too: her INVITE to the edge and the edge's INVITE to bob.
    expect(labels.filter((label) => label === 'INVITE').length).toBeGreaterThanOrEqual(2);
    expect(await operator.locator('.ladder-head').textContent()).toContain("alice's device");
    // Each message opens to its full text.
    const firstInvite = ladder.locator('li[data-label="INVITE"]').first();
    await firstInvite.getByRole('button').click();
    expect(await firstInvite.locator('pre').textContent()).toMatch(/^INVITE sip:/);
    // The dialog as a capture file.
    const download = operator.waitForEvent('download', { timeout: 15_000 });
    await operator.getByRole('button', { name: 'Download pcap' }).click();
    const capture = readFileSync(await (await download).path());
    expect(['d4c3b2a1', 'a1b2c3d4', '4d3cb2a1', 'a1b23c4d', '0a0d0d0a']).toContain(capture.subarray(0, 4).toString('hex'));
    await shot(operator, 'console-desktop');
    await firstInvite.getByRole('button').click();
    expect(await firstInvite.locator('pre').isHidden()).toBe(true);
    await operator.setViewportSize(PHONE_SIZE);
    await shot(operator, 'console-phone');

    // The Calls panel lists the call, browser to browser: signalling only, no media node.
    await operator.setViewportSize(DESKTOP_SIZE);
    const row = operator.locator('#calls tr', { hasText: 'alice → bob' }).first();
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('200 OK');
    await row.getByRole('button', { name: /^Show the call from alice to bob/ }).click();
    const callLadder = operator.locator('#call-ladder .ladder');
    await callLadder.locator('li[data-label="BYE"]').first().waitFor({ timeout: 15_000 });
    const callLabels = await callLadder.locator('li').evaluateAll((items) => items.map((item) => item.getAttribute('data-label')));
    expect(callLabels.filter((label) => label === 'INVITE').length).toBeGreaterThanOrEqual(2);
    expect(callLabels).toContain('200 OK');
    const facts = await operator.locator('#call-facts').textContent();
    expect(facts).toContain('caller (BYE from the caller)');
    expect(facts).toContain('no media node');
    expect(await operator.locator('#call-charts').textContent()).toContain('No quality charts');
    const callPcap = operator.waitForEvent('download', { timeout: 15_000 });
    await operator.locator('#call-pcap').click();
    expect(readFileSync(await (await callPcap).path()).length).toBeGreaterThan(24);

    // A call whose media a node carried: its session-end report (signed as a node signs it) puts
    // jitter, loss and MOS charts per direction under the call, each with a text summary.
    const id = await row.getAttribute('data-call');
    const sample = (t: number, jitterMs: number, lost: number, mos: number | null) => ({ t, packets: 250 - lost, lost, lossPercent: (lost / 250) * 100, jitterMs, roundTripMs: 30, mos });
    const report = JSON.stringify({
      nodeId: 'media-1',
      sessionId: `link.office-pbx.${id}`,
      reason: 'closed',
      endedAt: new Date().toISOString(),
      requested: true,
      stats: { codecs: { browser: 'opus/48000', pbx: 'PCMU/8000' }, browserToPbx: { received: { packets: 740, lost: 10, lossPercent: 1.3, jitterMs: 4, mos: 4.2 } }, pbxToBrowser: { received: { packets: 748, lost: 2, lossPercent: 0.3, jitterMs: 2, mos: 4.35 } } },
      samples: { intervalMs: 5000, browserToPbx: [sample(5, 3, 0, 4.4), sample(10, 6, 7, 4.0), sample(15, 4, 3, 4.25)], pbxToBrowser: [sample(5, 2, 0, 4.4), sample(10, 2, 2, 4.35), sample(15, 1.5, 0, null)] },
    });
    const path = '/api/v1/media-nodes/session-ended';
    const signed = await new RequestSigner(vars.SIPEDGE_MEDIA_SECRET).sign({ method: 'POST', path, body: report });
    const accepted = await fetch(new URL(path, edge.url), { method: 'POST', headers: { 'Content-Type': 'application/json', ...signed }, body: report });
    expect(accepted.status).toBe(200);
    await row.getByRole('button', { name: /^Show the call/ }).click();
    const mos = operator.getByRole('img', { name: 'MOS', exact: true });
    await mos.waitFor({ timeout: 15_000 });
    expect(await mos.locator('path').count()).toBe(2);
    expect(await operator.getByRole('img', { name: 'Jitter (ms)' }).locator('path').count()).toBe(2);
    expect(await operator.locator('#chart-loss-summary').textContent()).toMatch(/Browser → PBX: mean 1\.3 %, worst 2\.8 % over 3 samples/);
    expect(await operator.locator('#chart-mos-summary').textContent()).toContain('PBX → browser: mean 4.38 MOS, worst 4.35 MOS over 2 samples.');
    await operator.locator('#calls-card').screenshot({ path: join(SCREENSHOTS, 'console-calls.png') });

    // Bob's register log (his 200 OK among the rows) and the latency of his device, then the PBX link's response times, at phone width.
    await operator.setViewportSize(PHONE_SIZE);
    await operator.getByRole('button', { name: 'Register log and latency of bob' }).click();
    const registerLog = operator.getByRole('table', { name: 'Register log of bob, newest first' });
    await registerLog.waitFor({ timeout: 15_000 });
    expect(await registerLog.locator('tbody tr', { hasText: '200 OK' }).count()).toBeGreaterThanOrEqual(1);
    const devices = operator.getByRole('region', { name: 'Device latency of bob' });
    // Bob's phone answered the edge's INVITE: its response times are charted and summed up in words.
    await devices.getByRole('img', { name: /^Response times of device \d+/ }).first().waitFor({ timeout: 15_000 });
    expect((await devices.locator('.latency-summary').allTextContents()).join(' ')).toMatch(/p50 \d+ ms, p95 \d+ ms/);
    await operator.getByRole('button', { name: 'Response time chart of office-pbx' }).click();
    const linkLatency = operator.getByRole('region', { name: 'Response times of PBX link office-pbx' });
    await linkLatency.waitFor({ timeout: 15_000 });
    expect(await linkLatency.textContent()).toContain('Registration now: unregistered');
    await operator.getByRole('heading', { name: 'Register log and latency' }).locator('..').screenshot({ path: join(SCREENSHOTS, 'console-logs.png') });

    await Promise.all([aliceContext.close(), bobContext.close(), consoleContext.close()]);
  }, 240_000);

  it('the console makes a one-time sign-in link that signs carol in on /phone, once', async () => {
    const consoleContext = await newContext(DESKTOP_SIZE);
    const operator = await openPage(consoleContext, '/console');
    await operator.getByLabel('Operator token').fill(token);
    await operator.getByRole('button', { name: 'Sign in' }).click();
    await operator.getByRole('button', { name: 'Sign-in link for carol' }).click();
    await operator.getByLabel('Password to include (optional)').fill(USERS.carol);
    await operator.getByRole('button', { name: 'Create link' }).click();
    const linkField = operator.getByLabel(/^Link/);
    await expect.poll(() => linkField.inputValue(), { timeout: 15_000 }).toMatch(/\/phone#provision=/);
    const link = await linkField.inputValue();
    expect(await operator.locator('#link-qr svg').count()).toBe(1);

    const phoneContext = await newContext(PHONE_SIZE);
    const phone = await phoneContext.newPage();
    await phone.goto(link);
    await phone.locator('#registration', { hasText: 'Registered' }).waitFor({ timeout: 20_000 });
    expect(new URL(phone.url()).hash).toBe('');
    // The link opens once.
    const again = await phoneContext.newPage();
    await again.goto(link);
    await again.locator('#sign-in-error', { hasText: 'already used' }).waitFor({ timeout: 15_000 });
    await Promise.all([consoleContext.close(), phoneContext.close()]);
  }, 120_000);

  it('hold and resume, then a blind transfer: bob hands alice over to carol', async () => {
    const contexts = await Promise.all([newContext(PHONE_SIZE), newContext(PHONE_SIZE), newContext(PHONE_SIZE)]);
    const [alice, bob, carol] = await Promise.all(contexts.map((context) => openPage(context, '/phone')));
    if (alice === undefined || bob === undefined || carol === undefined) throw new Error('three pages');
    for (const [page, username] of [[alice, 'alice'], [bob, 'bob'], [carol, 'carol']] as const) {
      await signInPhone(page, username, USERS[username]);
      await page.locator('#registration', { hasText: 'Registered' }).waitFor({ timeout: 20_000 });
    }

    await alice.getByLabel('Number or user').fill('bob');
    await alice.getByRole('button', { name: 'Call', exact: true }).click();
    await callState(bob, 'incoming');
    await bob.getByRole('button', { name: 'Answer' }).click();
    await callState(alice, 'in call');
    await callState(bob, 'in call');

    await bob.getByRole('button', { name: 'Hold' }).click();
    await callState(bob, 'on hold');
    expect(await bob.locator('#hold').getAttribute('aria-pressed')).toBe('true');
    await bob.getByRole('button', { name: 'Resume' }).click();
    await callState(bob, 'in call');
    expect(await bob.locator('#hold').getAttribute('aria-pressed')).toBe('false');

    await bob.getByRole('button', { name: 'Transfer', exact: true }).first().click();
    await bob.getByLabel('Transfer to').fill('carol');
    await bob.locator('#transfer').getByRole('button', { name: 'Transfer' }).click();
    await callState(carol, 'incoming');
    expect(await carol.locator('#call-peer').textContent()).toContain('alice');
    await callEnded(bob);
    await carol.getByRole('button', { name: 'Answer' }).click();
    await callState(carol, 'in call');
    await callState(alice, 'in call');
    expect(await alice.locator('#call-peer').textContent()).toBe('Call to carol');
    expect(await remoteLevelMoves(alice)).toBeGreaterThan(0.02);
    expect(await remoteLevelMoves(carol)).toBeGreaterThan(0.02);
    await shot(alice, 'phone-after-transfer');

    await carol.getByRole('button', { name: 'Hang up' }).click();
    await callEnded(alice);
    await alice.getByRole('tab', { name: 'History' }).click();
    await alice.locator('#history li', { hasText: /→ to carol.*hung up/ }).waitFor({ timeout: 10_000 });
    await alice.locator('#history li', { hasText: /→ to bob.*transferred to carol/ }).waitFor({ timeout: 10_000 });
    await Promise.all(contexts.map((context) => context.close()));
  }, 240_000);

  // Last: it restarts the edge.
  it('the phone registers again by itself after the edge restarts', async () => {
    const context = await newContext(PHONE_SIZE);
    const page = await openPage(context, '/phone');
    await signInPhone(page, 'alice', USERS.alice);
    await page.locator('#registration', { hasText: 'Registered' }).waitFor({ timeout: 20_000 });
    const port = Number(edge.url.port);
    await edge.stop();
    await page.locator('#registration', { hasText: 'Reconnecting' }).waitFor({ timeout: 20_000 });
    edge = await startEdge({ port, persistTo: stateDir, vars });
    await page.locator('#registration', { hasText: 'Registered' }).waitFor({ timeout: 60_000 });
    await context.close();
  }, 120_000);
});
