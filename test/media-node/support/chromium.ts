/**
 * Headless Debian Chromium for media tests (FIELD-NOTES "Browsers in tests"): playwright-core with
 * `executablePath: '/usr/bin/chromium'`, a fresh profile, and everything that would leave the machine
 * switched off: no STUN servers in the page, every host name resolving to nothing, no mDNS host
 * candidates (so its candidates are this machine's own addresses), no background networking. When
 * Chromium is missing the tests skip loudly, unless SIPEDGE_REQUIRE_PEERS=1 makes that an error.
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { PEERS, peerAvailable } from '../../support/peers.ts';

export const CHROMIUM = PEERS.chromium.binary;

export function chromiumAvailable(): boolean {
  return peerAvailable('chromium');
}

export interface HeadlessChromium {
  readonly browser: Browser;
  readonly page: Page;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<HeadlessChromium> {
  // Playwright gives every launch a fresh temporary profile of its own.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--autoplay-policy=no-user-gesture-required',
      '--host-resolver-rules=MAP * ~NOTFOUND',
      // Chromium honours only the last --disable-features flag: one merged list.
      '--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,OptimizationHints,Translate',
    ],
  });
  const page = await browser.newPage();
  return {
    browser,
    page,
    close: () => browser.close(),
  };
}
