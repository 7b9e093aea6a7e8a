/**
 * Call detail records through `/api/v1/calls`: calls between two phones on the edge leave a record
 * (start, answer, end, status, who hung up), live calls are the ones without an end, a media node's
 * session-end report attaches its figures and samples to the call it names, pages follow a cursor,
 * and only operator tokens read the domain's calls (a user token reads its own under /me).
 */
import { env, exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { createResponse, getHeader, serializeMessage, type SipRequest } from '../../shared/message/index.ts';
import { RequestSigner } from '../../shared/signing/index.ts';
import type { PbxLink } from '../../workers/pbx/pbx-link.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { FakePbx } from './support/fake-pbx.ts';
import { deleteLink, inLink, linkStub, putLink } from './support/pbx-links.ts';
import { Phone } from './support/phone.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders } from './support/users.ts';

interface CallView {
  id: string;
  startedAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  live: boolean;
  durationSeconds: number | null;
  caller: string;
  callee: string;
  direction: string;
  link: string | null;
  user: string | null;
  sipCallId: string | null;
  status: number | null;
  reason: string | null;
  endedBy: string | null;
  endReason: string | null;
  media: null | {
    nodeId: string;
    summary: Record<string, { packets: number; lost: number; mos: number } | null>;
    samples?: { intervalMs: number; browserToPbx: unknown[]; pbxToBrowser: { t: number; mos: number | null }[] };
  };
}

interface CallPage {
  calls: CallView[];
  next?: string;
}

async function api(path: string, headers: Record<string, string> = operatorHeaders()): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1${path}`, { headers });
}

async function callsOf(user: string, query = ''): Promise<CallView[]> {
  const response = await api(`/calls?user=${user}${query}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as CallPage).calls;
}

/** The record of `user`'s one call, once it has `ready`. */
async function recordOf(user: string, ready: (call: CallView) => boolean): Promise<CallView> {
  return vi.waitFor(
    async () => {
      const [call] = await callsOf(user);
      if (call === undefined || !ready(call)) throw new Error(`no finished record for ${user} yet`);
      return call;
    },
    { timeout: 5_000, interval: 50 },
  );
}

/** Alice calls Bob, Bob answers; the caller's Call-ID is returned with both phones. */
async function answeredCall(alice: string, bob: string) {
  const caller = await Phone.online(alice, PASSWORD);
  const callee = await Phone.online(bob, PASSWORD);
  const outgoing = await caller.call(bob);
  const incoming = await callee.incoming();
  incoming.answer();
  expect((await outgoing.response()).status).toBe(200);
  outgoing.ack();
  await callee.expectRequest('ACK');
  return { caller, callee, outgoing, callId: getHeader(outgoing.invite, 'Call-ID') };
}

async function signedEndReport(body: unknown): Promise<Response> {
  const text = JSON.stringify(body);
  const path = '/api/v1/media-nodes/session-ended';
  const headers = await new RequestSigner(env.SIPEDGE_MEDIA_SECRET).sign({ method: 'POST', path, body: text });
  return exports.default.fetch(`${EDGE}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: text });
}

describe('a call between two users of the edge', () => {
  it('is live while it lasts, then has its status, duration and who hung up', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const { caller, callee, outgoing, callId } = await answeredCall(alice!, bob!);

    const live = await recordOf(alice!, (call) => call.answeredAt !== null);
    expect(live).toMatchObject({ live: true, endedAt: null, caller: alice, callee: bob, direction: 'local', link: null, user: alice, sipCallId: callId, status: 200, media: null });
    expect((await callsOf(alice!, '&live=true')).map((call) => call.id)).toEqual([live.id]);
    // Bob took part in it too.
    expect((await callsOf(bob!)).map((call) => call.id)).toEqual([live.id]);

    outgoing.request('BYE');
    expect((await caller.expectResponse()).status).toBe(200);
    callee.respond(await callee.expectRequest('BYE'), 200);

    const ended = await recordOf(alice!, (call) => call.endedAt !== null);
    expect(ended).toMatchObject({ id: live.id, live: false, status: 200, reason: 'OK', endedBy: 'caller', endReason: 'BYE from the caller' });
    expect(Date.parse(ended.endedAt as string)).toBeGreaterThanOrEqual(Date.parse(ended.answeredAt as string));
    expect(Date.parse(ended.answeredAt as string)).toBeGreaterThanOrEqual(Date.parse(ended.startedAt));
    expect(ended.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(await callsOf(alice!, '&live=true')).toEqual([]);

    const one = await api(`/calls/${live.id}`);
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(ended);
    caller.socket.close();
    callee.socket.close();
  });

  it('that the callee turns down ends with its status, never answered, hung up by the callee', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    const callee = await Phone.online(bob!, PASSWORD);
    const outgoing = await caller.call(bob!);
    (await callee.incoming()).reject(486);
    await callee.expectRequest('ACK');
    const busy = await outgoing.response();
    expect(busy.status).toBe(486);
    outgoing.ackFailure(busy);
    const record = await recordOf(alice!, (call) => call.endedAt !== null);
    expect(record).toMatchObject({ status: 486, reason: 'Busy Here', answeredAt: null, durationSeconds: null, endedBy: 'callee', live: false });
    caller.socket.close();
    callee.socket.close();
  });
});

describe('a media session-ended report', () => {
  it('attaches the node, its quality summary and samples to the call its session id names', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const { caller, callee, outgoing } = await answeredCall(alice!, bob!);
    const record = await recordOf(alice!, (call) => call.answeredAt !== null);
    outgoing.request('BYE');
    expect((await caller.expectResponse()).status).toBe(200);
    callee.respond(await callee.expectRequest('BYE'), 200);
    // Record updates reach the Directory in batches (`CALL_RECORD_BATCH_MS`): wait for the end.
    await recordOf(alice!, (call) => call.endedAt !== null);

    const received = { packets: 1480, lost: 20, lossPercent: 1.33, jitterMs: 3.2, roundTripMs: 41, mos: 4.21 };
    const sample = (t: number, mos: number | null) => ({ t, packets: 250, lost: 3, lossPercent: 1.2, jitterMs: 3, roundTripMs: 40, mos });
    const accepted = await signedEndReport({
      nodeId: 'node-q',
      sessionId: `link.trunk-q.${record.id}`,
      reason: 'closed',
      endedAt: new Date().toISOString(),
      requested: true,
      stats: { codecs: { browser: 'opus/48000', pbx: 'PCMU/8000' }, browserToPbx: { received }, pbxToBrowser: { received: { ...received, roundTripMs: undefined } } },
      samples: { intervalMs: 5000, browserToPbx: [sample(5, 4.3), sample(10, 4.25)], pbxToBrowser: [sample(5, 4.1), sample(10, null)] },
    });
    expect(accepted.status).toBe(200);

    const one = (await (await api(`/calls/${record.id}`)).json()) as CallView;
    expect(one.media).toMatchObject({
      nodeId: 'node-q',
      summary: { browserToPbx: { packets: 1480, lost: 20, mos: 4.21 }, pbxToBrowser: { roundTripMs: null } },
      samples: { intervalMs: 5000 },
    });
    expect(one.media?.samples?.pbxToBrowser.map((each) => each.mos)).toEqual([4.1, null]);
    // The list carries the summary only.
    const [listed] = await callsOf(alice!);
    expect(listed?.media?.summary['browserToPbx']?.packets).toBe(1480);
    expect(listed?.media?.samples).toBeUndefined();
    // The edge asked for that end: the call is not hung up again, and its signalling record stands.
    expect(one).toMatchObject({ status: 200, endedBy: 'caller' });
    caller.socket.close();
    callee.socket.close();
  });
});

const PBX_OFFER = 'v=0\r\no=node 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
const PBX_ANSWER = 'v=0\r\no=pbx 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';
const BROWSER_ANSWER = 'v=0\r\no=node 2 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';

/** A media node's control API as a link sees it: sessions answered at once, their ids recorded. */
function fakeMediaNode(): { readonly sessions: string[]; readonly fetch: typeof fetch } {
  const sessions: string[] = [];
  return {
    sessions,
    fetch: async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, string>) : {};
      if (init?.method === 'POST' && url.pathname === '/v1/sessions') {
        sessions.push(body['id'] as string);
        return Response.json({ id: body['id'], offeredBy: 'browser', browserAnswer: BROWSER_ANSWER, pbxOffer: PBX_OFFER }, { status: 201 });
      }
      return Response.json({ id: url.pathname.split('/')[3] }, { status: 200 });
    },
  };
}

describe('a call out through a PBX link', () => {
  it('is recorded as outbound via that link, and the media node ending it files its figures and who ended it', async () => {
    const [alice] = await freshUsers('alice');
    const now = new Date().toISOString();
    await env.MEDIA_FLEET.get(env.MEDIA_FLEET.idFromName('fleet')).heartbeat({
      nodeId: 'records-node', region: 'test', state: 'up', controlUrl: 'http://media.test', pbxAddress: '127.0.0.1', capacity: 100, sessions: 0, load: 0, cpu: null, startedAt: now, sentAt: now,
    });
    const node = fakeMediaNode();
    const pbx = new FakePbx();
    const linkId = 'records-trunk';
    await runInDurableObject(linkStub(linkId), (instance: PbxLink) => {
      instance.connector = pbx.connector;
      instance.clock = new FakeClock(Date.now());
      instance.mediaFetch = node.fetch;
    });
    expect((await putLink(linkId, { host: 'pbx.example', transport: 'tcp', register: false })).status).toBe(201);

    const caller = await Phone.online(alice!, PASSWORD);
    const call = await caller.call('4930123456');
    const invite = await vi.waitFor(() => {
      const found = pbx.requests.find((request) => request.method === 'INVITE');
      if (found === undefined) throw new Error('no INVITE at the PBX yet');
      return found as SipRequest;
    }, { timeout: 5_000, interval: 20 });
    const ok = createResponse(invite, 200, undefined, { toTag: 'pbx-tag', headers: [{ name: 'Contact', value: '<sip:ext@192.0.2.7:5060;transport=tcp>' }], body: PBX_ANSWER, contentType: 'application/sdp' });
    await inLink(linkId, () => pbx.last.send(serializeMessage(ok)));
    expect((await call.response()).status).toBe(200);
    call.ack();
    const live = await recordOf(alice!, (each) => each.answeredAt !== null);
    expect(live).toMatchObject({ direction: 'outbound', link: linkId, caller: alice, callee: '4930123456', live: true });

    // The node's own end (media timeout), as it reports it: the call ends, and its record says why.
    const [sessionId] = node.sessions;
    expect(sessionId).toBe(`link.${linkId}.${live.id}`);
    const received = { packets: 900, lost: 0, lossPercent: 0, jitterMs: 1.5, roundTripMs: 22, mos: 4.4 };
    const reported = await signedEndReport({
      nodeId: 'records-node', sessionId, reason: 'media-timeout', endedAt: new Date().toISOString(), requested: false,
      stats: { browserToPbx: { received }, pbxToBrowser: { received } },
      samples: { intervalMs: 5000, browserToPbx: [{ t: 5, packets: 250, lost: 0, lossPercent: 0, jitterMs: 1.5, roundTripMs: null, mos: 4.4 }], pbxToBrowser: [] },
    });
    expect(reported.status).toBe(200);
    const bye = await caller.expectRequest('BYE');
    caller.respond(bye, 200);
    const ended = await recordOf(alice!, (each) => each.endedAt !== null && each.media !== null);
    expect(ended).toMatchObject({ status: 200, endedBy: 'edge', media: { nodeId: 'records-node', summary: { pbxToBrowser: { mos: 4.4 } } } });
    expect(ended.endReason).toBe('media node: media-timeout');
    caller.socket.close();
    await deleteLink(linkId);
  });
});

describe('the list of calls', () => {
  it('pages newest first with a cursor, and names a bad cursor or limit', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const caller = await Phone.online(alice!, PASSWORD);
    // Bob has no device: each call ends at once with 480.
    for (let i = 0; i < 3; i++) {
      const attempt = await caller.call(bob!);
      const answer = await attempt.response();
      expect(answer.status).toBe(480);
      attempt.ackFailure(answer);
    }
    await vi.waitFor(async () => expect((await callsOf(alice!)).filter((call) => call.endedAt !== null)).toHaveLength(3), { timeout: 5_000, interval: 50 });
    const all = await callsOf(alice!);
    expect(all.every((call) => call.status === 480 && call.endedBy === 'edge')).toBe(true);
    const starts = all.map((call) => Date.parse(call.startedAt));
    expect(starts).toEqual([...starts].sort((a, b) => b - a));

    const first = (await (await api(`/calls?user=${alice}&limit=2`)).json()) as CallPage;
    expect(first.calls.map((call) => call.id)).toEqual(all.slice(0, 2).map((call) => call.id));
    expect(first.next).toBeDefined();
    const second = (await (await api(`/calls?user=${alice}&limit=2&cursor=${first.next}`)).json()) as CallPage;
    expect(second.calls.map((call) => call.id)).toEqual(all.slice(2).map((call) => call.id));
    expect(second.next).toBeUndefined();

    const badCursor = await api('/calls?cursor=bm90LWEtY3Vyc29y');
    expect(badCursor.status).toBe(400);
    expect(await badCursor.json()).toMatchObject({ errors: [{ parameter: 'cursor' }] });
    const badLimit = await api('/calls?limit=0');
    expect(badLimit.status).toBe(400);
    expect(await badLimit.json()).toMatchObject({ errors: [{ parameter: 'limit' }] });
    expect((await api('/calls/no-such-call')).status).toBe(404);
    caller.socket.close();
  });
});

describe('access', () => {
  it('needs an operator token; a user token reads only its own calls under /me/calls', async () => {
    const [alice, bob, carol] = await freshUsers('alice', 'bob', 'carol');
    const { caller, callee, outgoing } = await answeredCall(alice!, bob!);
    const record = await recordOf(alice!, (call) => call.answeredAt !== null);
    outgoing.request('BYE');
    expect((await caller.expectResponse()).status).toBe(200);
    callee.respond(await callee.expectRequest('BYE'), 200);

    expect((await exports.default.fetch(`${EDGE}/api/v1/calls`)).status).toBe(401);
    const token = async (username: string): Promise<Record<string, string>> => {
      const created = await exports.default.fetch(`${EDGE}/api/v1/tokens`, { method: 'POST', headers: operatorHeaders(), body: JSON.stringify({ name: `${username} phone`, username }) });
      expect(created.status).toBe(201);
      return { Authorization: `Bearer ${((await created.json()) as { token: string }).token}` };
    };
    const bobs = await token(bob!);
    const carols = await token(carol!);
    expect((await api('/calls', bobs)).status).toBe(403);
    expect((await api(`/calls/${record.id}`, bobs)).status).toBe(403);

    const mine = (await (await api('/me/calls', bobs)).json()) as CallPage;
    expect(mine.calls.map((call) => call.id)).toEqual([record.id]);
    expect((await api(`/me/calls/${record.id}`, bobs)).status).toBe(200);
    expect(((await (await api('/me/calls', carols)).json()) as CallPage).calls).toEqual([]);
    expect((await api(`/me/calls/${record.id}`, carols)).status).toBe(404);
    caller.socket.close();
    callee.socket.close();
  });
});
