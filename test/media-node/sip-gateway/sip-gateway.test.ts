/**
 * The SIP/UDP gateway end to end: a media node's control server, the edge played by a signed
 * WebSocket client, and the PBX played by sipp over UDP (REGISTER, INVITE/ACK/BYE) or by a bare UDP
 * socket where a test needs a PBX that stays silent or repeats itself.
 */
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RequestSigner, newNonce } from '../../../media-node/signing/index.ts';
import { connectGateway, type GatewayClient } from '../support/gateway-client.ts';
import { TEST_SECRET, startNode, type NodeRig } from '../support/media-node-rig.ts';
import { peerAvailable } from '../../support/peers.ts';
import { startSippPbx } from '../support/sipp-pbx.ts';
import { udpPeer } from '../support/udp.ts';

let node: NodeRig;
beforeAll(async () => {
  // A short T1 keeps the retransmission cases quick; T2 stays above it as RFC 3261 wants.
  node = await startNode({}, { sipTiming: { t1: 100, t2: 400 } });
});
afterAll(async () => {
  await node.close();
});

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

let serial = 0;
async function openLink(pbxPort: number): Promise<{ client: GatewayClient; local: { address: string; port: number }; id: string }> {
  const id = `link-${process.pid}-${++serial}`;
  const client = await connectGateway(node.service.controlUrl, TEST_SECRET, id);
  cleanup.push(() => client.close());
  client.send({ type: 'open', pbx: { host: '127.0.0.1', port: pbxPort } });
  const opened = await client.next('opened');
  expect(opened.pbx).toEqual({ address: '127.0.0.1', port: pbxPort });
  return { client, local: opened.local, id };
}

function request_(method: string, local: { address: string; port: number }, target: number, options: { branch: string; callId: string; cseq: number; toTag?: string; body?: string; extra?: string[] }): string {
  const body = options.body ?? '';
  return [
    `${method} sip:pbx@127.0.0.1:${target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${local.address}:${local.port};branch=${options.branch};rport`,
    'Max-Forwards: 70',
    'From: <sip:link@sipedge.test>;tag=edge1',
    `To: <sip:pbx@127.0.0.1>${options.toTag === undefined ? '' : `;tag=${options.toTag}`}`,
    `Call-ID: ${options.callId}`,
    `CSeq: ${options.cseq} ${method === 'ACK' ? 'INVITE' : method}`,
    `Contact: <sip:link@${local.address}:${local.port}>`,
    ...(options.extra ?? []),
    ...(body === '' ? [] : ['Content-Type: application/sdp']),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

function statusOf(message: string): number {
  return Number(/^SIP\/2\.0 (\d{3})/.exec(message)?.[1]);
}

/** The HTTP status a WebSocket upgrade gets, with `headers`. */
function upgradeStatus(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const url = new URL(node.service.controlUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers } });
    req.on('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0, body: '' });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('authentication', () => {
  it('refuses an unsigned or wrongly signed upgrade, and takes a signed one', async () => {
    const path = '/v1/sip-gateway/links/auth-test';
    const unsigned = await upgradeStatus(path, {});
    expect(unsigned.status).toBe(401);
    expect(JSON.parse(unsigned.body)).toMatchObject({ reason: 'unsigned' });
    const forged = await new RequestSigner('another-secret-0123456789abcdef-xyz').sign({ method: 'GET', path, body: '' }, Date.now(), newNonce());
    const wrong = await upgradeStatus(path, forged);
    expect(JSON.parse(wrong.body)).toMatchObject({ reason: 'bad-signature' });
    const signed = await new RequestSigner(TEST_SECRET).sign({ method: 'GET', path, body: '' }, Date.now(), newNonce());
    expect((await upgradeStatus(path, signed)).status).toBe(101);
    // The same signature again is a replay.
    expect(JSON.parse((await upgradeStatus(path, signed)).body)).toMatchObject({ reason: 'replayed' });
    const elsewhere = await new RequestSigner(TEST_SECRET).sign({ method: 'GET', path: '/v1/sip-gateway/other', body: '' }, Date.now(), newNonce());
    expect((await upgradeStatus('/v1/sip-gateway/other', elsewhere)).status).toBe(404);
  });

  it('answers bad frames with an error and keeps the link', async () => {
    const pbx = await udpPeer();
    cleanup.push(() => pbx.close());
    const { client } = await openLink(pbx.port);
    client.send({ type: 'launch' });
    expect(await client.next('error')).toMatchObject({ reason: 'invalid-frame' });
    client.send({ type: 'send', message: 'not SIP at all' });
    expect(await client.next('error')).toMatchObject({ reason: 'bad-sip' });
  });
});

describe.runIf(peerAvailable('sipp'))('with sipp as the PBX over UDP', () => {
  it('registers, and makes a call: INVITE, its responses once each, ACK, BYE', async () => {
    const sipp = await startSippPbx(2);
    cleanup.push(() => sipp.stop());
    const { client, local } = await openLink(sipp.port);

    // sipp may still be starting: the gateway's retransmissions cover that.
    client.send({ type: 'send', id: 'reg-1', message: request_('REGISTER', local, sipp.port, { branch: 'z9hG4bK-reg-1', callId: 'reg-call', cseq: 1 }) });
    const registered = await client.next('received');
    expect(statusOf(registered.message)).toBe(200);
    expect(registered.message).toContain(`Contact: <sip:link@${local.address}:${local.port}>;expires=300`);

    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';
    client.send({ type: 'send', id: 'inv-1', message: request_('INVITE', local, sipp.port, { branch: 'z9hG4bK-inv-1', callId: 'call-1', cseq: 1, body: sdp }) });
    const statuses: number[] = [];
    let ok = '';
    while (!statuses.includes(200)) {
      const frame = await client.next('received');
      statuses.push(statusOf(frame.message));
      if (statusOf(frame.message) === 200) ok = frame.message;
    }
    expect(statuses).toEqual([100, 180, 200]);
    const toTag = /To: [^\r\n]*;tag=([^;\r\n]+)/.exec(ok)?.[1] ?? '';
    client.send({ type: 'send', message: request_('ACK', local, sipp.port, { branch: 'z9hG4bK-ack-1', callId: 'call-1', cseq: 1, toTag }) });
    client.send({ type: 'send', id: 'bye-1', message: request_('BYE', local, sipp.port, { branch: 'z9hG4bK-bye-1', callId: 'call-1', cseq: 2, toTag }) });
    const bye = await client.next('received');
    expect(statusOf(bye.message)).toBe(200);
    expect(bye.message).toContain('CSeq: 2 BYE');
    const result = await sipp.finished;
    expect(result.code, result.output).toBe(0);
    // Each response reached the edge once, whatever sipp retransmitted.
    expect(client.queued.filter((frame) => frame.type === 'received')).toEqual([]);
  });
});

describe('retransmissions', () => {
  it('resends a request to a silent PBX with Timer E and reports Timer F', async () => {
    const pbx = await udpPeer();
    cleanup.push(() => pbx.close());
    const { client, local } = await openLink(pbx.port);
    const options = request_('OPTIONS', local, pbx.port, { branch: 'z9hG4bK-opt-silent', callId: 'opt-1', cseq: 1 });
    client.send({ type: 'send', id: 'opt-1', message: options });
    const timeout = await client.next('timeout', 15_000);
    expect(timeout).toMatchObject({ id: 'opt-1', method: 'OPTIONS', branch: 'z9hG4bK-opt-silent', callId: 'opt-1' });
    // 64*T1 = 6.4 s with T1 = 100 ms, T2 = 400 ms: the first send, 100, 200, 400, then every 400 ms.
    const copies: string[] = [];
    while (pbx.queued > 0) copies.push(new TextDecoder().decode((await pbx.next()).data));
    expect(copies.length).toBeGreaterThanOrEqual(8);
    expect(copies.every((copy) => copy === options)).toBe(true);
  });

  it('answers a PBX request’s retransmission with the edge’s response, without waking the edge', async () => {
    const pbx = await udpPeer();
    cleanup.push(() => pbx.close());
    const { client, local, id } = await openLink(pbx.port);
    const options = [
      `OPTIONS sip:link@${local.address}:${local.port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${pbx.port};branch=z9hG4bK-pbx-opt-1`,
      'From: <sip:pbx@127.0.0.1>;tag=p1',
      'To: <sip:link@sipedge.test>',
      'Call-ID: pbx-opt-1',
      'CSeq: 7 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const bytes = new TextEncoder().encode(options);
    await pbx.send(bytes, local.port);
    const received = await client.next('received');
    expect(received.message).toBe(options);
    // A retransmission before the edge answered: absorbed.
    await pbx.send(bytes, local.port);
    const response = options.replace(/^OPTIONS [^\r\n]+/, 'SIP/2.0 200 OK').replace('To: <sip:link@sipedge.test>', 'To: <sip:link@sipedge.test>;tag=l1');
    client.send({ type: 'send', message: response });
    expect(new TextDecoder().decode((await pbx.next(5000)).data)).toBe(response);
    await pbx.send(bytes, local.port);
    expect(new TextDecoder().decode((await pbx.next(5000)).data)).toBe(response);
    expect(received.from).toEqual({ address: '127.0.0.1', port: pbx.port });
    expect(node.service.sipGateway.link(id)?.counters.absorbed).toBe(2);
    expect(client.queued).toEqual([]);
  });

  it('resends a final INVITE response until the ACK, then forwards the ACK once', async () => {
    const pbx = await udpPeer();
    cleanup.push(() => pbx.close());
    const { client, local } = await openLink(pbx.port);
    const invite = [
      `INVITE sip:link@${local.address}:${local.port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${pbx.port};branch=z9hG4bK-pbx-inv-1`,
      'From: <sip:pbx@127.0.0.1>;tag=p1',
      'To: <sip:link@sipedge.test>',
      'Call-ID: pbx-inv-1',
      'CSeq: 1 INVITE',
      `Contact: <sip:pbx@127.0.0.1:${pbx.port}>`,
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    await pbx.send(new TextEncoder().encode(invite), local.port);
    await client.next('received');
    const ok = invite.replace(/^INVITE [^\r\n]+/, 'SIP/2.0 200 OK').replace('To: <sip:link@sipedge.test>', 'To: <sip:link@sipedge.test>;tag=l1');
    client.send({ type: 'send', message: ok });
    // The first copy and at least two of Timer G's.
    for (let i = 0; i < 3; i++) expect(new TextDecoder().decode((await pbx.next(5000)).data)).toBe(ok);
    const ack = [
      `ACK sip:link@${local.address}:${local.port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${pbx.port};branch=z9hG4bK-pbx-ack-1`,
      'From: <sip:pbx@127.0.0.1>;tag=p1',
      'To: <sip:link@sipedge.test>;tag=l1',
      'Call-ID: pbx-inv-1',
      'CSeq: 1 ACK',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    await pbx.send(new TextEncoder().encode(ack), local.port);
    expect((await client.next('received')).message).toBe(ack);
    await pbx.send(new TextEncoder().encode(ack), local.port);
    // Timer H (6.4 s here) passes with no ack-timeout, and the repeated ACK was not forwarded.
    await new Promise((resolve) => setTimeout(resolve, 7000));
    expect(client.queued).toEqual([]);
  }, 20_000);
});

describe('reconnection', () => {
  it('closes an older connection for a link with 4000 when a newer one opens it', async () => {
    const pbx = await udpPeer();
    cleanup.push(() => pbx.close());
    const { client, local, id } = await openLink(pbx.port);
    const newer = await connectGateway(node.service.controlUrl, TEST_SECRET, id);
    cleanup.push(() => newer.close());
    newer.send({ type: 'open', pbx: { host: '127.0.0.1', port: pbx.port } });
    expect(await newer.next('opened')).toMatchObject({ local, resumed: true });
    expect((await client.closed).code).toBe(4000);
  });

  it('gives a reconnecting link its port back, with what arrived meanwhile', async () => {
    const pbx = await udpPeer();
    cleanup.push(() => pbx.close());
    const { client, local, id } = await openLink(pbx.port);
    client.close();
    await client.closed;
    const message = 'OPTIONS sip:link SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK-held\r\nCall-ID: held\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
    await pbx.send(new TextEncoder().encode(message), local.port);
    const again = await connectGateway(node.service.controlUrl, TEST_SECRET, id);
    cleanup.push(() => again.close());
    again.send({ type: 'open', pbx: { host: '127.0.0.1', port: pbx.port } });
    expect(await again.next('opened')).toMatchObject({ local, resumed: true });
    expect((await again.next('received')).message).toBe(message);
    again.send({ type: 'close' });
    expect((await again.closed).code).toBe(1000);
    expect(node.service.sipGateway.link(id)).toBeUndefined();
  });
});
