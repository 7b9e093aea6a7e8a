/**
 * Calls from a browser user through PbxLinks (the trunk half, `workers/pbx/link-calls.ts`), with a
 * fake PBX on each link's connection and a fake media node behind the links' control client: the
 * caller is a real SipUser and a WebSocket phone, routing is the real Routing object (no rules:
 * every link that can terminate, in id order).
 */
import { env, exports } from 'cloudflare:workers';
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { createResponse, getCSeq, getHeader, getHeaders, serializeMessage, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { RequestSigner } from '../../shared/signing/index.ts';
import type { MediaFleet } from '../../workers/media/media-fleet.ts';
import type { PbxLink } from '../../workers/pbx/pbx-link.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { FakePbx } from './support/fake-pbx.ts';
import { deleteLink, inLink, linkStub, putLink, registeredLink as registeredLinkOf } from './support/pbx-links.ts';
import { ANSWER_SDP, bodyText, OFFER_SDP, Phone } from './support/phone.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders } from './support/users.ts';
import { mediaNodeUp } from './support/media-nodes.ts';

const PBX_OFFER = 'v=0\r\no=node 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
const PBX_ANSWER = 'v=0\r\no=pbx 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';
const BROWSER_ANSWER = 'v=0\r\no=node 2 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';

const NODE_BROWSER_OFFER = 'v=0\r\no=node 3 3 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=setup:actpass\r\n';
const NODE_HOLD_ANSWER = 'v=0\r\no=node 2 3 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=recvonly\r\n';

/** A media node's control API as the links see it: every request recorded, sessions answered at once. */
class FakeMediaNode {
  readonly requests: { method: string; path: string; body: Record<string, string> }[] = [];
  /** Whether the PBX leg negotiated telephone-event (DTMF requests are refused with 409 when not). */
  telephoneEvent = true;

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, string>) : {};
    this.requests.push({ method, path: url.pathname, body });
    if (method === 'POST' && url.pathname === '/v1/sessions') {
      if (body.browserOffer !== undefined) return Response.json({ id: body.id, offeredBy: 'browser', browserAnswer: BROWSER_ANSWER, pbxOffer: PBX_OFFER }, { status: 201 });
      if (body.pbxOffer !== undefined) return Response.json({ id: body.id, offeredBy: 'pbx', pbxAnswer: PBX_OFFER, browserOffer: NODE_BROWSER_OFFER }, { status: 201 });
      return Response.json({ id: body.id, offeredBy: 'node', pbxOffer: PBX_OFFER, browserOffer: NODE_BROWSER_OFFER }, { status: 201 });
    }
    if (method === 'POST' && url.pathname.endsWith('/dtmf')) {
      if (!this.telephoneEvent) return Response.json({ status: 409, reason: 'no-telephone-event', detail: 'the PBX leg negotiated no telephone-event' }, { status: 409 });
      return Response.json({ id: url.pathname.split('/')[3], ...body, pending: 1 }, { status: 202 });
    }
    if (method === 'PATCH') {
      const answer = body.browserOffer !== undefined ? { browserAnswer: NODE_HOLD_ANSWER } : { pbxAnswer: PBX_OFFER };
      return Response.json({ id: url.pathname.split('/')[3], ...answer }, { status: 200 });
    }
    return Response.json({ id: url.pathname.split('/')[3] }, { status: 200 });
  };

  /** `METHOD path` of each request, in order. */
  get log(): string[] {
    return this.requests.map((request) => `${request.method} ${request.path}`);
  }
}

let links = 0;

/** Links named so that they sort in `names` order, each with a fake PBX and the fake node; other tests' links are deleted first. */
async function trunks(node: FakeMediaNode, count: number): Promise<{ ids: string[]; pbxs: FakePbx[] }> {
  links += 1;
  const ids = Array.from({ length: count }, (_unused, index) => `t${links}-${String.fromCharCode(97 + index)}`);
  const pbxs = ids.map(() => new FakePbx());
  for (const [index, id] of ids.entries()) {
    await runInDurableObject(linkStub(id), (instance: PbxLink) => {
      instance.connector = pbxs[index]!.connector;
      instance.clock = new FakeClock(Date.now());
      instance.mediaFetch = node.fetch;
    });
    const response = await putLink(id, { host: `pbx-${index}.example`, transport: 'tcp', register: false, username: 'edge', password: 'trunk password' });
    expect(response.status).toBe(201);
  }
  return { ids, pbxs };
}

/** A fresh user `alice…` and one trunk with a fake PBX, anchored on the fake media node, which is up. */
async function oneTrunk(): Promise<{ alice: string; node: FakeMediaNode; id: string; ids: string[]; pbx: FakePbx }> {
  const [alice] = await freshUsers('alice');
  const node = new FakeMediaNode();
  await mediaNodeUp();
  const { ids, pbxs } = await trunks(node, 1);
  return { alice: alice!, node, id: ids[0]!, ids, pbx: pbxs[0]! };
}

async function invites(pbx: FakePbx, count: number): Promise<SipRequest[]> {
  return vi.waitFor(() => {
    const seen = pbx.requests.filter((request) => request.method === 'INVITE');
    if (seen.length < count) throw new Error(`${seen.length} INVITEs, waiting for ${count}`);
    return seen;
  }, { timeout: 5_000, interval: 20 });
}

/** The PBX's response to `request`, with a body when given. */
function pbxResponse(request: SipRequest, status: number, body?: string, headers: { name: string; value: string }[] = []): string {
  return serializeMessage(createResponse(request, status, undefined, {
    toTag: 'pbx-tag',
    headers: [...(status < 300 ? [{ name: 'Contact', value: '<sip:ext@192.0.2.7:5060;transport=tcp>' }] : []), ...headers],
    ...(body === undefined ? {} : { body, contentType: 'application/sdp' }),
  }));
}

async function cleanUp(ids: readonly string[]): Promise<void> {
  for (const id of ids) await deleteLink(id);
}

describe('a call from a browser user through a PbxLink', () => {
  it('answers the PBX\'s 407 with the link\'s credentials, relays the ringing, and bridges the answer through the media node', async () => {
    const { alice, node, id, ids, pbx } = await oneTrunk();
    const caller = await Phone.online(alice, PASSWORD);
    const call = await caller.call('4930123456');

    const [first] = await invites(pbx, 1);
    expect(first!.uri).toBe('sip:4930123456@pbx-0.example:5060;transport=tcp');
    expect(getHeader(first!, 'From')).toContain(`<sip:${alice}@pbx-0.example>`);
    expect(new TextDecoder().decode(first!.body)).toBe(PBX_OFFER);
    expect(node.requests[0]).toMatchObject({ method: 'POST', path: '/v1/sessions', body: { browserOffer: bodyText(call.invite) } });

    await inLink(id, () => pbx.last.send(pbxResponse(first!, 407, undefined, [{ name: 'Proxy-Authenticate', value: 'Digest realm="pbx-0.example", nonce="n1", qop="auth"' }])));
    const [, second] = await invites(pbx, 2);
    expect(getHeader(second!, 'Proxy-Authorization')).toMatch(/^Digest username="edge", realm="pbx-0.example", nonce="n1"/);
    expect(getCSeq(second!)?.seq).toBe((getCSeq(first!)?.seq ?? 0) + 1);

    await inLink(id, () => pbx.last.send(pbxResponse(second!, 180)));
    expect((await call.response()).status).toBe(180);
    // Early media: the PBX's 183 answer goes to the node, and the caller hears the node's ringback path.
    await inLink(id, () => pbx.last.send(pbxResponse(second!, 183, PBX_ANSWER)));
    const early = await call.response();
    expect(early.status).toBe(183);
    expect(bodyText(early)).toBe(BROWSER_ANSWER);
    await inLink(id, () => pbx.last.send(pbxResponse(second!, 200, PBX_ANSWER)));
    const answer = await call.response();
    expect(answer.status).toBe(200);
    expect(bodyText(answer)).toBe(BROWSER_ANSWER);
    expect(node.requests.find((request) => request.path.endsWith('/answer'))?.body).toEqual({ pbxAnswer: PBX_ANSWER });
    call.ack();
    await vi.waitFor(() => expect(pbx.requests.map((request) => request.method)).toContain('ACK'), { timeout: 5_000 });

    // The PBX hangs up: the browser gets BYE, and the media session is deleted.
    const bye = `BYE sip:edge@x.invalid;transport=tcp SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.7;branch=z9hG4bKbye1\r\nMax-Forwards: 70\r\nFrom: ${getHeader(second!, 'To')};tag=pbx-tag\r\nTo: ${getHeader(second!, 'From')}\r\nCall-ID: ${getHeader(second!, 'Call-ID')}\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n`;
    await inLink(id, () => pbx.last.send(bye));
    const byeAtBrowser = await caller.expectRequest('BYE');
    caller.respond(byeAtBrowser, 200);
    await vi.waitFor(() => expect(pbx.last.responses.map((response) => `${response.status} ${getCSeq(response)?.method}`)).toContain('200 BYE'), { timeout: 5_000 });
    await vi.waitFor(() => expect(node.log).toContain(`DELETE /v1/sessions/link.${id}.${node.requests[0]!.body.id!.split('.').at(-1)}`), { timeout: 5_000 });
    caller.socket.close();
    await cleanUp(ids);
  });

  it('fails over to the next link on 503, deleting the first attempt\'s media session', async () => {
    const [alice] = await freshUsers('alice');
    const node = new FakeMediaNode();
    await mediaNodeUp();
    const { ids, pbxs } = await trunks(node, 2);
    const [first, second] = ids as [string, string];
    const caller = await Phone.online(alice!, PASSWORD);
    const call = await caller.call('4930999');

    const [toFirst] = await invites(pbxs[0]!, 1);
    await inLink(first, () => pbxs[0]!.last.send(pbxResponse(toFirst!, 503)));
    const forwarded = await call.response();
    expect(forwarded.status).toBe(181);
    expect(getHeader(forwarded, 'Reason')).toBe('SIP;cause=503;text="Service Unavailable"');
    const [toSecond] = await invites(pbxs[1]!, 1);
    expect(toSecond!.uri).toBe('sip:4930999@pbx-1.example:5060;transport=tcp');
    await vi.waitFor(() => expect(node.log.filter((line) => line.startsWith(`DELETE /v1/sessions/link.${first}.`))).toHaveLength(1), { timeout: 5_000 });

    await inLink(second, () => pbxs[1]!.last.send(pbxResponse(toSecond!, 200, PBX_ANSWER)));
    const answer = await call.response();
    expect(answer.status).toBe(200);
    expect(bodyText(answer)).toBe(BROWSER_ANSWER);
    call.ack();
    call.request('BYE');
    expect((await caller.expectResponse()).status).toBe(200);
    await vi.waitFor(() => expect(pbxs[1]!.requests.map((request) => request.method)).toContain('BYE'), { timeout: 5_000 });
    await vi.waitFor(() => expect(node.log.filter((line) => line.startsWith(`DELETE /v1/sessions/link.${second}.`))).toHaveLength(1), { timeout: 5_000 });
    caller.socket.close();
    await cleanUp(ids);
  });

  it('hangs up both legs when the media node reports the session ended (media timeout)', async () => {
    const { alice, node, id, ids, pbx } = await oneTrunk();
    const caller = await Phone.online(alice, PASSWORD);
    const call = await caller.call('4930777');
    const [invite] = await invites(pbx, 1);
    await inLink(id, () => pbx.last.send(pbxResponse(invite!, 200, PBX_ANSWER)));
    expect((await call.response()).status).toBe(200);
    call.ack();
    await vi.waitFor(() => expect(pbx.requests.map((request) => request.method)).toContain('ACK'), { timeout: 5_000 });

    const sessionId = node.requests[0]!.body.id!;
    const report = JSON.stringify({ nodeId: 'fake-node', sessionId, reason: 'media-timeout', endedAt: new Date().toISOString() });
    const path = '/api/v1/media-nodes/session-ended';
    const headers = await new RequestSigner(env.SIPEDGE_MEDIA_SECRET).sign({ method: 'POST', path, body: report });
    const accepted = await exports.default.fetch(`${EDGE}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: report });
    expect(accepted.status).toBe(200);

    const bye = await caller.expectRequest('BYE');
    expect(getHeader(bye, 'Reason')).toContain('media-timeout');
    caller.respond(bye, 200);
    await vi.waitFor(() => expect(pbx.requests.map((request) => request.method)).toContain('BYE'), { timeout: 5_000 });
    caller.socket.close();
    await cleanUp(ids);
  });

  it('ends the call, BYE to the browser and the media session deleted, when the connection to the PBX is lost for 32 s', async () => {
    const { alice, node, id, ids, pbx } = await oneTrunk();
    const clock = new FakeClock(Date.now());
    await runInDurableObject(linkStub(id), (instance: PbxLink) => {
      instance.clock = clock;
    });
    const caller = await Phone.online(alice, PASSWORD);
    const call = await caller.call('4930555');
    const [invite] = await invites(pbx, 1);
    await inLink(id, () => pbx.last.send(pbxResponse(invite!, 200, PBX_ANSWER)));
    expect((await call.response()).status).toBe(200);
    call.ack();
    await vi.waitFor(() => expect(pbx.requests.map((request) => request.method)).toContain('ACK'), { timeout: 5_000 });

    // The PBX goes away for good: the connection drops and no new one can be made.
    pbx.refuse = 'connection refused';
    const lostAt = clock.now();
    await inLink(id, () => pbx.last.drop('connection reset by peer'));
    // Within the grace nothing ends (the alarm rings for other timers, the trace's flush among them).
    clock.advanceTo(lostAt + 31_000);
    expect(await runDurableObjectAlarm(linkStub(id))).toBe(true);
    expect(node.log.some((line) => line.startsWith('DELETE'))).toBe(false);
    expect(await runInDurableObject(linkStub(id), (_instance: PbxLink, state) => state.storage.getAlarm())).toBe(lostAt + 32_000);
    clock.advanceTo(lostAt + 32_000);
    expect(await runDurableObjectAlarm(linkStub(id))).toBe(true);

    const bye = await caller.expectRequest('BYE');
    expect(getHeader(bye, 'Reason')).toContain('not restored within 32 s');
    caller.respond(bye, 200);
    await vi.waitFor(() => expect(node.log.filter((line) => line.startsWith(`DELETE /v1/sessions/link.${id}.`))).toHaveLength(1), { timeout: 5_000 });
    // The BYE toward the PBX is tried on a new connection (refused here).
    await vi.waitFor(() => expect(pbx.connections.length).toBeGreaterThan(1), { timeout: 5_000 });
    caller.socket.close();
    await cleanUp(ids);
  });

  it('opens a new connection for a call whose connection dropped, and the call goes on over it', async () => {
    const { alice, node, id, ids, pbx } = await oneTrunk();
    const clock = new FakeClock(Date.now());
    await runInDurableObject(linkStub(id), (instance: PbxLink) => {
      instance.clock = clock;
    });
    const caller = await Phone.online(alice, PASSWORD);
    const call = await caller.call('4930556');
    const [invite] = await invites(pbx, 1);
    await inLink(id, () => pbx.last.send(pbxResponse(invite!, 200, PBX_ANSWER)));
    expect((await call.response()).status).toBe(200);
    call.ack();
    await vi.waitFor(() => expect(pbx.requests.map((request) => request.method)).toContain('ACK'), { timeout: 5_000 });

    const lostAt = clock.now();
    await inLink(id, () => pbx.last.drop('connection reset by peer'));
    // A trunk that does not register: the link itself opens a new connection for the call, 1 s later.
    clock.advanceTo(lostAt + 1_000);
    expect(await runDurableObjectAlarm(linkStub(id))).toBe(true);
    await vi.waitFor(() => expect(pbx.connections).toHaveLength(2), { timeout: 5_000 });
    await inLink(id, () => undefined);
    // Past the grace, the call is still up: the browser's BYE reaches the PBX over the new connection.
    clock.advanceTo(lostAt + 40_000);
    await runDurableObjectAlarm(linkStub(id));
    expect(node.log.some((line) => line.startsWith('DELETE'))).toBe(false);
    call.request('BYE');
    expect((await caller.expectResponse()).status).toBe(200);
    await vi.waitFor(() => expect(pbx.connections[1]!.requests.map((request) => request.method)).toContain('BYE'), { timeout: 5_000 });
    caller.socket.close();
    await cleanUp(ids);
  });

  it('hangs up both legs when the media node carrying the call restarts', async () => {
    const { alice, id, ids, pbx } = await oneTrunk();
    const caller = await Phone.online(alice, PASSWORD);
    const call = await caller.call('4930888');
    const [invite] = await invites(pbx, 1);
    await inLink(id, () => pbx.last.send(pbxResponse(invite!, 200, PBX_ANSWER)));
    expect((await call.response()).status).toBe(200);
    call.ack();

    const now = new Date(Date.now() + 1000).toISOString();
    const beat = JSON.stringify({ nodeId: 'fake-node', region: 'test', state: 'up', controlUrl: 'http://media.test', pbxAddress: '127.0.0.1', capacity: 100, sessions: 0, load: 0, cpu: null, startedAt: now, sentAt: now });
    const path = '/api/v1/media-nodes/heartbeat';
    const headers = await new RequestSigner(env.SIPEDGE_MEDIA_SECRET).sign({ method: 'POST', path, body: beat });
    expect((await exports.default.fetch(`${EDGE}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: beat })).status).toBe(200);

    const bye = await caller.expectRequest('BYE');
    expect(getHeader(bye, 'Reason')).toContain('media-node-restarted');
    caller.respond(bye, 200);
    await vi.waitFor(() => expect(pbx.requests.map((request) => request.method)).toContain('BYE'), { timeout: 5_000 });
    caller.socket.close();
    await cleanUp(ids);
  });

  it('hangs up both legs when the media node carrying the call misses three heartbeats', async () => {
    const [alice] = await freshUsers('alice');
    const node = new FakeMediaNode();
    const fleet = env.MEDIA_FLEET.get(env.MEDIA_FLEET.idFromName('fleet'));
    const clock = new FakeClock(Date.now());
    const realClock = await runInDurableObject(fleet, (instance: MediaFleet) => {
      const before = instance.clock;
      instance.clock = clock;
      return before;
    });
    try {
      await mediaNodeUp();
      const { ids, pbxs } = await trunks(node, 1);
      const [id] = ids as [string];
      const [pbx] = pbxs as [FakePbx];
      const caller = await Phone.online(alice!, PASSWORD);
      const call = await caller.call('4930444');
      const [invite] = await invites(pbx, 1);
      await inLink(id, () => pbx.last.send(pbxResponse(invite!, 200, PBX_ANSWER)));
      expect((await call.response()).status).toBe(200);
      call.ack();

      // Three heartbeat intervals (10 s each here) pass in silence: the fleet's alarm finds the node lost.
      clock.advance(31_000);
      expect(await runDurableObjectAlarm(fleet)).toBe(true);
      const bye = await caller.expectRequest('BYE');
      expect(getHeader(bye, 'Reason')).toContain('media-node-lost');
      caller.respond(bye, 200);
      await vi.waitFor(() => expect(pbx.requests.map((request) => request.method)).toContain('BYE'), { timeout: 5_000 });
      caller.socket.close();
      await cleanUp(ids);
    } finally {
      await runInDurableObject(fleet, (instance: MediaFleet) => {
        instance.clock = realClock;
      });
    }
  });

  it('cancels toward the PBX when the caller gives up before an answer, and deletes the media session', async () => {
    const { alice, node, id, ids, pbx } = await oneTrunk();
    const caller = await Phone.online(alice, PASSWORD);
    const call = await caller.call('4930555');
    const [invite] = await invites(pbx, 1);
    await inLink(id, () => pbx.last.send(pbxResponse(invite!, 180)));
    expect((await call.response()).status).toBe(180);

    call.cancel();
    const cancel = await vi.waitFor(() => {
      const found = pbx.requests.find((request) => request.method === 'CANCEL');
      if (found === undefined) throw new Error('no CANCEL yet');
      return found;
    }, { timeout: 5_000 });
    await inLink(id, () => {
      pbx.last.send(pbxResponse(cancel, 200));
      pbx.last.send(pbxResponse(invite!, 487));
    });
    const responses = [await caller.expectResponse(), await caller.expectResponse()].map((response) => `${response.status} ${getCSeq(response)?.method}`);
    expect(responses.sort()).toEqual(['200 CANCEL', '487 INVITE']);
    await vi.waitFor(() => expect(node.log.some((line) => line.startsWith(`DELETE /v1/sessions/link.${id}.`))).toBe(true), { timeout: 5_000 });
    caller.socket.close();
    await cleanUp(ids);
  });
});

describe('reliable provisional responses (RFC 3262) from a PBX', () => {
  it('relays the PBX\'s reliable 183 with its SDP swapped to a caller that supports 100rel, and the caller\'s PRACK back to the PBX', async () => {
    const { alice, id, ids, pbx } = await oneTrunk();
    const caller = await Phone.online(alice, PASSWORD);
    const call = await caller.call('4930123456', undefined, [{ name: 'Supported', value: '100rel' }]);
    const [invite] = await invites(pbx, 1);
    expect(getHeaders(invite!, 'Supported')).toContain('100rel');
    await inLink(id, () => pbx.last.send(pbxResponse(invite!, 183, PBX_ANSWER, [{ name: 'Require', value: '100rel' }, { name: 'RSeq', value: '41' }])));
    const early = await call.response();
    expect(early.status).toBe(183);
    expect(getHeaders(early, 'Require')).toEqual(['100rel']);
    expect(getHeader(early, 'RSeq')).toBe('41');
    // The ringback the user hears comes through the node: the browser gets the node's answer.
    expect(bodyText(early)).toBe(BROWSER_ANSWER);
    call.request('PRACK', { headers: [{ name: 'RAck', value: `41 ${getCSeq(call.invite)?.seq} INVITE` }] });
    const prack = await vi.waitFor(() => {
      const found = pbx.requests.find((request) => request.method === 'PRACK');
      if (found === undefined) throw new Error('no PRACK at the PBX yet');
      return found;
    }, { timeout: 5_000, interval: 20 });
    expect(getHeader(prack, 'RAck')).toBe(`41 ${getCSeq(invite!)?.seq} INVITE`);
    await inLink(id, () => pbx.last.send(serializeMessage(createResponse(prack, 200, undefined, { toTag: 'pbx-tag' }))));
    const pracked = await caller.expectResponse();
    expect(`${pracked.status} ${getCSeq(pracked)?.method}`).toBe('200 PRACK');
    await inLink(id, () => pbx.last.send(pbxResponse(invite!, 200, PBX_ANSWER)));
    expect((await call.response()).status).toBe(200);
    call.ack();
    await vi.waitFor(() => expect(pbx.requests.map((request) => request.method)).toContain('ACK'), { timeout: 5_000 });
    caller.socket.close();
    await cleanUp(ids);
  });

  it('PRACKs the PBX\'s reliable 183 itself for a caller without 100rel, which gets a plain 183 with the early media', async () => {
    const { alice, id, ids, pbx } = await oneTrunk();
    const caller = await Phone.online(alice, PASSWORD);
    const call = await caller.call('4930123456');
    const [invite] = await invites(pbx, 1);
    await inLink(id, () => pbx.last.send(pbxResponse(invite!, 183, PBX_ANSWER, [{ name: 'Require', value: '100rel' }, { name: 'RSeq', value: '7' }])));
    const early = await call.response();
    expect(early.status).toBe(183);
    expect(getHeader(early, 'RSeq')).toBeUndefined();
    expect(getHeaders(early, 'Require')).not.toContain('100rel');
    expect(bodyText(early)).toBe(BROWSER_ANSWER);
    const prack = await vi.waitFor(() => {
      const found = pbx.requests.find((request) => request.method === 'PRACK');
      if (found === undefined) throw new Error('no PRACK at the PBX yet');
      return found;
    }, { timeout: 5_000, interval: 20 });
    expect(getHeader(prack, 'RAck')).toBe(`7 ${getCSeq(invite!)?.seq} INVITE`);
    await inLink(id, () => pbx.last.send(serializeMessage(createResponse(prack, 200, undefined, { toTag: 'pbx-tag' }))));
    await inLink(id, () => pbx.last.send(pbxResponse(invite!, 200, PBX_ANSWER)));
    const answer = await call.response();
    expect(answer.status).toBe(200);
    expect(bodyText(answer)).toBe(BROWSER_ANSWER);
    call.ack();
    await vi.waitFor(() => expect(pbx.requests.map((request) => request.method)).toContain('ACK'), { timeout: 5_000 });
    caller.socket.close();
    await cleanUp(ids);
  });
});

describe('session timers toward a PBX', () => {
  it('tries the INVITE again with the PBX\'s Min-SE after its 422, and a bodiless UPDATE refresh from the PBX gets 200 though the browser does not do UPDATE', async () => {
    const { alice, id, ids, pbx } = await oneTrunk();
    const caller = await Phone.online(alice, PASSWORD);
    const call = await caller.call('4930123456', undefined, [{ name: 'Session-Expires', value: '120' }]);
    const [first] = await invites(pbx, 1);
    expect(getHeader(first!, 'Session-Expires')).toBe('120');
    await inLink(id, () => pbx.last.send(pbxResponse(first!, 422, undefined, [{ name: 'Min-SE', value: '1800' }])));
    const [, second] = await invites(pbx, 2);
    expect(getHeader(second!, 'Session-Expires')).toBe('1800');
    expect(getHeader(second!, 'Min-SE')).toBe('1800');
    expect(getCSeq(second!)?.seq).toBe((getCSeq(first!)?.seq ?? 0) + 1);
    expect(getHeader(second!, 'Call-ID')).toBe(getHeader(first!, 'Call-ID'));
    expect(new TextDecoder().decode(second!.body)).toBe(PBX_OFFER);
    await inLink(id, () => pbx.last.send(pbxResponse(second!, 200, PBX_ANSWER, [{ name: 'Session-Expires', value: '1800;refresher=uas' }])));
    const answer = await call.response();
    expect(answer.status).toBe(200);
    call.ack();
    await vi.waitFor(() => expect(pbx.requests.map((request) => request.method)).toContain('ACK'), { timeout: 5_000 });

    // The PBX refreshes with a bodiless UPDATE; the browser (SIP.js 0.21) refuses UPDATE; the PBX gets 200.
    const update = [
      `UPDATE sip:edge@x.invalid;transport=tcp SIP/2.0`,
      'Via: SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bKupd1',
      'Max-Forwards: 70',
      `From: ${getHeader(second!, 'To')};tag=pbx-tag`,
      `To: ${getHeader(second!, 'From')}`,
      `Call-ID: ${getHeader(second!, 'Call-ID')}`,
      'CSeq: 2 UPDATE',
      'Session-Expires: 1800;refresher=uas',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    await inLink(id, () => pbx.last.send(update));
    const atBrowser = await caller.expectRequest('UPDATE');
    caller.respond(atBrowser, 405, { headers: [{ name: 'Allow', value: 'INVITE, ACK, BYE, CANCEL, INFO' }] });
    const refreshed = await finalFor(pbx, 'UPDATE');
    expect(refreshed.status).toBe(200);
    expect(getHeader(refreshed, 'Session-Expires')).toBe('1800;refresher=uas');
    caller.socket.close();
    await cleanUp(ids);
  });

  it('gives the caller the PBX\'s second 422', async () => {
    const { alice, id, ids, pbx } = await oneTrunk();
    const caller = await Phone.online(alice, PASSWORD);
    const call = await caller.call('4930123456');
    const [first] = await invites(pbx, 1);
    expect(getHeader(first!, 'Session-Expires')).toBeUndefined();
    await inLink(id, () => pbx.last.send(pbxResponse(first!, 422, undefined, [{ name: 'Min-SE', value: '90' }])));
    const [, second] = await invites(pbx, 2);
    expect(getHeader(second!, 'Session-Expires')).toBe('90');
    await inLink(id, () => pbx.last.send(pbxResponse(second!, 422, undefined, [{ name: 'Min-SE', value: '3600' }])));
    const refused = await call.response();
    expect(refused.status).toBe(422);
    expect(getHeader(refused, 'Min-SE')).toBe('3600');
    caller.socket.close();
    await cleanUp(ids);
  });
});

describe('DTMF from a browser user in a call through a PbxLink', () => {
  it('has the media node send SIP INFO keys as RFC 4733 toward the PBX, and relays the INFO when the PBX has no telephone-event', async () => {
    const { alice, node, id, ids, pbx } = await oneTrunk();
    const caller = await Phone.online(alice, PASSWORD);
    const call = await caller.call('4930123456');
    const [invite] = await invites(pbx, 1);
    await inLink(id, () => pbx.last.send(pbxResponse(invite!, 200, PBX_ANSWER)));
    expect((await call.response()).status).toBe(200);
    call.ack();
    await vi.waitFor(() => expect(pbx.requests.map((request) => request.method)).toContain('ACK'), { timeout: 5_000 });

    call.request('INFO', { body: 'Signal=5\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' });
    const relayed = await caller.expectResponse();
    expect(`${relayed.status} ${getCSeq(relayed)?.method}`).toBe('200 INFO');
    expect(node.requests.filter((request) => request.path.endsWith('/dtmf')).map((request) => request.body)).toEqual([{ digit: '5', durationMs: 160 }]);
    expect(node.requests.find((request) => request.path.endsWith('/dtmf'))?.path).toBe(`/v1/sessions/${node.requests[0]!.body.id}/dtmf`);
    expect(pbx.requests.map((request) => request.method)).not.toContain('INFO');

    // The PBX answered without telephone-event: the INFO reaches it as the browser sent it.
    node.telephoneEvent = false;
    call.request('INFO', { body: '#', contentType: 'application/dtmf' });
    const info = await vi.waitFor(() => {
      const found = pbx.requests.find((request) => request.method === 'INFO');
      if (found === undefined) throw new Error('no INFO at the PBX yet');
      return found;
    }, { timeout: 5_000, interval: 20 });
    expect(new TextDecoder().decode(info.body)).toBe('#');
    expect(getHeader(info, 'Content-Type')).toBe('application/dtmf');
    await inLink(id, () => pbx.last.send(serializeMessage(createResponse(info, 200))));
    const answered = await caller.expectResponse();
    expect(`${answered.status} ${getCSeq(answered)?.method}`).toBe('200 INFO');

    // Another INFO body (not DTMF) is relayed untouched, and the node is not asked.
    const dtmfRequests = node.requests.filter((request) => request.path.endsWith('/dtmf')).length;
    call.request('INFO', { body: '{"k":1}', contentType: 'application/json' });
    await vi.waitFor(() => expect(pbx.requests.filter((request) => request.method === 'INFO')).toHaveLength(2), { timeout: 5_000, interval: 20 });
    expect(node.requests.filter((request) => request.path.endsWith('/dtmf'))).toHaveLength(dtmfRequests);
    caller.socket.close();
    await cleanUp(ids);
  });
});

/** A link registered to its fake PBX, whose `endpoint` takes the calls to its contact. */
async function registeredLink(node: FakeMediaNode, endpoint: string): Promise<{ id: string; pbx: FakePbx; contact: string }> {
  links += 1;
  return registeredLinkOf(`in${links}`, endpoint, node.fetch);
}

/** An INVITE from the PBX to the link's registered contact. */
function pbxInvite(contact: string, callId: string, sdp?: string): string {
  const body = sdp ?? '';
  return [
    `INVITE ${contact} SIP/2.0`,
    `Via: SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bK${callId}`,
    'Max-Forwards: 70',
    'From: "Reception" <sip:200@pbx.example>;tag=pf1',
    `To: <${contact}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    'Contact: <sip:200@192.0.2.7:5060;transport=tcp>',
    ...(body === '' ? [] : ['Content-Type: application/sdp']),
    `Content-Length: ${new TextEncoder().encode(body).length}`,
    '',
    body,
  ].join('\r\n');
}

/** A request from the PBX within the dialog its 200 (to `invite`) made. */
function pbxInDialog(method: string, ok: SipResponse, cseq: number, sdp = ''): string {
  return [
    `${method} sip:edge@x.invalid;transport=tcp SIP/2.0`,
    `Via: SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bK${method.toLowerCase()}${cseq}`,
    'Max-Forwards: 70',
    `From: ${getHeader(ok, 'From')}`,
    `To: ${getHeader(ok, 'To')}`,
    `Call-ID: ${getHeader(ok, 'Call-ID')}`,
    `CSeq: ${cseq} ${method}`,
    ...(sdp === '' ? [] : ['Content-Type: application/sdp']),
    `Content-Length: ${new TextEncoder().encode(sdp).length}`,
    '',
    sdp,
  ].join('\r\n');
}

function finalFor(pbx: FakePbx, method: string, status?: number): Promise<SipResponse> {
  return vi.waitFor(() => {
    const found = pbx.last.responses.find((response) => getCSeq(response)?.method === method && response.status >= 200 && (status === undefined || response.status === status));
    if (found === undefined) throw new Error(`no final response to ${method} yet`);
    return found;
  }, { timeout: 5_000, interval: 20 });
}

describe('a call from the PBX through a PbxLink', () => {
  it('rings the link\'s endpoint with the node\'s offer when the INVITE has none, takes the answer from the ACK, and keeps a browser re-INVITE on the node', async () => {
    const [alice] = await freshUsers('alice');
    const node = new FakeMediaNode();
    await mediaNodeUp();
    const callee = await Phone.online(alice!, PASSWORD);
    const { id, pbx, contact } = await registeredLink(node, alice!);
    await inLink(id, () => pbx.last.send(pbxInvite(contact, 'inbound-delayed')));

    const incoming = await callee.incoming();
    expect(bodyText(incoming.invite)).toBe(NODE_BROWSER_OFFER);
    expect(getHeader(incoming.invite, 'From')).toContain('<sip:200@pbx.example>');
    expect(node.requests[0]).toMatchObject({ method: 'POST', path: '/v1/sessions' });
    expect(node.requests[0]!.body).not.toHaveProperty('pbxOffer');
    incoming.ring();
    await vi.waitFor(() => expect(pbx.last.responses.map((response) => response.status)).toContain(180), { timeout: 5_000 });
    incoming.answer();
    const ok = await finalFor(pbx, 'INVITE');
    expect(ok.status).toBe(200);
    expect(bodyText(ok)).toBe(PBX_OFFER);
    expect(node.requests.find((request) => request.path.endsWith('/answer'))?.body).toEqual({ browserAnswer: ANSWER_SDP });

    await inLink(id, () => pbx.last.send(pbxInDialog('ACK', ok, 1, PBX_ANSWER)));
    const ack = await callee.expectRequest('ACK');
    expect(ack.body.length).toBe(0);
    await vi.waitFor(() => expect(node.requests.filter((request) => request.path.endsWith('/answer')).map((request) => request.body)).toContainEqual({ pbxAnswer: PBX_ANSWER }), { timeout: 5_000 });

    // Hold from the browser: the node answers for the browser's leg; the PBX hears nothing of it.
    const invitesBefore = pbx.requests.filter((request) => request.method === 'INVITE').length;
    incoming.request('INVITE', { body: OFFER_SDP.replace('a=sendrecv', 'a=sendonly') });
    const held = await callee.expectResponse();
    expect(held.status).toBe(200);
    expect(bodyText(held)).toBe(NODE_HOLD_ANSWER);
    expect(node.requests.find((request) => request.method === 'PATCH')?.body).toHaveProperty('browserOffer');
    incoming.ack();
    expect(pbx.requests.filter((request) => request.method === 'INVITE')).toHaveLength(invitesBefore);

    // A re-INVITE from the PBX: answered by the node for the PBX's leg; the browser hears nothing of it.
    await inLink(id, () => pbx.last.send(pbxInDialog('INVITE', ok, 3, PBX_ANSWER)));
    const reanswered = await vi.waitFor(() => {
      const found = pbx.last.responses.find((response) => getCSeq(response)?.seq === 3 && response.status >= 200);
      if (found === undefined) throw new Error('no answer to the re-INVITE yet');
      return found;
    }, { timeout: 5_000, interval: 20 });
    expect(reanswered.status).toBe(200);
    expect(bodyText(reanswered)).toBe(PBX_OFFER);
    expect(node.requests.filter((request) => request.method === 'PATCH').at(-1)?.body).toEqual({ pbxOffer: PBX_ANSWER });
    await inLink(id, () => pbx.last.send(pbxInDialog('ACK', reanswered, 3)));
    await callee.expectSilence();

    await inLink(id, () => pbx.last.send(pbxInDialog('BYE', ok, 4)));
    const bye = await callee.expectRequest('BYE');
    callee.respond(bye, 200);
    expect((await finalFor(pbx, 'BYE')).status).toBe(200);
    await vi.waitFor(() => expect(node.log.some((line) => line.startsWith(`DELETE /v1/sessions/link.${id}.`))).toBe(true), { timeout: 5_000 });
    callee.socket.close();
    await deleteLink(id);
  });

  it('relays a reliable 180 of a browser to a PBX that requires 100rel, and the PBX\'s PRACK to the browser', async () => {
    const [alice] = await freshUsers('alice');
    const node = new FakeMediaNode();
    await mediaNodeUp();
    const callee = await Phone.online(alice!, PASSWORD);
    const { id, pbx, contact } = await registeredLink(node, alice!);
    await inLink(id, () => pbx.last.send(pbxInvite(contact, 'inbound-rel100', PBX_ANSWER).replace('Max-Forwards: 70\r\n', 'Max-Forwards: 70\r\nRequire: 100rel\r\n')));
    const incoming = await callee.incoming();
    expect(getHeaders(incoming.invite, 'Require')).toEqual(['100rel']);
    incoming.phone.respond(incoming.invite, 180, { toTag: incoming.toTag, contact: true, headers: [{ name: 'Require', value: '100rel' }, { name: 'RSeq', value: '3' }] });
    const ringing = await vi.waitFor(() => {
      const found = pbx.last.responses.find((response) => response.status === 180);
      if (found === undefined) throw new Error('no 180 at the PBX yet');
      return found;
    }, { timeout: 5_000, interval: 20 });
    expect(getHeaders(ringing, 'Require')).toEqual(['100rel']);
    expect(getHeader(ringing, 'RSeq')).toBe('3');
    await inLink(id, () => pbx.last.send(pbxInDialog('PRACK', ringing, 2).replace('CSeq: 2 PRACK\r\n', 'CSeq: 2 PRACK\r\nRAck: 3 1 INVITE\r\n')));
    const prack = await callee.expectRequest('PRACK');
    expect(getHeader(prack, 'RAck')).toMatch(/^3 \d+ INVITE$/);
    callee.respond(prack, 200);
    expect((await finalFor(pbx, 'PRACK')).status).toBe(200);
    incoming.answer();
    expect((await finalFor(pbx, 'INVITE')).status).toBe(200);
    callee.socket.close();
    await deleteLink(id);
  });

  it('rings every user of a ring group at once: the first to answer takes the call, the others are cancelled', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const node = new FakeMediaNode();
    await mediaNodeUp();
    const first = await Phone.online(alice!, PASSWORD);
    const second = await Phone.online(bob!, PASSWORD);
    const { id, pbx } = await registeredLink(node, alice!);
    const number = `4930${links}`;
    const mapping = await exports.default.fetch(`${EDGE}/api/v1/inbound-mappings/group-${links}`, { method: 'PUT', headers: operatorHeaders(), body: JSON.stringify({ number, users: [alice, bob] }) });
    expect(mapping.ok, await mapping.clone().text()).toBe(true);
    await inLink(id, () => pbx.last.send(pbxInvite(`sip:${number}@edge.invalid;transport=tcp`, 'inbound-group', PBX_ANSWER)));

    const [atFirst, atSecond] = await Promise.all([first.incoming(), second.incoming()]);
    expect(bodyText(atFirst.invite)).toBe(NODE_BROWSER_OFFER);
    expect(bodyText(atSecond.invite)).toBe(NODE_BROWSER_OFFER);
    expect(node.log.filter((line) => line === 'POST /v1/sessions')).toHaveLength(1);
    atSecond.ring();
    await vi.waitFor(() => expect(pbx.last.responses.map((response) => response.status)).toContain(180), { timeout: 5_000 });
    atFirst.answer();
    const ok = await finalFor(pbx, 'INVITE');
    expect(ok.status).toBe(200);
    expect(bodyText(ok)).toBe(PBX_OFFER);
    const cancel = await second.expectRequest('CANCEL');
    expect(getHeader(cancel, 'Reason')).toContain('Call completed elsewhere');
    second.respond(cancel, 200);
    atSecond.reject(487);

    await inLink(id, () => pbx.last.send(pbxInDialog('ACK', ok, 1)));
    await first.expectRequest('ACK');
    await inLink(id, () => pbx.last.send(pbxInDialog('BYE', ok, 2)));
    const bye = await first.expectRequest('BYE');
    first.respond(bye, 200);
    expect((await finalFor(pbx, 'BYE')).status).toBe(200);
    await vi.waitFor(() => expect(node.log.some((line) => line.startsWith(`DELETE /v1/sessions/link.${id}.`))).toBe(true), { timeout: 5_000 });
    first.socket.close();
    second.socket.close();
    await deleteLink(id);
  });

  it('stops the browser ringing when the PBX cancels, and deletes the media session', async () => {
    const [alice] = await freshUsers('alice');
    const node = new FakeMediaNode();
    await mediaNodeUp();
    const callee = await Phone.online(alice!, PASSWORD);
    const { id, pbx, contact } = await registeredLink(node, alice!);
    const invite = pbxInvite(contact, 'inbound-cancel', PBX_ANSWER);
    await inLink(id, () => pbx.last.send(invite));
    const incoming = await callee.incoming();
    expect(bodyText(incoming.invite)).toBe(NODE_BROWSER_OFFER);
    expect(node.requests[0]!.body).toMatchObject({ pbxOffer: PBX_ANSWER });
    incoming.ring();
    await vi.waitFor(() => expect(pbx.last.responses.map((response) => response.status)).toContain(180), { timeout: 5_000 });

    // RFC 3261 §9.1: the CANCEL copies the INVITE's Request-URI, top Via, From, To, Call-ID and CSeq number.
    const cancel = [
      `CANCEL ${contact} SIP/2.0`,
      'Via: SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bKinbound-cancel',
      'Max-Forwards: 70',
      'From: "Reception" <sip:200@pbx.example>;tag=pf1',
      `To: <${contact}>`,
      'Call-ID: inbound-cancel',
      'CSeq: 1 CANCEL',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    await inLink(id, () => pbx.last.send(cancel));
    const atBrowser = await callee.expectRequest('CANCEL');
    callee.respond(atBrowser, 200);
    incoming.reject(487);
    expect((await finalFor(pbx, 'CANCEL')).status).toBe(200);
    expect((await finalFor(pbx, 'INVITE')).status).toBe(487);
    await vi.waitFor(() => expect(node.log.some((line) => line.startsWith(`DELETE /v1/sessions/link.${id}.`))).toBe(true), { timeout: 5_000 });
    callee.socket.close();
    await deleteLink(id);
  });
});
