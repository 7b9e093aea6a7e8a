/**
 * The PbxLink object end to end inside workerd, with a fake PBX behind the connector seam and a
 * fake clock: the connection, the transactions on it, the alarm, storage and the API together.
 */
import { exports } from 'cloudflare:workers';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { parseCredentials } from '../../shared/auth/index.ts';
import { getCSeq, getHeader, type SipRequest } from '../../shared/message/index.ts';
import type { PbxLink } from '../../workers/pbx/pbx-link.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { challenge, FakePbx } from './support/fake-pbx.ts';
import { deleteLink, getLink, inLink, install, linkStub, linkView, putLink } from './support/pbx-links.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders } from './support/users.ts';

// Far in the future, so that no alarm rings by itself: the test rings each one.
const T0 = Date.UTC(2100, 0, 1);
const REALM = 'pbx.example.com';

let serial = 0;
interface Rig {
  readonly id: string;
  readonly pbx: FakePbx;
  readonly clock: FakeClock;
}

async function freshRig(): Promise<Rig> {
  serial += 1;
  const rig = { id: `link-${serial}`, pbx: new FakePbx(), clock: new FakeClock(T0) };
  await install(rig.id, rig.pbx, rig.clock);
  return rig;
}

const CONFIG = { host: 'pbx.example.com', transport: 'tcp', username: 'alice', password: 'pbx secret', max_random_initial_delay: 0 };

/** Moves the clock to the armed alarm and rings it; false when none is armed. */
async function ring(rig: Rig): Promise<boolean> {
  const at = await runInDurableObject(linkStub(rig.id), (_instance: PbxLink, state) => state.storage.getAlarm());
  if (at === null) return false;
  rig.clock.advanceTo(Math.max(rig.clock.now(), at));
  return runDurableObjectAlarm(linkStub(rig.id));
}

async function rowsWritten(rig: Rig): Promise<number> {
  return runInDurableObject(linkStub(rig.id), (instance: PbxLink) => instance.store.rowsWritten);
}

function lastRequest(rig: Rig): SipRequest {
  const request = rig.pbx.requests.at(-1);
  if (request === undefined) throw new Error('the link sent nothing');
  return request;
}

/** PUT, first REGISTER, 401, answered REGISTER, 200 with the granted expiry. */
async function registered(rig: Rig, granted = 600, config: Record<string, unknown> = CONFIG): Promise<void> {
  expect((await putLink(rig.id, config)).status).toBe(201);
  expect(await ring(rig)).toBe(true);
  await inLink(rig.id, () => rig.pbx.last.respond(401, [challenge(REALM, 'nonce-1')]));
  const contact = getHeader(lastRequest(rig), 'Contact')!;
  await inLink(rig.id, () => rig.pbx.last.respond(200, [{ name: 'Contact', value: `${contact};expires=${granted}` }]));
}

describe('a PbxLink registering to its PBX', () => {
  it('connects, answers the digest challenge on the same connection, and shows registered with the expiry', async () => {
    const rig = await freshRig();
    await registered(rig);
    expect(rig.pbx.connections).toHaveLength(1);
    expect(rig.pbx.last.target).toEqual({ host: 'pbx.example.com', port: 5060, transport: 'tcp' });
    const [first, second] = rig.pbx.last.requests;
    expect(getHeader(first!, 'Authorization')).toBeUndefined();
    expect(parseCredentials(getHeader(second!, 'Authorization')!)).toMatchObject({ username: 'alice', realm: REALM, nonce: 'nonce-1' });
    const { registration } = await linkView(rig.id);
    expect(registration).toMatchObject({
      state: 'registered',
      expires_at: new Date(T0 + 600_000).toISOString(),
      refresh_at: new Date(T0 + 590_000).toISOString(),
      last_status: '200 OK',
      connection: 'open',
    });
    expect(registration.recent.map((outcome) => outcome.status_line)).toEqual(['200 OK']);
  });

  it('refreshes 10 s before expiry on the same connection, with the next nonce count, writing no row', async () => {
    const rig = await freshRig();
    await registered(rig);
    const written = await rowsWritten(rig);
    // Keep-alive pings come first; the refresh is the first REGISTER after them.
    const sent = rig.pbx.requests.length;
    for (let rings = 0; rig.pbx.requests.length === sent && rings < 20; rings += 1) expect(await ring(rig)).toBe(true);
    expect(rig.clock.now()).toBe(T0 + 590_000);
    expect(rig.pbx.last.pings).toBeGreaterThan(0);
    const refresh = lastRequest(rig);
    expect(getCSeq(refresh)?.seq).toBe(3);
    expect(parseCredentials(getHeader(refresh, 'Authorization')!).nc).toBe('00000002');
    expect((await linkView(rig.id)).registration.state).toBe('registered');
    await inLink(rig.id, () => rig.pbx.last.respond(200, [{ name: 'Expires', value: '600' }]));
    expect(rig.pbx.connections).toHaveLength(1);
    expect(await rowsWritten(rig)).toBe(written);
    expect((await linkView(rig.id)).registration.expires_at).toBe(new Date(T0 + 1_190_000).toISOString());
  });

  it('answers requests and keep-alive pings the PBX sends back over the same connection', async () => {
    const rig = await freshRig();
    await registered(rig);
    const options = [
      'OPTIONS sip:s@x.invalid;transport=tcp SIP/2.0',
      'Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bKopt1',
      'From: <sip:pbx.example.com>;tag=p1',
      'To: <sip:s@x.invalid>',
      'Call-ID: opt-1',
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    await inLink(rig.id, () => rig.pbx.last.send(`\r\n\r\n${options}${options.replace('OPTIONS sip', 'INVITE sip').replace('1 OPTIONS', '1 INVITE').replace('opt1', 'inv1')}`));
    expect(rig.pbx.last.pongs).toBe(1);
    // The INVITE goes to inbound routing (`link-calls.ts`), which finds nobody to ring: 404.
    await vi.waitFor(() => expect(rig.pbx.last.responses.map((response) => `${response.status} ${getCSeq(response)?.method}`)).toEqual(['200 OPTIONS', '404 INVITE']), { timeout: 5_000 });
  });

  it('sends keep-alive pings, and once the PBX has answered one, treats a missing pong as a lost flow (RFC 5626 §4.4.1)', async () => {
    const rig = await freshRig();
    await registered(rig, 3600);
    expect(await ring(rig)).toBe(true);
    expect(rig.pbx.last.pings).toBe(1);
    await inLink(rig.id, () => rig.pbx.last.send('\r\n'));
    expect(await ring(rig)).toBe(true);
    expect(rig.pbx.last.pings).toBe(2);
    expect(await ring(rig)).toBe(true);
    expect(rig.pbx.last.closedByLink).toBe(true);
    const { registration } = await linkView(rig.id);
    expect(registration).toMatchObject({ state: 'retrying', connection: 'closed' });
    expect(registration.detail).toContain('no keep-alive pong');
  });

  it('registers again over a new connection, with backoff, when the PBX drops the connection', async () => {
    const rig = await freshRig();
    await registered(rig);
    const lostAt = rig.clock.now();
    await inLink(rig.id, () => rig.pbx.last.drop('connection reset by peer'));
    const { registration } = await linkView(rig.id);
    expect(registration).toMatchObject({ state: 'retrying', last_status: '503 Service Unavailable', detail: 'connection lost: connection reset by peer' });
    expect(Date.parse(registration.next_attempt_at!) - lostAt).toBe(500);
    expect(await ring(rig)).toBe(true);
    expect(rig.pbx.connections).toHaveLength(2);
    // The credentials of the last challenge go along at once.
    expect(getHeader(lastRequest(rig), 'Authorization')).toContain('nonce="nonce-1"');
    await inLink(rig.id, () => rig.pbx.last.respond(200, [{ name: 'Expires', value: '600' }]));
    expect((await linkView(rig.id)).registration.state).toBe('registered');
  });

  it('reports a connection that cannot be made (a refused certificate, say) as a transport failure to retry', async () => {
    const rig = await freshRig();
    rig.pbx.refuse = 'TLS peer\'s certificate is not trusted';
    expect((await putLink(rig.id, { ...CONFIG, transport: 'tls', retry_interval: 30 })).status).toBe(201);
    expect(await ring(rig)).toBe(true);
    await inLink(rig.id, () => undefined);
    const { registration } = await linkView(rig.id);
    expect(registration).toMatchObject({ state: 'retrying', retries: 1, last_status: '503 Service Unavailable', detail: 'TLS peer\'s certificate is not trusted' });
    expect(rig.pbx.last.target.port).toBe(5061);
  });

  it('connects to the outbound proxy when there is one, and routes the REGISTER through it', async () => {
    const rig = await freshRig();
    await putLink(rig.id, { ...CONFIG, outbound_proxy: 'sip:proxy.example.com:5070' });
    expect(await ring(rig)).toBe(true);
    expect(rig.pbx.last.target).toEqual({ host: 'proxy.example.com', port: 5070, transport: 'tcp' });
    expect(getHeader(lastRequest(rig), 'Route')).toBe('<sip:proxy.example.com:5070;lr>');
    expect(lastRequest(rig).uri).toBe('sip:pbx.example.com');
  });

  it('leaves a registered link alone when the same configuration is put again', async () => {
    const rig = await freshRig();
    await registered(rig);
    const sent = rig.pbx.requests.length;
    expect((await putLink(rig.id, CONFIG)).status).toBe(200);
    expect(rig.pbx.requests).toHaveLength(sent);
    expect((await linkView(rig.id)).registration.state).toBe('registered');
  });

  it('times out an unanswered REGISTER after 64*T1 (Timer F) as a 408', async () => {
    const rig = await freshRig();
    await putLink(rig.id, CONFIG);
    expect(await ring(rig)).toBe(true);
    expect(await ring(rig)).toBe(true);
    expect(rig.clock.now()).toBe(T0 + 32_000);
    expect((await linkView(rig.id)).registration).toMatchObject({ state: 'retrying', last_status: '408 Request Timeout' });
  });

  it('ends failed, with no alarm and no connection, when the PBX refuses the credentials', async () => {
    const rig = await freshRig();
    await putLink(rig.id, CONFIG);
    await ring(rig);
    await inLink(rig.id, () => rig.pbx.last.respond(401, [challenge(REALM, 'n1')]));
    await inLink(rig.id, () => rig.pbx.last.respond(401, [challenge(REALM, 'n2')]));
    const { registration } = await linkView(rig.id);
    expect(registration).toMatchObject({ state: 'failed', last_status: '401 Unauthorized', connection: 'closed' });
    expect(rig.pbx.last.closedByLink).toBe(true);
    expect(await ring(rig)).toBe(false);
  });

  it('unregisters (expires=0) on delete, then closes the connection', async () => {
    const rig = await freshRig();
    await registered(rig);
    expect((await deleteLink(rig.id)).status).toBe(204);
    const unregister = lastRequest(rig);
    expect(getHeader(unregister, 'Expires')).toBe('0');
    expect(getHeader(unregister, 'Authorization')).toContain('nonce="nonce-1"');
    expect((await getLink(rig.id)).status).toBe(404);
    await inLink(rig.id, () => rig.pbx.last.respond(200));
    expect(rig.pbx.last.closedByLink).toBe(true);
    expect(await ring(rig)).toBe(false);
  });

  it('unregisters the old binding before registering a changed configuration', async () => {
    const rig = await freshRig();
    await registered(rig);
    expect((await putLink(rig.id, { ...CONFIG, client_uri: 'sip:100@pbx.example.com' })).status).toBe(200);
    const unregister = lastRequest(rig);
    expect(getHeader(unregister, 'Expires')).toBe('0');
    expect(getHeader(unregister, 'To')).toBe('<sip:alice@pbx.example.com>');
    await inLink(rig.id, () => rig.pbx.last.respond(200));
    expect((await linkView(rig.id)).registration.state).toBe('registering');
    expect(await ring(rig)).toBe(true);
    expect(getHeader(lastRequest(rig), 'To')).toBe('<sip:100@pbx.example.com>');
  });

  it('after an eviction (a deploy), wakes on its alarm and registers again over a new connection', async () => {
    const rig = await freshRig();
    await registered(rig);
    await evictDurableObject(linkStub(rig.id));
    const pbx = new FakePbx();
    await install(rig.id, pbx, rig.clock);
    // The alarm still armed (the keep-alive watchdog) wakes the object; it resumes and registers at once.
    expect(await ring(rig)).toBe(true);
    expect(pbx.connections).toHaveLength(1);
    expect(getHeader(pbx.last.requests[0]!, 'CSeq')).toBe('1 REGISTER');
    await inLink(rig.id, () => pbx.last.respond(200, [{ name: 'Expires', value: '600' }]));
    expect((await linkView(rig.id)).registration.state).toBe('registered');
  });

  it('keeps its own SIP trace, both ways, with the digest response redacted, as JSON and text', async () => {
    const rig = await freshRig();
    await registered(rig);
    const trace = (path: string) => exports.default.fetch(`${EDGE}/api/v1/pbx-links/${rig.id}/trace${path}`, { headers: operatorHeaders() });
    const response = await trace('');
    expect(response.status).toBe(200);
    const { records } = (await response.json()) as { records: { direction: string; transport: string; remote: string; summary: string; message: string }[] };
    expect(records.map((record) => `${record.direction} ${record.summary}`)).toEqual([
      'out REGISTER sip:pbx.example.com SIP/2.0',
      'in SIP/2.0 401 Unauthorized',
      'out REGISTER sip:pbx.example.com SIP/2.0',
      'in SIP/2.0 200 OK',
    ]);
    expect(records.every((record) => record.transport === 'TCP' && record.remote === 'pbx.example.com')).toBe(true);
    expect(records[2]!.message).toContain('response="[redacted]"');
    expect(records[2]!.message).not.toMatch(/nonce=/);
    const text = await (await trace('?format=text')).text();
    expect(text).toContain('edge -> pbx.example.com  TCP  flow flow-1\nREGISTER sip:pbx.example.com SIP/2.0\n');
    const pcap = await trace('?format=pcap');
    expect(pcap.headers.get('Content-Type')).toBe('application/vnd.tcpdump.pcap');
    // The pcap global header, then one record per message.
    expect(new DataView(await pcap.arrayBuffer()).getUint32(0, true)).toBe(0xa1b2c3d4);
    expect((await trace('?format=xml')).status).toBe(400);
    expect((await exports.default.fetch(`${EDGE}/api/v1/pbx-links/no-such-link/trace`, { headers: operatorHeaders() })).status).toBe(404);
  });
});
