/**
 * A PbxLink in the real edge (workerd, Workers socket API) registering to a real Kamailio over TCP,
 * TLS and secure WebSocket (a certificate from a test CA the edge is told to trust), with digest auth: Kamailio's
 * own location table (`kamcmd ul.dump`) shows the binding appear, get refreshed, and go away.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerAvailable } from '../support/peers.ts';
import { makeCertificates } from './support/certificates.ts';
import { startKamailio, WSS_PATH, type Binding, type RunningKamailio } from './support/kamailio.ts';
import type { LinkEdge } from './support/link-edge.ts';
import { eventually, freePort } from './support/net.ts';

const USERS = { alice: 'alice secret', bob: 'bob secret', carol: 'carol secret', erin: 'erin secret' };

describe.runIf(peerAvailable('kamailio'))('a PbxLink registering to Kamailio', () => {
  let kamailio: RunningKamailio;
  let edge: LinkEdge;

  beforeAll(async () => {
    kamailio = await startKamailio({ users: USERS });
    // workerd trusts the test's CA only through this (FIELD-NOTES.md), and miniflare reads it when
    // it loads: hence the edge runner is imported only now.
    process.env.NODE_EXTRA_CA_CERTS = kamailio.caPath;
    const { startLinkEdge } = await import('./support/link-edge.ts');
    edge = await startLinkEdge();
  }, 60_000);

  afterAll(async () => {
    await edge?.stop();
    await kamailio?.stop();
  });

  const bindingOf = async (aor: string, contactHost: string): Promise<Binding | undefined> =>
    (await kamailio.bindings()).find((binding) => binding.aor === aor && binding.address.includes(contactHost));

  const contactHostOf = (contact: string | undefined): string => {
    const match = /@([0-9a-f]+\.invalid)/.exec(contact ?? '');
    if (match?.[1] === undefined) throw new Error(`no .invalid host in ${contact}`);
    return match[1];
  };

  it('registers over TCP with digest auth, refreshes before expiry, and unregisters on delete', async () => {
    const created = await edge.put('kamailio-tcp', {
      host: '127.0.0.1',
      port: kamailio.tcpPort,
      transport: 'tcp',
      username: 'alice',
      password: USERS.alice,
      expiration: 6,
      max_random_initial_delay: 0,
    });
    const host = contactHostOf(created.registration.contact);
    const registered = await edge.until('kamailio-tcp', 'registered', 10_000);
    expect(registered.registration.connection).toBe('open');
    expect(Date.parse(registered.registration.expires_at!) - Date.now()).toBeLessThanOrEqual(6_000);

    const first = await eventually('the binding in Kamailio', 5_000, () => bindingOf('alice', host));
    expect(first.address).toBe(`sip:s@${host};transport=tcp`);
    expect(first.received).toMatch(/^sip:127\.0\.0\.1:\d+;transport=tcp$/);

    // Granted 6 s, the link refreshes half-way; Kamailio sees a higher CSeq on the same Call-ID.
    const refreshed = await eventually('a refresh', 15_000, async () => {
      const binding = await bindingOf('alice', host);
      return binding !== undefined && binding.cseq > first.cseq ? binding : undefined;
    });
    expect(refreshed.callId).toBe(first.callId);
    const view = await edge.view('kamailio-tcp');
    expect(view.registration.state).toBe('registered');
    expect(view.registration.recent.filter((outcome) => outcome.status_line === '200 OK').length).toBeGreaterThanOrEqual(2);

    expect(await edge.remove('kamailio-tcp')).toBe(204);
    // handle_lost_tcp is off in this Kamailio: only the REGISTER with expires=0 removes the binding.
    await eventually('the binding removed', 5_000, async () => ((await bindingOf('alice', host)) === undefined ? true : undefined));
  });

  it('registers over TLS, verifying the certificate the edge was told to trust', async () => {
    const created = await edge.put('kamailio-tls', {
      host: '127.0.0.1',
      port: kamailio.tlsPort,
      transport: 'tls',
      username: 'bob',
      password: USERS.bob,
      max_random_initial_delay: 0,
    });
    const host = contactHostOf(created.registration.contact);
    await edge.until('kamailio-tls', 'registered', 10_000);
    const binding = await eventually('the binding in Kamailio', 5_000, () => bindingOf('bob', host));
    expect(binding.address).toBe(`sip:s@${host};transport=tls`);
    expect(binding.received).toMatch(/;transport=tls$/);
    expect(await edge.remove('kamailio-tls')).toBe(204);
    await eventually('the binding removed', 5_000, async () => ((await bindingOf('bob', host)) === undefined ? true : undefined));
  });

  it('registers over secure WebSocket (RFC 7118, the sip subprotocol), verifying the certificate', async () => {
    const created = await edge.put('kamailio-wss', {
      host: '127.0.0.1',
      port: kamailio.wssPort,
      transport: 'wss',
      ws_path: WSS_PATH,
      username: 'erin',
      password: USERS.erin,
      max_random_initial_delay: 0,
    });
    const host = contactHostOf(created.registration.contact);
    const registered = await edge.until('kamailio-wss', 'registered', 10_000);
    expect(registered.registration.connection).toBe('open');
    const binding = await eventually('the binding in Kamailio', 5_000, () => bindingOf('erin', host));
    // RFC 7118 §5.2: the Contact keeps its .invalid host with transport=ws; Kamailio reaches it over the WebSocket.
    expect(binding.address).toBe(`sip:s@${host};transport=ws`);
    expect(binding.received).toMatch(/^sip:127\.0\.0\.1:\d+;transport=ws$/);
    expect(kamailio.log()).toMatch(/REQ REGISTER sip:127\.0\.0\.1 from wss:127\.0\.0\.1:\d+/);
    expect(await edge.remove('kamailio-wss')).toBe(204);
    await eventually('the binding removed', 5_000, async () => ((await bindingOf('erin', host)) === undefined ? true : undefined));
  });

  it('ends failed when Kamailio refuses the password and auth_rejection_permanent is on', async () => {
    await edge.put('kamailio-wrong', {
      host: '127.0.0.1',
      port: kamailio.tcpPort,
      transport: 'tcp',
      username: 'carol',
      password: 'not the password',
      max_random_initial_delay: 0,
    });
    const failed = await edge.until('kamailio-wrong', 'failed', 10_000);
    expect(failed.registration.last_status).toBe('401 Unauthorized');
    expect(failed.registration.detail).toContain('auth_rejection_permanent');
    expect(failed.registration.recent.map((outcome) => [outcome.status_line, outcome.state])).toEqual([['401 Unauthorized', 'failed']]);
    expect((await kamailio.bindings()).some((binding) => binding.aor === 'carol')).toBe(false);
    await edge.remove('kamailio-wrong');
  });
});

describe.runIf(peerAvailable('kamailio'))('a PbxLink over TLS to a server it does not trust', () => {
  let directory: string;
  let server: Server;
  let port: number;
  let edge: LinkEdge;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'sipedge-untrusted-'));
    // A CA nobody told the edge about (NODE_EXTRA_CA_CERTS names only Kamailio's, if set at all).
    const certificates = await makeCertificates(directory, 'untrusted');
    port = await freePort();
    server = createServer({ key: readFileSync(certificates.keyPath), cert: readFileSync(certificates.certPath) }, (socket) => socket.end());
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const { startLinkEdge } = await import('./support/link-edge.ts');
    edge = await startLinkEdge();
  }, 60_000);

  afterAll(async () => {
    await edge?.stop();
    await new Promise((resolve) => server?.close(resolve));
    rmSync(directory, { recursive: true, force: true });
  });

  it('refuses the connection (certificate verification is on) and retries as a transport failure', async () => {
    await edge.put('untrusted', { host: '127.0.0.1', port, transport: 'tls', username: 'alice', password: 'x', max_random_initial_delay: 0 });
    const retrying = await edge.until('untrusted', 'retrying', 10_000);
    expect(retrying.registration.last_status).toBe('503 Service Unavailable');
    expect(retrying.registration.detail).toBeDefined();
    await edge.remove('untrusted');
  });
});
