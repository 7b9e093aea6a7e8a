/**
 * Proxy registration with real parts: the edge in workerd, Kamailio as the PBX (digest auth, no
 * database), a media node process, baresip as extension 1001, and SIP.js in Node as the browser
 * user dana, whose PBX credentials (1002) the operator gave through the users API.
 *
 * When dana registers at the edge, the link registers 1002 to Kamailio over its TCP connection
 * (Kamailio's `ul.dump` shows the AOR 1002 bound); baresip dialling 1002 at Kamailio reaches the
 * link's connection, the link maps the Contact user 1002 back to dana, and dana's SIP.js rings
 * and answers. When dana unregisters at the edge, 1002's binding goes from Kamailio.
 *
 * With Chromium, erin (PBX user 1003) is SIP.js in a browser page: baresip's call to 1003 rings
 * her, she answers, and audio flows both ways through the media node (the browser's inbound RTP
 * grows; what baresip heard is not silence).
 */
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import type { Invitation } from 'sip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type RunningEdge } from '../../workers/local/edge-runner.ts';
import { launchChromium, openPhonePage } from '../browser/support/chromium.ts';
import { startPageServer, type PageServer } from '../browser/support/page-server.ts';
import { SipJsPhone } from '../edge/support/phones.ts';
import { within } from '../edge/support/test-edge.ts';
import { peerAvailable } from '../support/peers.ts';
import { startBaresip, type RunningBaresip } from './support/baresip.ts';
import { startPbx, type RunningPbx } from './support/kamailio-pbx.ts';
import { startMediaNode, type RunningMediaNode } from './support/media-node.ts';
import { eventually } from './support/net.ts';

const available = peerAvailable('kamailio') && peerAvailable('baresip');
const withBrowser = available && peerAvailable('chromium');

const SECRET = randomBytes(32).toString('base64url');
const TOKEN = randomBytes(18).toString('base64url');
const PBX_PASSWORD = 'dana at the pbx';
const EXTENSION_PASSWORD = 'extension-secret';
const DANA_PASSWORD = 'dana password';
const ERIN_PBX_PASSWORD = 'erin at the pbx';
const HEARTBEAT_MS = 3000;

let edge: RunningEdge;
let pbx: RunningPbx;
let node: RunningMediaNode;
let baresip: RunningBaresip;
let dana: SipJsPhone;
let domain: string;
let pages: PageServer | undefined;
let browser: Browser | undefined;

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(new URL(`/api/v1${path}`, edge.url), {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
}

async function pbxState(): Promise<string> {
  return ((await (await api('GET', '/users/dana/pbx-registration')).json()) as { state: string }).state;
}

function diagnostics(): string {
  return `\n--- kamailio\n${pbx.log().slice(-4000)}\n--- baresip\n${baresip.log().slice(-2000)}`;
}

beforeAll(async () => {
  if (!available) return;
  edge = await startEdge({ port: 0, vars: { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: TOKEN, SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_HEARTBEAT_MS: String(HEARTBEAT_MS) } });
  domain = ((await (await fetch(new URL('/health', edge.url))).json()) as { domain: string }).domain;
  pbx = await startPbx({ '1001': EXTENSION_PASSWORD, '1002': PBX_PASSWORD, '1003': ERIN_PBX_PASSWORD });
  node = await startMediaNode(edge.url.href, SECRET, HEARTBEAT_MS);
  baresip = await startBaresip({ user: '1001', password: EXTENSION_PASSWORD, registrarPort: pbx.udpPort });
  // The link registers nothing of its own: its connection carries dana's registration alone.
  const link = await api('PUT', '/pbx-links/office', { host: '127.0.0.1', port: pbx.tcpPort, transport: 'tcp', register: false, expiration: 300 });
  expect(link.status, await link.clone().text()).toBe(201);
  const user = await api('PUT', '/users/dana', { password: DANA_PASSWORD, pbx: { link: 'office', username: '1002', password: PBX_PASSWORD } });
  expect(user.status, await user.clone().text()).toBe(201);
  await eventually('extension 1001 registered', 20_000, async () => (/AoR: 1001\b/.test(await pbx.registered()) ? true : undefined));
  await eventually('the media node healthy at the edge', 20_000, async () => {
    const listing = (await (await api('GET', '/media-nodes')).json()) as { nodes: { health: string }[] };
    return listing.nodes.some((each) => each.health === 'healthy') ? true : undefined;
  });
  dana = new SipJsPhone({ webSocketUrl: `ws://127.0.0.1:${edge.url.port}/sip`, domain, username: 'dana', password: DANA_PASSWORD });
  await within(10_000, 'SIP.js connect', dana.start());
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await dana?.stop();
  await baresip?.stop();
  await node?.stop();
  await pbx?.stop();
  await edge?.stop();
});

describe.skipIf(!available)('proxy registration to Kamailio through a PbxLink', () => {
  it('binds the user\'s PBX AOR while the user is registered at the edge, rings the user for calls to it, and unbinds it after', async () => {
    expect(await pbxState()).toBe('unregistered');
    expect(await pbx.registered()).not.toMatch(/AoR: 1002\b/);

    dana.register();
    expect((await dana.nextOutcome()).status).toBe(200);
    try {
      await eventually('1002 bound at Kamailio', 20_000, async () => (/AoR: 1002\b/.test(await pbx.registered()) ? true : undefined));
      expect(await pbxState()).toBe('registered');
    } catch (error) {
      throw new Error(`${String(error)}${diagnostics()}`);
    }
    expect(await pbx.registered()).toMatch(/Address: sip:1002@[0-9a-f]{12}\.invalid;transport=tcp/);

    // Extension 1001 calls 1002: Kamailio sends the INVITE over the link's connection, the link rings dana.
    const mark = baresip.mark();
    await baresip.command(`dial sip:1002@127.0.0.1:${pbx.udpPort}`);
    let invitation: Invitation;
    try {
      invitation = await dana.invitations.next(20_000);
    } catch (error) {
      throw new Error(`${String(error)}${diagnostics()}`);
    }
    expect(invitation.request.from.uri.user).toBe('1001');
    await invitation.accept();
    await baresip.event('CALL_ESTABLISHED', 15_000, mark);
    const closed = baresip.event('CALL_CLOSED', 15_000, mark);
    await invitation.bye();
    await closed;

    // dana's last (only) binding goes: the link removes 1002's binding at Kamailio.
    await within(10_000, 'SIP.js unregister', dana.registerer.unregister());
    await eventually('1002 unbound at Kamailio', 20_000, async () => (/AoR: 1002\b/.test(await pbx.registered()) ? undefined : true));
    await eventually('the proxy registration shown unregistered', 10_000, async () => ((await pbxState()) === 'unregistered' ? true : undefined));
  }, 90_000);

  it.skipIf(!withBrowser)('rings a browser user for a call to its PBX AOR, with audio both ways through the media node', async () => {
    const user = await api('PUT', '/users/erin', { password: 'erin password', pbx: { link: 'office', username: '1003', password: ERIN_PBX_PASSWORD } });
    expect(user.status, await user.clone().text()).toBe(201);
    pages = await startPageServer();
    browser = await launchChromium();
    const erin: Page = await openPhonePage(browser, pages.url('sipjs'));
    const registered = await within(15_000, 'SIP.js register', erin.evaluate((config) => window.phone!.register(config), {
      webSocketUrl: `ws://127.0.0.1:${edge.url.port}/sip`,
      domain,
      username: 'erin',
      password: 'erin password',
    }));
    expect(registered).toBe(200);
    await eventually('1003 bound at Kamailio', 20_000, async () => (/AoR: 1003\b/.test(await pbx.registered()) ? true : undefined));

    const mark = baresip.mark();
    const answered = erin.evaluate(() => window.phone!.answerNextCall());
    const packets = (): Promise<number> => within(5_000, 'getStats', erin.evaluate(() => window.phone!.inboundAudioPackets()));
    try {
      await baresip.command(`dial sip:1003@127.0.0.1:${pbx.udpPort}`);
      await within(30_000, 'the browser answered', answered);
      await baresip.event('CALL_ESTABLISHED', 15_000, mark);
      const start = await eventually('audio in the browser', 20_000, async () => {
        const seen = await packets();
        return seen > 0 ? seen : undefined;
      }, 250);
      // 20 ms frames: 100 more packets is two seconds of audio from baresip.
      await eventually('two seconds of audio in the browser', 30_000, async () => ((await packets()) >= start + 100 ? true : undefined), 250);
      const ended = erin.evaluate(() => window.phone!.ended());
      await baresip.command('hangup');
      await within(15_000, 'the browser sees the PBX hang up', ended);
    } catch (error) {
      throw new Error(`${String(error)}${diagnostics()}`);
    }
    const heard = baresip.heard();
    expect(heard.samples).toBeGreaterThan(8000);
    expect(heard.rms).toBeGreaterThan(0.01);
  }, 120_000);
});
