/**
 * Attended transfer (REFER with Replaces, RFC 3891 / RFC 5589) on the wire, with raw WebSocket
 * phones: what each of the three devices gets while the edge joins the transferee's and the
 * target's legs (`workers/call/attended-transfer.ts`), a join the target refuses, and the refusal
 * when one party is behind a PbxLink.
 */
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { createResponse, getCSeq, getHeader, serializeMessage, type SipMessage, type SipRequest } from '../../shared/message/index.ts';
import type { PbxLink } from '../../workers/pbx/pbx-link.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { callsOf, freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { FakePbx } from './support/fake-pbx.ts';
import { deleteLink, inLink, linkStub, putLink } from './support/pbx-links.ts';
import { ANSWER_SDP, bodyText, OFFER_SDP, Phone, type IncomingCall, type OutgoingCall } from './support/phone.ts';
import { DOMAIN } from './support/users.ts';
import { mediaNodeUp } from './support/media-nodes.ts';

const CAROL_OFFER = OFFER_SDP.replace('o=- 1 1', 'o=- 7 7');
const BOB_ANSWER = ANSWER_SDP.replace('o=- 2 2', 'o=- 8 8');

function close(...phones: Phone[]): void {
  for (const phone of phones) phone.socket.close();
}

/** `caller` calls `callee` (a user or a number), answered and ACKed. */
async function connected(caller: Phone, callee: Phone): Promise<{ outgoing: OutgoingCall; incoming: IncomingCall }> {
  const outgoing = await caller.call(callee.user);
  const incoming = await callee.incoming();
  incoming.answer();
  expect((await outgoing.response()).status).toBe(200);
  outgoing.ack();
  await callee.expectRequest('ACK');
  return { outgoing, incoming };
}

/** The Refer-To of an attended transfer to the call `consultation`, as SIP.js writes it (remote tag as to-tag). */
function replacing(consultation: OutgoingCall, target: string): { name: string; value: string }[] {
  const id = consultation.dialog?.id;
  if (id === undefined) throw new Error('no dialog');
  const replaces = encodeURIComponent(`${id.callId};to-tag=${id.remoteTag};from-tag=${id.localTag}`);
  return [{ name: 'Refer-To', value: `<sip:${target}@${DOMAIN}?Replaces=${replaces}>` }];
}

/** Reads `count` messages at `phone`, answering 200 to each request; returns them in order. */
async function take(phone: Phone, count: number): Promise<SipMessage[]> {
  const seen: SipMessage[] = [];
  while (seen.length < count) {
    const message = await phone.next();
    if (message.kind === 'response' && message.status === 100) continue;
    if (message.kind === 'request') phone.respond(message, 200);
    seen.push(message);
  }
  return seen;
}

function summary(message: SipMessage): string {
  if (message.kind === 'response') return `${message.status} ${getCSeq(message)?.method}`;
  if (message.method === 'NOTIFY') return `NOTIFY ${bodyText(message).trim()} (${getHeader(message, 'Subscription-State')?.split(';')[0]})`;
  return `${message.method} ${getHeader(message, 'Call-ID')}`;
}

describe('attended transfer on the wire', () => {
  it('joins the transferee and the target with re-INVITEs, NOTIFYs the transferor, and ends its two legs', async () => {
    const [alice, bob, carol] = await freshUsers('alice', 'bob', 'carol');
    const a = await Phone.online(alice!, PASSWORD);
    const b = await Phone.online(bob!, PASSWORD);
    const c = await Phone.online(carol!, PASSWORD);
    const withB = await connected(a, b);
    const withC = await connected(a, c);

    const refer = withB.outgoing.request('REFER', { headers: replacing(withC.outgoing, carol!) });
    // The target is asked for an offer: a re-INVITE without a body (RFC 3725 §5).
    const offerless = await c.expectRequest('INVITE');
    expect(offerless.body.length).toBe(0);
    expect(getHeader(offerless, 'Call-ID')).toBe(getHeader(withC.incoming.invite, 'Call-ID'));
    c.respond(offerless, 200, { contact: true, body: CAROL_OFFER });
    // The transferee gets that offer in its own dialog, answers, and is ACKed without a body.
    const offered = await b.expectRequest('INVITE');
    expect(bodyText(offered)).toBe(CAROL_OFFER);
    expect(getHeader(offered, 'Call-ID')).toBe(getHeader(withB.incoming.invite, 'Call-ID'));
    b.respond(offered, 200, { contact: true, body: BOB_ANSWER });
    expect((await b.expectRequest('ACK')).body.length).toBe(0);
    // The target's ACK carries the transferee's answer.
    expect(bodyText(await c.expectRequest('ACK'))).toBe(BOB_ANSWER);

    // The transferor: 202, NOTIFY 100 (active), its consultation leg ended, NOTIFY 200 (terminated), its first leg ended.
    const messages = await take(a, 5);
    const atA = messages.map(summary);
    expect(atA).toEqual([
      '202 REFER',
      'NOTIFY SIP/2.0 100 Trying (active)',
      `BYE ${getHeader(withC.outgoing.invite, 'Call-ID')}`,
      'NOTIFY SIP/2.0 200 OK (terminated)',
      `BYE ${getHeader(withB.outgoing.invite, 'Call-ID')}`,
    ]);
    // RFC 3515 §2.4.6: each NOTIFY names the REFER it reports on.
    const events = messages.flatMap((message) => (message.kind === 'request' && message.method === 'NOTIFY' ? [getHeader(message, 'Event')] : []));
    expect(events).toEqual([`refer;id=${getCSeq(refer)?.seq}`, `refer;id=${getCSeq(refer)?.seq}`]);

    // B and C are one call: B's INFO reaches C, and C's BYE reaches B.
    withB.incoming.request('INFO', { body: 'Signal=9\r\n', contentType: 'application/dtmf-relay' });
    const info = await c.expectRequest('INFO');
    expect(bodyText(info)).toBe('Signal=9\r\n');
    c.respond(info, 200);
    expect((await b.expectResponse()).status).toBe(200);
    // The transferor's halves are over (kept only until their INVITE transactions' Timer L).
    expect((await callsOf(alice!)).map((half) => half.phase)).toEqual(['ended', 'ended']);
    withC.incoming.request('BYE');
    expect((await c.expectResponse()).status).toBe(200);
    b.respond(await b.expectRequest('BYE'), 200);
    await a.expectSilence();
    close(a, b, c);
  });

  it('NOTIFYs the target\'s refusal (488) and ends every leg when the join fails', async () => {
    const [alice, bob, carol] = await freshUsers('alice', 'bob', 'carol');
    const a = await Phone.online(alice!, PASSWORD);
    const b = await Phone.online(bob!, PASSWORD);
    const c = await Phone.online(carol!, PASSWORD);
    const withB = await connected(a, b);
    const withC = await connected(a, c);

    withB.outgoing.request('REFER', { headers: replacing(withC.outgoing, carol!) });
    const offerless = await c.expectRequest('INVITE');
    c.respond(offerless, 488);
    expect((await c.expectRequest('ACK')).body.length).toBe(0);
    // The transferee's leg ends, and then the target's.
    b.respond(await b.expectRequest('BYE'), 200);
    c.respond(await c.expectRequest('BYE'), 200);
    const atA = (await take(a, 5)).map(summary);
    expect(atA).toContain('NOTIFY SIP/2.0 488 Not Acceptable Here (terminated)');
    expect(atA.filter((each) => each.startsWith('BYE'))).toHaveLength(2);
    close(a, b, c);
  });

  it('refuses with 403 an attended transfer of a call with a PBX party, and both calls go on', async () => {
    const [alice, carol] = await freshUsers('alice', 'carol');
    const linkId = `att-${alice}`;
    const pbx = new FakePbx();
    await runInDurableObject(linkStub(linkId), (instance: PbxLink) => {
      instance.connector = pbx.connector;
      instance.clock = new FakeClock(Date.now());
      instance.mediaFetch = mediaNode;
    });
    await mediaNodeUp();
    expect((await putLink(linkId, { host: 'pbx.example', transport: 'tcp', register: false, username: 'edge', password: 'trunk password' })).status).toBe(201);
    const a = await Phone.online(alice!, PASSWORD);
    const c = await Phone.online(carol!, PASSWORD);

    const toPbx = await a.call('4930123456');
    const invite = await vi.waitFor(() => {
      const found = pbx.requests.find((request) => request.method === 'INVITE');
      if (found === undefined) throw new Error('no INVITE at the PBX yet');
      return found;
    }, { timeout: 5_000, interval: 20 });
    await inLink(linkId, () => pbx.last.send(pbxAnswer(invite)));
    expect((await toPbx.response()).status).toBe(200);
    toPbx.ack();
    const withC = await connected(a, c);

    toPbx.request('REFER', { headers: replacing(withC.outgoing, carol!) });
    const refused = await a.expectResponse();
    expect(refused.status).toBe(403);
    expect(refused.reason).toBe('Attended Transfer With A PBX Party Not Supported');
    await c.expectSilence();
    withC.outgoing.request('INFO', { body: 'Signal=2\r\n', contentType: 'application/dtmf-relay' });
    c.respond(await c.expectRequest('INFO'), 200);
    expect((await a.expectResponse()).status).toBe(200);
    close(a, c);
    await deleteLink(linkId);
  });
});

const PBX_SDP = 'v=0\r\no=pbx 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';
const NODE_SDP = 'v=0\r\no=node 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';

function pbxAnswer(request: SipRequest): string {
  return serializeMessage(createResponse(request, 200, undefined, {
    toTag: 'pbx-tag',
    headers: [{ name: 'Contact', value: '<sip:ext@192.0.2.7:5060;transport=tcp>' }],
    body: PBX_SDP,
    contentType: 'application/sdp',
  }));
}

/** A media node's control API that answers every session at once. */
const mediaNode: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, string>) : {};
  if (init?.method === 'POST' && url.pathname === '/v1/sessions') return Response.json({ id: body.id, offeredBy: 'browser', browserAnswer: NODE_SDP, pbxOffer: PBX_SDP }, { status: 201 });
  return Response.json({ id: url.pathname.split('/')[3] }, { status: 200 });
};
