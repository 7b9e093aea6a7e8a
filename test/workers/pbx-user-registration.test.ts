/**
 * Proxy registration (`workers/pbx/user-registrations.ts`) inside workerd: a real SipUser and a
 * WebSocket phone on the edge, the users API, and a PbxLink with a fake PBX behind its connector.
 * The link registers the user to the PBX with the user's PBX credentials while the user has a
 * binding at the edge, unregisters it when the last one goes, and routes the PBX's calls to that
 * registration's Contact to the user.
 */
import { exports } from 'cloudflare:workers';
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { parseCredentials } from '../../shared/auth/index.ts';
import { getCSeq, getHeader, type SipRequest } from '../../shared/message/index.ts';
import type { PbxLink } from '../../workers/pbx/pbx-link.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { fakeClockFor, freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { challenge, FakePbx } from './support/fake-pbx.ts';
import { deleteLink, inLink, install, linkStub, putLink, type ProblemBody } from './support/pbx-links.ts';
import { Phone } from './support/phone.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders, userStub } from './support/users.ts';
import { mediaNodeUp } from './support/media-nodes.ts';

const PBX_SECRET = 'pbx-only-secret-7f3a';
const REALM = 'pbx.example';

let serial = 0;

interface Rig {
  readonly id: string;
  readonly pbx: FakePbx;
  readonly user: string;
  /** The user's name at the PBX. */
  readonly extension: string;
  readonly clock: FakeClock;
}

/** A link (no registration of its own) with a fake PBX, and a fresh edge user with PBX credentials for it. */
async function rig(linkOptions: Record<string, unknown> = {}, pbxOptions: Record<string, unknown> = {}): Promise<Rig> {
  serial += 1;
  const id = `proxy-${serial}`;
  const pbx = new FakePbx();
  const clock = new FakeClock(Date.now());
  await install(id, pbx, clock, 0, fakeMediaNode);
  expect((await putLink(id, { host: REALM, transport: 'tcp', register: false, ...linkOptions })).status).toBe(201);
  const [user] = await freshUsers('proxied');
  const extension = `10${serial}`;
  const response = await putUser(user!, { password: PASSWORD, pbx: { link: id, username: extension, password: PBX_SECRET, ...pbxOptions } });
  expect(response.status).toBe(200);
  return { id, pbx, user: user!, extension, clock };
}

function putUser(username: string, body: unknown): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1/users/${encodeURIComponent(username)}`, { method: 'PUT', headers: operatorHeaders(), body: JSON.stringify(body) });
}

async function api(path: string): Promise<{ status: number; text: string }> {
  const response = await exports.default.fetch(`${EDGE}/api/v1${path}`, { headers: operatorHeaders() });
  return { status: response.status, text: await response.text() };
}

async function pbxRegistration(user: string): Promise<Record<string, unknown>> {
  const { status, text } = await api(`/users/${user}/pbx-registration`);
  expect(status).toBe(200);
  return JSON.parse(text) as Record<string, unknown>;
}

/** The `count`-th REGISTER the PBX received (1-based), once it arrives. */
function nthRegister(pbx: FakePbx, count: number): Promise<SipRequest> {
  return vi.waitFor(() => {
    const seen = pbx.requests.filter((request) => request.method === 'REGISTER');
    if (seen.length < count) throw new Error(`${seen.length} REGISTERs, waiting for ${count}`);
    return seen[count - 1]!;
  }, { timeout: 5_000, interval: 20 });
}

/** The PBX challenges the first REGISTER and accepts the answer, granting 600 s. */
async function acceptRegistration(rig: Rig): Promise<SipRequest> {
  await nthRegister(rig.pbx, 1);
  await inLink(rig.id, () => rig.pbx.last.respond(401, [challenge(REALM, 'n-1')]));
  const answered = await nthRegister(rig.pbx, 2);
  await inLink(rig.id, () => rig.pbx.last.respond(200, [{ name: 'Contact', value: `${getHeader(answered, 'Contact')!};expires=600` }]));
  return answered;
}

/** Moves the link's clock to its armed alarm and rings it. */
async function ring(setup: Rig): Promise<void> {
  const at = await runInDurableObject(linkStub(setup.id), (_instance: PbxLink, state) => state.storage.getAlarm());
  if (at === null) throw new Error('no alarm armed');
  setup.clock.advanceTo(Math.max(setup.clock.now(), at));
  await runDurableObjectAlarm(linkStub(setup.id));
}

function rowsWritten(setup: Rig): Promise<number> {
  return runInDurableObject(linkStub(setup.id), (instance: PbxLink) => instance.proxiedUsers.rowsWritten);
}

/** A media node that takes the PBX's offer and gives the browser one of its own. */
const fakeMediaNode: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, string>) : {};
  if (init?.method === 'POST' && url.pathname === '/v1/sessions') {
    const sdp = 'v=0\r\no=node 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
    return Response.json({ id: body.id, offeredBy: 'node', pbxOffer: sdp.replace('UDP/TLS/RTP/SAVPF 111', 'RTP/AVP 0'), browserOffer: sdp }, { status: 201 });
  }
  return Response.json({ id: url.pathname.split('/')[3] }, { status: 200 });
};


describe('proxy registration through a PbxLink', () => {
  it('registers the user to the PBX with its PBX credentials at the first edge REGISTER, and unregisters at the last', async () => {
    const setup = await rig({}, { auth_id: 'auth-1' });
    const { pbx, user, extension } = setup;
    // Credentials alone register nothing: the user is not registered at the edge yet.
    expect(pbx.connections).toHaveLength(0);
    expect(await pbxRegistration(user)).toMatchObject({ link: setup.id, username: extension, auth_id: 'auth-1', state: 'unregistered' });

    const phone = await Phone.online(user, PASSWORD);
    const first = await nthRegister(pbx, 1);
    expect(getHeader(first, 'To')).toBe(`<sip:${extension}@${REALM}>`);
    expect(getHeader(first, 'Contact')).toMatch(new RegExp(`^<sip:${extension}@[0-9a-f]{12}\\.invalid;transport=tcp>$`));
    expect(getHeader(first, 'Authorization')).toBeUndefined();
    const answered = await acceptRegistration(setup);
    expect(parseCredentials(getHeader(answered, 'Authorization')!)).toMatchObject({ username: 'auth-1', realm: REALM, nonce: 'n-1', uri: `sip:${REALM}` });
    expect(getHeader(answered, 'Call-ID')).toBe(getHeader(first, 'Call-ID'));

    await vi.waitFor(async () => expect(await pbxRegistration(user)).toMatchObject({ state: 'registered', last_status: '200 OK' }), { timeout: 5_000 });
    const link = JSON.parse((await api(`/pbx-links/${setup.id}`)).text) as { proxied_users: Record<string, number> };
    expect(link.proxied_users).toEqual({ total: 1, registered: 1 });

    // A second device and a refresh change nothing at the PBX.
    const second = await Phone.online(user, PASSWORD);
    expect((await phone.device.register({ expires: 600 })).status).toBe(200);
    await second.device.unregister();
    expect(pbx.requests.filter((request) => request.method === 'REGISTER')).toHaveLength(2);

    // The last binding goes: expires=0 with credentials for the last challenge.
    expect((await phone.device.unregister()).status).toBe(200);
    const removal = await nthRegister(pbx, 3);
    expect(getHeader(removal, 'Expires')).toBe('0');
    expect(parseCredentials(getHeader(removal, 'Authorization')!).username).toBe('auth-1');
    await inLink(setup.id, () => pbx.last.respond(200));
    await vi.waitFor(async () => expect((await pbxRegistration(user)).state).toBe('unregistered'), { timeout: 5_000 });

    // The PBX password is in no answer of the API, and in none of the user's trace.
    const answers = await Promise.all([api(`/users/${user}`), api(`/users/${user}/pbx-registration`), api(`/pbx-links/${setup.id}`), api(`/users/${user}/trace?format=text`)]);
    for (const { status, text } of answers) {
      expect(status).toBe(200);
      expect(text).not.toContain(PBX_SECRET);
    }
    expect(JSON.parse(answers[0]!.text)).toMatchObject({ pbx: { link: setup.id, username: extension, auth_id: 'auth-1' } });
    // The link's trace has the user's REGISTERs with the digest response redacted.
    const trace = await api(`/pbx-links/${setup.id}/trace`);
    expect(trace.status).toBe(200);
    const records = (JSON.parse(trace.text) as { records: { direction: string; message: string }[] }).records;
    const answeredRecord = records.find((record) => record.direction === 'out' && record.message.includes('username="auth-1"'));
    expect(answeredRecord?.message).toContain('response="[redacted]"');
    expect(trace.text).not.toContain(PBX_SECRET);
    phone.socket.close();
    second.socket.close();
    await deleteLink(setup.id);
  });

  it('refreshes the user\'s registration before it expires without writing a row, and registers again after an eviction', async () => {
    const setup = await rig();
    const phone = await Phone.online(setup.user, PASSWORD);
    const registeredAt = setup.clock.now();
    await acceptRegistration(setup);
    const written = await rowsWritten(setup);
    // Keep-alive pings come first; the refresh is the next REGISTER, 10 s before the 600 s granted.
    for (let rings = 0; setup.pbx.requests.filter((request) => request.method === 'REGISTER').length < 3 && rings < 20; rings += 1) await ring(setup);
    const refresh = await nthRegister(setup.pbx, 3);
    expect(setup.clock.now()).toBe(registeredAt + 590_000);
    expect(getCSeq(refresh)?.seq).toBe(3);
    expect(parseCredentials(getHeader(refresh, 'Authorization')!).nc).toBe('00000002');
    await inLink(setup.id, () => setup.pbx.last.respond(200, [{ name: 'Expires', value: '600' }]));
    expect((await pbxRegistration(setup.user)).state).toBe('registered');
    expect(await rowsWritten(setup)).toBe(written);

    // A deploy evicts the link: its alarm wakes it, and the user, still registered at the edge, is registered again at once.
    await evictDurableObject(linkStub(setup.id));
    const pbx = new FakePbx();
    await runInDurableObject(linkStub(setup.id), (instance: PbxLink) => {
      instance.connector = pbx.connector;
      instance.clock = setup.clock;
      instance.random = () => 0;
    });
    await ring(setup);
    const again = await nthRegister(pbx, 1);
    expect(getHeader(again, 'To')).toBe(`<sip:${setup.extension}@${REALM}>`);
    await inLink(setup.id, () => pbx.last.respond(200, [{ name: 'Expires', value: '600' }]));
    expect((await pbxRegistration(setup.user)).state).toBe('registered');
    phone.socket.close();
    await deleteLink(setup.id);
  });

  it('unregisters the user at the PBX when its last edge binding expires', async () => {
    const setup = await rig();
    const userClock = await fakeClockFor(setup.user);
    const phone = await Phone.online(setup.user, PASSWORD, 120);
    await acceptRegistration(setup);
    await vi.waitFor(async () => expect((await pbxRegistration(setup.user)).state).toBe('registered'), { timeout: 5_000 });
    userClock.advance(200_000);
    expect(await runDurableObjectAlarm(userStub(setup.user))).toBe(true);
    const removal = await nthRegister(setup.pbx, 3);
    expect(getHeader(removal, 'Expires')).toBe('0');
    await inLink(setup.id, () => setup.pbx.last.respond(200));
    await vi.waitFor(async () => expect((await pbxRegistration(setup.user)).state).toBe('unregistered'), { timeout: 5_000 });
    phone.socket.close();
    await deleteLink(setup.id);
  });

  it('unregisters the old PBX AOR before registering the new one when the credentials change, and unregisters when they are removed', async () => {
    const setup = await rig();
    const phone = await Phone.online(setup.user, PASSWORD);
    await acceptRegistration(setup);
    const renamed = `${setup.extension}9`;
    expect((await putUser(setup.user, { password: PASSWORD, pbx: { link: setup.id, username: renamed, password: PBX_SECRET } })).status).toBe(200);
    const removal = await nthRegister(setup.pbx, 3);
    expect([getHeader(removal, 'To'), getHeader(removal, 'Expires')]).toEqual([`<sip:${setup.extension}@${REALM}>`, '0']);
    await inLink(setup.id, () => setup.pbx.last.respond(200));
    const fresh = await nthRegister(setup.pbx, 4);
    expect([getHeader(fresh, 'To'), getHeader(fresh, 'Expires')]).toEqual([`<sip:${renamed}@${REALM}>`, '3600']);
    await inLink(setup.id, () => setup.pbx.last.respond(200, [{ name: 'Expires', value: '600' }]));
    expect(await pbxRegistration(setup.user)).toMatchObject({ username: renamed, state: 'registered' });

    // A PUT without pbx: the link unregisters the user and forgets the credentials.
    expect((await putUser(setup.user, { password: PASSWORD })).status).toBe(200);
    const last = await nthRegister(setup.pbx, 5);
    expect([getHeader(last, 'To'), getHeader(last, 'Expires')]).toEqual([`<sip:${renamed}@${REALM}>`, '0']);
    expect((await api(`/users/${setup.user}/pbx-registration`)).status).toBe(404);
    phone.socket.close();
    await deleteLink(setup.id);
  });

  it('shows the user rejected with the status line when the PBX answers 403, and when the next attempt goes', async () => {
    const setup = await rig({ forbidden_retry_interval: 30 });
    const phone = await Phone.online(setup.user, PASSWORD);
    await nthRegister(setup.pbx, 1);
    await inLink(setup.id, () => setup.pbx.last.respond(403));
    await vi.waitFor(async () => expect(await pbxRegistration(setup.user)).toMatchObject({ state: 'rejected', last_status: '403 Forbidden', retries: 1 }), { timeout: 5_000 });
    const { next_attempt_at: next } = await pbxRegistration(setup.user);
    expect(Date.parse(String(next)) - Date.now()).toBeGreaterThan(20_000);
    const link = JSON.parse((await api(`/pbx-links/${setup.id}`)).text) as { proxied_users: Record<string, number> };
    expect(link.proxied_users).toEqual({ total: 1, rejected: 1 });
    phone.socket.close();
    await deleteLink(setup.id);
  });

  it('rings the user when the PBX calls the Contact registered for it', async () => {
    const setup = await rig();
    await mediaNodeUp();
    const phone = await Phone.online(setup.user, PASSWORD);
    const answered = await acceptRegistration(setup);
    const contact = /<([^>]+)>/.exec(getHeader(answered, 'Contact')!)![1]!;
    const invite = [
      `INVITE ${contact} SIP/2.0`,
      'Via: SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bKproxied1',
      'Max-Forwards: 70',
      'From: "Reception" <sip:200@pbx.example>;tag=pf1',
      `To: <sip:${setup.extension}@pbx.example>`,
      'Call-ID: proxied-inbound-1',
      'CSeq: 1 INVITE',
      'Contact: <sip:200@192.0.2.7:5060;transport=tcp>',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    await inLink(setup.id, () => setup.pbx.last.send(invite));
    const incoming = await phone.incoming();
    expect(getHeader(incoming.invite, 'From')).toContain('<sip:200@pbx.example>');
    expect(incoming.invite.uri).toContain(phone.device.contactUri.split(';')[0]!);
    phone.socket.close();
    await deleteLink(setup.id);
  });

  it('refuses PBX credentials for a link that does not exist, or a PBX username another user has, naming the field', async () => {
    const setup = await rig();
    const [other] = await freshUsers('other');
    const noLink = await putUser(other!, { password: PASSWORD, pbx: { link: 'no-such-link', username: '2000', password: 'x' } });
    expect(noLink.status).toBe(409);
    expect(((await noLink.json()) as ProblemBody).errors).toEqual([{ pointer: '#/pbx/link', detail: 'there is no such PBX link' }]);
    const taken = await putUser(other!, { password: PASSWORD, pbx: { link: setup.id, username: setup.extension, password: 'x' } });
    expect(taken.status).toBe(409);
    expect(((await taken.json()) as ProblemBody).errors?.[0]?.pointer).toBe('#/pbx/username');
    const missing = await putUser(other!, { password: PASSWORD, pbx: { link: setup.id, username: '2000' } });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as ProblemBody).errors?.map((error) => error.pointer)).toEqual(['#/pbx/password']);
    expect((await api(`/users/${other!}/pbx-registration`)).status).toBe(404);
    // A PUT without pbx removes the credentials from the link.
    expect((await putUser(setup.user, { password: PASSWORD })).status).toBe(200);
    expect((await api(`/users/${setup.user}/pbx-registration`)).status).toBe(404);
    await deleteLink(setup.id);
  });
});
