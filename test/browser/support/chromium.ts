/**
 * Headless Debian Chromium for the softphone tests (FIELD-NOTES "Browsers in tests"): playwright-core
 * with `executablePath: '/usr/bin/chromium'`, a fresh profile per launch, Chromium's fake
 * microphone, and nothing leaving the machine: every host name resolves to nothing (127.0.0.1
 * excepted, where the pages and the edge are), no mDNS candidates, loopback candidates allowed (the
 * pages keep only those, `pages/loopback-only.ts`), no background networking.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { PEERS } from '../../support/peers.ts';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: PEERS.chromium.binary,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--autoplay-policy=no-user-gesture-required',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      // Chromium honours only the last --disable-features flag: one merged list.
      '--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,OptimizationHints,Translate',
    ],
  });
}

/** A page of its own (own context: own cookies, own media) at `url`, once its `window.phone` exists. */
export async function openPhonePage(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext({ permissions: ['microphone'] });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url, { timeout: 15_000 });
  try {
    await page.waitForFunction(() => window.phone !== undefined, undefined, { timeout: 15_000 });
  } catch (error) {
    throw new Error(`${url} did not load: ${errors.join('; ') || String(error)}`);
  }
  return page;
}
