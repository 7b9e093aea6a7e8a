/**
 * A PbxLink of the second domain `b.example` (its configuration's `domain`): a call from its PBX
 * goes to that domain's user, through that domain's Routing object, never to the user of the same
 * name in the installation's domain.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { getHeader } from '../../shared/message/index.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { createUserIn, DOMAIN_B, serveDomainB } from './support/domains.ts';
import { FakePbx } from './support/fake-pbx.ts';
import { mediaNodeUp } from './support/media-nodes.ts';
import { inLink, install, linkConfig, linkStub, runDueAlarm } from './support/pbx-links.ts';
import { Phone } from './support/phone.ts';

const PASSWORD_B = 'password of domain b';
const PBX_OFFER = 'v=0\r\no=pbx 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';
const NODE_BROWSER_OFFER = 'v=0\r\no=node 3 3 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=setup:actpass\r\n';

/** A media node's control API that opens every session at once. */
const nodeFetch: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, string>) : {};
  if (init?.method === 'POST' && url.pathname === '/v1/sessions') return Response.json({ id: body.id, offeredBy: 'pbx', pbxAnswer: PBX_OFFER, browserOffer: NODE_BROWSER_OFFER }, { status: 201 });
  return Response.json({ id: url.pathname.split('/')[3] }, { status: 200 });
};

function pbxInvite(requestUri: string, callId: string): string {
  return [
    `INVITE ${requestUri} SIP/2.0`,
    `Via: SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bK${callId}`,
    'Max-Forwards: 70',
    'From: "Reception" <sip:200@pbx.example>;tag=pf1',
    `To: <${requestUri}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    'Contact: <sip:200@192.0.2.7:5060;transport=tcp>',
    'Content-Type: application/sdp',
    `Content-Length: ${new TextEncoder().encode(PBX_OFFER).length}`,
    '',
    PBX_OFFER,
  ].join('\r\n');
}

beforeAll(async () => {
  await serveDomainB();
  await mediaNodeUp();
});

describe('a PbxLink of the second domain', () => {
  it("rings that domain's user for a call from its PBX, not the installation's user of the same name", async () => {
    const [carol] = await freshUsers('carol');
    await createUserIn(DOMAIN_B, carol!, PASSWORD_B);
    const carolA = await Phone.online(carol!, PASSWORD);
    const carolB = await Phone.online(carol!, PASSWORD_B, 600, DOMAIN_B);

    const id = `b-link-${carol}`;
    const pbx = new FakePbx();
    const clock = new FakeClock(Date.now());
    await install(id, pbx, clock, 0, nodeFetch);
    const config = linkConfig({ id, domain: DOMAIN_B, host: 'pbx.example', client_uri: 'sip:edge@pbx.example', server_uri: 'sip:pbx.example', username: 'edge', max_random_initial_delay: 0 });
    expect((await linkStub(id).putLink(config, 'pw')).created).toBe(true);
    await runDueAlarm(id, clock);
    await vi.waitFor(() => {
      if (!pbx.requests.some((request) => request.method === 'REGISTER')) throw new Error('no REGISTER yet');
    }, { timeout: 5_000 });

    // No inbound mapping: the domain's Routing object gives the call to the user the Request-URI names.
    await inLink(id, () => pbx.last.send(pbxInvite(`sip:${carol}@edge.invalid;transport=tcp`, `b-inbound-${carol}`)));
    const incoming = await carolB.incoming(5_000);
    expect(getHeader(incoming.invite, 'From')).toContain('<sip:200@pbx.example>');
    await carolA.expectSilence();
    incoming.reject(486);
    await vi.waitFor(() => expect(pbx.last.responses.map((response) => response.status)).toContain(486), { timeout: 5_000 });
    carolA.socket.close();
    carolB.socket.close();
    await linkStub(id).deleteLink();
  });
});
