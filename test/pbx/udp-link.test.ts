/**
 * A PbxLink whose PBX speaks SIP over UDP, every part real: the edge in workerd (which has no UDP)
 * opens a signed WebSocket to a media node's SIP/UDP gateway, and Kamailio, listening on UDP only
 * for this link, challenges the REGISTER and saves the binding. Kamailio's own location table
 * (`kamcmd ul.dump`) must show the gateway's UDP address in the Contact (not a `.invalid` host:
 * the PBX has to reach the link there), and the binding must go away when the link is deleted.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type RunningEdge } from '../../workers/local/edge-runner.ts';
import { peerAvailable } from '../support/peers.ts';
import { startKamailio, type Binding, type RunningKamailio } from './support/kamailio.ts';
import { startMediaNode, type RunningMediaNode } from './support/media-node.ts';
import { eventually } from './support/net.ts';

const SECRET = randomBytes(32).toString('base64url');
const TOKEN = randomBytes(18).toString('base64url');
const USERS = { dave: 'dave secret' };
const HEARTBEAT_MS = 2000;

describe.runIf(peerAvailable('kamailio'))('a PbxLink over UDP through a media node', () => {
  let edge: RunningEdge;
  let kamailio: RunningKamailio;
  let node: RunningMediaNode;
  const edgeLog = join(mkdtempSync(join(tmpdir(), 'sipedge-udp-link-')), 'workerd.log');

  const api = (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(new URL(`/api/v1${path}`, edge.url), {
      method,
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });

  const diagnostics = (): string =>
    `\n--- edge\n${existsSync(edgeLog) ? readFileSync(edgeLog, 'utf8').slice(-5000) : ''}\n--- kamailio\n${kamailio.log().slice(-3000)}\n--- media node\n${node.log().slice(-3000)}`;

  beforeAll(async () => {
    kamailio = await startKamailio({ users: USERS });
    edge = await startEdge({
      port: 0,
      logFile: edgeLog,
      vars: { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: TOKEN, SIPEDGE_MEDIA_SECRET: SECRET, SIPEDGE_MEDIA_HEARTBEAT_MS: String(HEARTBEAT_MS) },
    });
    node = await startMediaNode(edge.url.href, SECRET, HEARTBEAT_MS);
    await eventually('the media node healthy at the edge', 20_000, async () => {
      const listing = (await (await api('GET', '/media-nodes')).json()) as { nodes: { health: string }[] };
      return listing.nodes.some((each) => each.health === 'healthy') ? true : undefined;
    });
  }, 90_000);

  afterAll(async () => {
    await edge?.stop();
    await node?.stop();
    await kamailio?.stop();
  });

  const udpBinding = async (): Promise<Binding | undefined> =>
    (await kamailio.bindings()).find((binding) => binding.aor === 'dave' && binding.address.endsWith(';transport=udp'));

  it('registers over UDP with the gateway\'s address in the Contact, and unregisters on delete', async () => {
    const created = await api('PUT', '/pbx-links/kamailio-udp', {
      host: '127.0.0.1',
      port: kamailio.udpPort,
      transport: 'udp',
      username: 'dave',
      password: USERS.dave,
      expiration: 60,
      max_random_initial_delay: 0,
    });
    expect(created.status, await created.clone().text()).toBe(201);
    try {
      await eventually('the link registered', 20_000, async () => {
        const view = (await (await api('GET', '/pbx-links/kamailio-udp')).json()) as { registration: { state: string } };
        return view.registration.state === 'registered' ? true : undefined;
      });
    } catch (error) {
      throw new Error(`${String(error)}${diagnostics()}`);
    }
    const binding = await eventually('the binding in Kamailio', 5_000, udpBinding);
    // The gateway's bound UDP socket, which Kamailio can send to; Kamailio saw no NAT to fix.
    expect(binding.address).toMatch(/^sip:s@127\.0\.0\.1:\d+;transport=udp$/);
    expect(binding.received).toBeUndefined();
    expect(kamailio.log()).toMatch(/REQ REGISTER sip:127\.0\.0\.1 from udp:127\.0\.0\.1:\d+/);

    // The link's own trace shows the REGISTER as it went out through the gateway, and the answers.
    const { records } = (await (await api('GET', '/pbx-links/kamailio-udp/trace')).json()) as { records: { direction: string; transport: string; summary: string; message: string }[] };
    const sent = records.find((record) => record.direction === 'out' && record.summary.startsWith('REGISTER'));
    expect(sent?.transport).toBe('UDP');
    expect(sent?.message).toMatch(/^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;rport;branch=/m);
    expect(records.some((record) => record.direction === 'in' && record.summary === 'SIP/2.0 200 OK')).toBe(true);

    expect((await api('DELETE', '/pbx-links/kamailio-udp')).status).toBe(204);
    await eventually('the binding removed', 10_000, async () => ((await udpBinding()) === undefined ? true : undefined));
  }, 60_000);
});
