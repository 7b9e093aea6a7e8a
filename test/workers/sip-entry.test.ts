import { env, exports } from 'cloudflare:workers';
import { evictDurableObject, listDurableObjectIds, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import { parseMessage } from '../../shared/message/index.ts';
import { Device } from './support/register-client.ts';
import { EDGE, openSipSocket } from './support/sip-socket.ts';
import { createUser, userStub } from './support/users.ts';

describe('GET /sip', () => {
  it('refuses a plain HTTP request with 426 and a problem document', async () => {
    const response = await exports.default.fetch(`${EDGE}/sip`);
    expect(response.status).toBe(426);
    expect(response.headers.get('Upgrade')).toBe('websocket');
    expect(response.headers.get('Content-Type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 426, title: 'Upgrade Required' });
  });

  it('refuses a WebSocket upgrade without the sip subprotocol with 400 naming it', async () => {
    const response = await exports.default.fetch(`${EDGE}/sip`, { headers: { Upgrade: 'websocket' } });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { title: string; detail: string };
    expect(problem.title).toContain('"sip"');
    expect(problem.detail).toContain('no Sec-WebSocket-Protocol');
  });

  it('refuses a WebSocket upgrade offering only other subprotocols', async () => {
    const response = await exports.default.fetch(`${EDGE}/sip`, { headers: { Upgrade: 'websocket', 'Sec-WebSocket-Protocol': 'chat, xmpp' } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toContain('"chat, xmpp"');
  });

  it('refuses other methods with 405', async () => {
    const response = await exports.default.fetch(`${EDGE}/sip`, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('Allow')).toBe('GET');
  });

  it('accepts a WebSocket offering sip among others and echoes sip', async () => {
    const response = await exports.default.fetch(`${EDGE}/sip`, { headers: { Upgrade: 'websocket', 'Sec-WebSocket-Protocol': 'chat, sip' } });
    expect(response.status).toBe(101);
    expect(response.headers.get('Sec-WebSocket-Protocol')).toBe('sip');
    response.webSocket?.accept();
    response.webSocket?.close();
  });
});

const OPTIONS = [
  'OPTIONS sip:demo.sipedge.local SIP/2.0',
  'Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bKopt1',
  'Max-Forwards: 70',
  'To: <sip:demo.sipedge.local>',
  'From: <sip:alice@demo.sipedge.local>;tag=o1',
  'Call-ID: options-1@test',
  'CSeq: 1 OPTIONS',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('a SIP WebSocket', () => {
  it('answers an RFC 5626 double-CRLF ping with a single CRLF', async () => {
    const socket = await openSipSocket();
    socket.send('\r\n\r\n');
    expect(await socket.next()).toBe('\r\n');
    // The runtime answered it (setWebSocketAutoResponse): the object was not woken for it.
    const answeredByRuntime = await Promise.all(
      (await listDurableObjectIds(env.SIP_CONNECTION)).map((id) =>
        runInDurableObject(env.SIP_CONNECTION.get(id), (_instance, state) =>
          state.getWebSockets().some((ws) => state.getWebSocketAutoResponseTimestamp(ws) !== null),
        ),
      ),
    );
    expect(answeredByRuntime).toContain(true);
    socket.close();
  });

  it('answers a request whose Call-ID is missing with 400 naming the problem', async () => {
    const socket = await openSipSocket();
    const response = await socket.request(OPTIONS.replace('Call-ID: options-1@test\r\n', ''));
    expect(response.status).toBe(400);
    expect(response.reason).toContain('Call-ID');
    socket.close();
  });

  it('answers a request with a malformed header with 400 and the parser reason, from what did parse', async () => {
    const socket = await openSipSocket();
    const response = await socket.request(OPTIONS.replace('Max-Forwards: 70', 'Max-Forwards: seventy'));
    expect(response.status).toBe(400);
    expect(response.reason).toMatch(/^Max-Forwards: /);
    expect(getCallIdOf(response)).toBe('options-1@test');
    socket.close();
  });

  it('answers even a request whose CSeq is malformed, copying what it received', async () => {
    const socket = await openSipSocket();
    socket.send(OPTIONS.replace('CSeq: 1 OPTIONS', 'CSeq: one OPTIONS'));
    const frame = await socket.next();
    expect(frame).toMatch(/^SIP\/2\.0 400 CSeq: /);
    expect(frame).toContain('Call-ID: options-1@test');
    socket.close();
  });

  it('answers a request over 64 KiB with 513 and stays usable', async () => {
    const socket = await openSipSocket();
    const body = 'x'.repeat(70_000);
    const big = OPTIONS.replace('Content-Length: 0', `Content-Type: text/plain\r\nContent-Length: ${body.length}`) + body;
    const response = await socket.request(big);
    expect(response.status).toBe(513);
    expect((await socket.request(OPTIONS)).status).toBe(200);
    socket.close();
  });

  it('drops binary garbage, text garbage and an unparsable response, records why, and keeps answering', async () => {
    const warnings = vi.spyOn(console, 'warn');
    const socket = await openSipSocket();
    socket.send(new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x80, 0x81, 0x0d, 0x0a]));
    socket.send('hello, is this SIP?');
    socket.send('SIP/2.0 2000 Nope\r\n\r\n');
    socket.send('\r\n  \r\n\t');
    const response = await socket.request(OPTIONS);
    expect(response.status).toBe(200);
    expect(socket.pending).toBe(0);
    const recorded = warnings.mock.calls.map((call) => JSON.parse(String(call[0])) as { event: string; detail: string });
    expect(recorded).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ event: 'sip.frame.dropped', detail: 'not-utf8' }),
        expect.objectContaining({ event: 'sip.message.unparsable' }),
        expect.objectContaining({ event: 'sip.frame.dropped', detail: 'empty' }),
      ]),
    );
    warnings.mockRestore();
    socket.close();
  });

  it('refuses a REGISTER for another domain with 404 without involving a user object', async () => {
    const socket = await openSipSocket();
    const register = OPTIONS.replaceAll('OPTIONS', 'REGISTER')
      .replace('To: <sip:demo.sipedge.local>', 'To: <sip:alice@elsewhere.example>');
    const response = await socket.request(register);
    expect(response.status).toBe(404);
    socket.close();
  });
});

function getCallIdOf(response: { headers: readonly { name: string; value: string }[] }): string | undefined {
  return response.headers.find((field) => field.name.toLowerCase() === 'call-id')?.value;
}

describe('the way back to a device', () => {
  it('delivers a message from a user object over the flow of a binding, and reports a closed flow as failed', async () => {
    await createUser('henry', 'henrys password');
    const device = new Device(await openSipSocket(), { user: 'henry', password: 'henrys password' });
    expect((await device.register({ expires: 600 })).status).toBe(200);
    const [binding] = await userStub('henry').listBindings();
    const connection = env.SIP_CONNECTION.get(env.SIP_CONNECTION.idFromString(binding?.flow.connectionId ?? ''));

    const notify = parseMessage(OPTIONS.replace('OPTIONS sip:demo.sipedge.local', `OPTIONS ${device.contactUri}`));
    expect(await connection.deliver(notify)).toBe(true);
    const received = await device.socket.nextMessage();
    expect(received.kind === 'request' && received.uri).toBe(device.contactUri);

    device.socket.close();
    await vi.waitFor(async () => expect(await connection.deliver(notify)).toBe(false), { timeout: 3000 });
  });
});

describe('a hibernated connection', () => {
  it('wakes with its flow (the attachment) and keeps relaying', async () => {
    await createUser('irene', 'irenes password');
    const device = new Device(await openSipSocket(), { user: 'irene', password: 'irenes password' });
    expect((await device.register({ expires: 600 })).status).toBe(200);
    const [before] = await userStub('irene').listBindings();
    const connection = env.SIP_CONNECTION.get(env.SIP_CONNECTION.idFromString(before?.flow.connectionId ?? ''));

    await evictDurableObject(connection);
    const refresh = await device.send({ expires: 600 });
    expect(refresh.status).toBe(200);
    const [after] = await userStub('irene').listBindings();
    expect(after?.flow).toEqual(before?.flow);
    device.socket.close();
  });
});
