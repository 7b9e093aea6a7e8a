/**
 * The per-user SIP WebSocket URL (`/sip/<user>`, workers/connection/user-socket.ts): the socket
 * lands in the user's SipUser object, no SipConnection, and behaves like one on `/sip`.
 */
import { env, exports } from 'cloudflare:workers';
import { listDurableObjectIds, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { answerChallenge } from '../../shared/auth/index.ts';
import { createResponse, getHeader, serializeMessage, type SipRequest } from '../../shared/message/index.ts';
import type { SipUser } from '../../workers/user/sip-user.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { Device } from './support/register-client.ts';
import { EDGE, openSipSocket, SipSocket } from './support/sip-socket.ts';
import { DOMAIN, userStub } from './support/users.ts';

async function openUserSocket(user: string): Promise<SipSocket> {
  const response = await exports.default.fetch(`${EDGE}/sip/${encodeURIComponent(user)}`, {
    headers: { Upgrade: 'websocket', 'Sec-WebSocket-Protocol': 'sip' },
  });
  const ws = response.webSocket;
  if (response.status !== 101 || ws === null) throw new Error(`/sip/${user} answered ${response.status}, not 101`);
  expect(response.headers.get('Sec-WebSocket-Protocol')).toBe('sip');
  ws.accept();
  return new SipSocket(ws);
}

function message(from: string, to: string, body: string, auth?: string): string {
  const octets = new TextEncoder().encode(body).length;
  return [
    `MESSAGE sip:${to}@${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/WSS m${Math.random().toString(36).slice(2)}.invalid;branch=z9hG4bK${Math.random().toString(36).slice(2)}`,
    'Max-Forwards: 70',
    `To: <sip:${to}@${DOMAIN}>`,
    `From: <sip:${from}@${DOMAIN}>;tag=f1`,
    `Call-ID: msg-${from}-${to}-${Math.random().toString(36).slice(2)}@test`,
    'CSeq: 1 MESSAGE',
    ...(auth === undefined ? [] : [`Proxy-Authorization: ${auth}`]),
    'Content-Type: text/plain;charset=UTF-8',
    `Content-Length: ${octets}`,
    '',
    body,
  ].join('\r\n');
}

/** Sends a MESSAGE, answering the 407 with the project's own digest client; resolves to the final response. */
async function sendMessage(socket: SipSocket, from: string, to: string, body: string) {
  const challenge = await socket.request(message(from, to, body));
  expect(challenge.status).toBe(407);
  const answer = answerChallenge({
    challenges: [getHeader(challenge, 'Proxy-Authenticate') ?? ''],
    account: { username: from, password: PASSWORD },
    method: 'MESSAGE',
    uri: `sip:${to}@${DOMAIN}`,
    state: { counts: [] },
  });
  if (!answer.ok) throw new Error(answer.detail);
  socket.send(message(from, to, body, answer.value));
}

async function nextRequest(socket: SipSocket): Promise<SipRequest> {
  const received = await socket.nextMessage();
  if (received.kind !== 'request') throw new Error(`expected a request, got ${received.status}`);
  return received;
}

describe('GET /sip/<user>', () => {
  it('refuses what /sip refuses: no upgrade (426), no sip subprotocol (400), other methods (405)', async () => {
    const plain = await exports.default.fetch(`${EDGE}/sip/alice`);
    expect(plain.status).toBe(426);
    expect(plain.headers.get('Content-Type')).toBe('application/problem+json');
    const noProtocol = await exports.default.fetch(`${EDGE}/sip/alice`, { headers: { Upgrade: 'websocket' } });
    expect(noProtocol.status).toBe(400);
    const post = await exports.default.fetch(`${EDGE}/sip/alice`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('Allow')).toBe('GET');
  });

  it('refuses a user part that is no SIP user name', async () => {
    const response = await exports.default.fetch(`${EDGE}/sip/a%20b`, { headers: { Upgrade: 'websocket', 'Sec-WebSocket-Protocol': 'sip' } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { title: string }).title).toBe('Bad user in URL');
  });

  it('refuses /sip/<user>@<domain> for a domain this edge does not serve with 404', async () => {
    const response = await exports.default.fetch(`${EDGE}/sip/a%40b.invalid`, { headers: { Upgrade: 'websocket', 'Sec-WebSocket-Protocol': 'sip' } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { title: string }).title).toBe('Domain not served here');
  });

  it('registers through the user object itself: no SipConnection, the socket held by the SipUser, its flow named after it', async () => {
    const [alice] = await freshUsers('alice');
    const connectionsBefore = (await listDurableObjectIds(env.SIP_CONNECTION)).length;
    const socket = await openUserSocket(alice!);
    const device = new Device(socket, { user: alice!, password: PASSWORD });
    const response = await device.register({ expires: 600 });
    expect(response.status).toBe(200);
    expect(getHeader(response, 'Require')).toBe('outbound');
    expect((await listDurableObjectIds(env.SIP_CONNECTION)).length).toBe(connectionsBefore);
    const held = await runInDurableObject(userStub(alice!), async (instance: SipUser, state) => ({
      sockets: state.getWebSockets().length,
      flows: (await instance.listBindings()).map((binding) => binding.flow.connectionId),
      id: state.id.toString(),
    }));
    expect(held.sockets).toBe(1);
    expect(held.flows).toHaveLength(1);
    expect(held.flows[0]?.startsWith(`${held.id}/`)).toBe(true);
    socket.close();
  });

  it('answers an RFC 5626 double-CRLF ping with CRLF without waking the object', async () => {
    const [alice] = await freshUsers('alice');
    const socket = await openUserSocket(alice!);
    socket.send('\r\n\r\n');
    expect(await socket.next()).toBe('\r\n');
    const answered = await runInDurableObject(userStub(alice!), (_instance: SipUser, state) =>
      state.getWebSockets().some((ws) => state.getWebSocketAutoResponseTimestamp(ws) !== null),
    );
    expect(answered).toBe(true);
    socket.close();
  });

  it('answers a malformed request with 400, as /sip does', async () => {
    const [alice] = await freshUsers('alice');
    const socket = await openUserSocket(alice!);
    const response = await socket.request(message(alice!, alice!, 'x').replace(/Call-ID: [^\r]*\r\n/, ''));
    expect(response.status).toBe(400);
    socket.close();
  });

  it('delivers MESSAGEs both ways between a per-user socket and a shared /sip socket', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const aliceSocket = await openUserSocket(alice!);
    expect((await new Device(aliceSocket, { user: alice!, password: PASSWORD }).register({ expires: 600 })).status).toBe(200);
    const bobSocket = await openSipSocket();
    expect((await new Device(bobSocket, { user: bob!, password: PASSWORD }).register({ expires: 600 })).status).toBe(200);

    await sendMessage(bobSocket, bob!, alice!, 'to the per-user socket ✓');
    const atAlice = await nextRequest(aliceSocket);
    expect(new TextDecoder().decode(atAlice.body)).toBe('to the per-user socket ✓');
    aliceSocket.send(serializeMessage(createResponse(atAlice, 200, undefined, { toTag: 'a1' })));
    expect((await bobSocket.nextResponse()).status).toBe(200);

    await sendMessage(aliceSocket, alice!, bob!, 'from the per-user socket ✓');
    const atBob = await nextRequest(bobSocket);
    expect(new TextDecoder().decode(atBob.body)).toBe('from the per-user socket ✓');
    bobSocket.send(serializeMessage(createResponse(atBob, 200, undefined, { toTag: 'b1' })));
    expect((await aliceSocket.nextResponse()).status).toBe(200);
    aliceSocket.close();
    bobSocket.close();
  });

  it("carries another user's registration too: that user's object reaches the device through the holder", async () => {
    const [alice, bob, carol] = await freshUsers('alice', 'bob', 'carol');
    // A socket opened for alice on which bob registers (one device, two accounts).
    const shared = await openUserSocket(alice!);
    expect((await new Device(shared, { user: bob!, password: PASSWORD }).register({ expires: 600 })).status).toBe(200);
    const bobFlows = await runInDurableObject(userStub(bob!), async (instance: SipUser) => (await instance.listBindings()).map((binding) => binding.flow.connectionId));
    const aliceId = await runInDurableObject(userStub(alice!), (_instance: SipUser, state) => state.id.toString());
    expect(bobFlows[0]?.startsWith(`${aliceId}/`)).toBe(true);

    const carolSocket = await openSipSocket();
    expect((await new Device(carolSocket, { user: carol!, password: PASSWORD }).register({ expires: 600 })).status).toBe(200);
    await sendMessage(carolSocket, carol!, bob!, 'via the holder');
    const atBob = await nextRequest(shared);
    expect(new TextDecoder().decode(atBob.body)).toBe('via the holder');
    shared.send(serializeMessage(createResponse(atBob, 200, undefined, { toTag: 'h1' })));
    expect((await carolSocket.nextResponse()).status).toBe(200);
    shared.close();
    carolSocket.close();
  });
});
