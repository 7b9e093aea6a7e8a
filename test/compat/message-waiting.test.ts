/**
 * Client compatibility, message-waiting indication from a PBX (RFC 3842): sipp plays the PBX,
 * registered to by a real PbxLink in the local edge, and sends Asterisk's unsolicited
 * `message-summary` NOTIFY to the link's contact. The link's `endpoint` user has three devices in
 * Node: SIP.js (0.21) handling NOTIFYs in its UserAgent delegate (`onNotify`, what an app uses to
 * light its lamp), SIP.js with only `allowLegacyNotifications`, and JsSIP (3.13, its UA's
 * `sipEvent`). What is asserted: every device got the PBX's summary, and the PBX heard 200 (sipp's
 * scenario fails on anything else).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from 'sip.js';
import { startEdge, type RunningEdge } from '../../workers/local/edge-runner.ts';
import { within } from '../edge/support/test-edge.ts';
import { startMwiPbx, PBX_SUMMARY } from '../pbx/support/sipp-mwi.ts';
import type { RunningSippTrunk } from '../pbx/support/sipp-trunk.ts';
import { peerAvailable } from '../support/peers.ts';
import { JsSipClient, SipJsClient } from './support/clients.ts';

const USER = 'mwiuser';
const PASSWORD = 'mwi user password';

describe.runIf(peerAvailable('sipp'))('message-waiting from a PBX to SIP.js and JsSIP', () => {
  let edge: RunningEdge;
  let sipp: RunningSippTrunk | undefined;
  const clients: { stop(): unknown }[] = [];
  const token = randomBytes(18).toString('base64url');
  const api = (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(new URL(`/api/v1${path}`, edge.url), {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(5_000),
    });

  beforeAll(async () => {
    edge = await startEdge({
      port: 0,
      vars: { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: token, SIPEDGE_MEDIA_SECRET: randomBytes(32).toString('base64url') },
    });
    const created = await api('PUT', `/users/${USER}`, { password: PASSWORD });
    expect(created.status, await created.clone().text()).toBe(201);
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) await client.stop();
    await api('DELETE', '/pbx-links/mwi-pbx').catch(() => undefined);
    await sipp?.stop();
    await edge?.stop();
  });

  it('relays the PBX\'s unsolicited message-summary NOTIFY to every device of the user (SIP.js and JsSIP), and the PBX gets 200', async () => {
    const domain = ((await (await fetch(new URL('/health', edge.url))).json()) as { domain: string }).domain;
    const address = { domain, webSocketUrl: new URL('/sip', edge.url).href.replace(/^http/, 'ws') };
    const lamp = new SipJsClient({ edge: address, username: USER, password: PASSWORD });
    const legacy = new SipJsClient({ edge: address, username: USER, password: PASSWORD, ua: { allowLegacyNotifications: true } });
    const jssip = new JsSipClient({ edge: address, username: USER, password: PASSWORD });
    clients.push(lamp, legacy, jssip);
    const jssipEvent = within(30_000, 'JsSIP sipEvent', new Promise<{ event: { event: string }; request: { body: string } }>((resolve) => {
      jssip.ua.on('sipEvent', (event) => resolve(event as unknown as { event: { event: string }; request: { body: string } }));
    }));
    const notified = within(30_000, 'SIP.js onNotify', new Promise<Notification>((resolve) => {
      lamp.ua.delegate = {
        ...lamp.ua.delegate,
        onNotify: (notification) => {
          void notification.accept();
          resolve(notification);
        },
      };
    }));
    await lamp.start();
    await legacy.start();
    expect((await jssip.start())?.status).toBe(200);
    sipp = await startMwiPbx();
    const put = await api('PUT', '/pbx-links/mwi-pbx', {
      host: '127.0.0.1', port: sipp.port, transport: 'tcp', register: true, username: 'edge', password: 'pbx secret', max_random_initial_delay: 0, endpoint: USER,
    });
    expect(put.status, await put.clone().text()).toBe(201);

    const notification = await notified;
    expect(notification.request.getHeader('Event')).toBe('message-summary');
    expect(notification.request.getHeader('Content-Type')).toBe('application/simple-message-summary');
    expect(notification.request.body).toContain('Messages-Waiting: yes');
    expect(notification.request.body).toContain('Voice-Message: 3/1 (1/0)');
    await sipp.finished(30_000);
    // The device without a delegate took it too, as SIP.js does with allowLegacyNotifications.
    const received = legacy.wire.find((each) => each.direction === 'received' && each.first === 'NOTIFY');
    expect(received?.text).toContain(PBX_SUMMARY.split('\r\n')[2]);
    expect(legacy.wire.some((each) => each.direction === 'sent' && each.first === '200' && each.cseq.endsWith(' NOTIFY'))).toBe(true);
    const seenByJsSip = await jssipEvent;
    expect(seenByJsSip.event.event).toBe('message-summary');
    expect(seenByJsSip.request.body).toContain('Messages-Waiting: yes');
  }, 90_000);
});
