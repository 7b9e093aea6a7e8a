/**
 * The SIP gateway's own settings, end to end through a media node configured by its environment:
 * links' UDP ports from `SIPEDGE_MEDIA_SIP_PORT_MIN`-`_MAX` (what the PBX sees them send from), and
 * WebSocket pings toward the edge (`SIPEDGE_MEDIA_SIP_PING_MS`): an edge connection that stops
 * answering is dropped, and the link's port waits for the edge's reconnect.
 */
import { Buffer } from 'node:buffer';
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RequestSigner, newNonce } from '../../../media-node/signing/index.ts';
import { connectGateway, type GatewayClient } from '../support/gateway-client.ts';
import { TEST_SECRET, startNode, type NodeRig } from '../support/media-node-rig.ts';
import { udpPeer, type UdpPeer } from '../support/udp.ts';

const PING_MS = 200;

let node: NodeRig;
let range: { first: number; last: number };
/** Another process's socket on the middle port of the range. */
let squatter: Socket;
beforeAll(async () => {
  const first = await freeUdpRun(3);
  range = { first, last: first + 2 };
  squatter = await bindUdp(first + 1);
  node = await startNode({ SIPEDGE_MEDIA_SIP_PORT_MIN: String(range.first), SIPEDGE_MEDIA_SIP_PORT_MAX: String(range.last), SIPEDGE_MEDIA_SIP_PING_MS: String(PING_MS) });
});
afterAll(async () => {
  await node.close();
  await new Promise<void>((resolve) => squatter.close(() => resolve()));
});

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

let serial = 0;
function linkId(): string {
  return `keepalive-${process.pid}-${++serial}`;
}

async function pbxPeer(): Promise<UdpPeer> {
  const pbx = await udpPeer();
  cleanup.push(() => pbx.close());
  return pbx;
}

async function open(id: string, pbx: UdpPeer): Promise<GatewayClient> {
  const client = await connectGateway(node.service.controlUrl, TEST_SECRET, id);
  cleanup.push(() => client.close());
  client.send({ type: 'open', pbx: { host: '127.0.0.1', port: pbx.port } });
  return client;
}

function options(local: { address: string; port: number }, pbxPort: number, tag: string): string {
  return [
    `OPTIONS sip:pbx@127.0.0.1:${pbxPort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${local.address}:${local.port};branch=z9hG4bK-${tag};rport`,
    'Max-Forwards: 70',
    'From: <sip:link@sipedge.test>;tag=edge1',
    'To: <sip:pbx@127.0.0.1>',
    `Call-ID: ${tag}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('SIP gateway port range', () => {
  it('binds links only inside the range, skips a port another process holds, and refuses a link when the range is full', async () => {
    const pbx = await pbxPeer();
    const first = await open(linkId(), pbx);
    const second = await open(linkId(), pbx);
    const ports = [(await first.next('opened')).local.port, (await second.next('opened')).local.port];
    expect(ports.sort((a, b) => a - b)).toEqual([range.first, range.last]);

    // The PBX sees each link's traffic come from its port in the range.
    first.send({ type: 'send', message: options({ address: '127.0.0.1', port: ports[0] as number }, pbx.port, 'range-1') });
    const datagram = await pbx.next(5000);
    expect(datagram.from.port).toBeGreaterThanOrEqual(range.first);
    expect(datagram.from.port).toBeLessThanOrEqual(range.last);
    expect(datagram.from.port).not.toBe(range.first + 1);

    const third = await open(linkId(), pbx);
    expect(await third.next('error')).toMatchObject({ reason: 'no-udp-port', detail: expect.stringContaining(`${range.first}-${range.last}`) });
    expect((await third.closed).code).toBe(1013);

    // A link that is done gives its port back for the next one.
    first.send({ type: 'close' });
    expect((await first.closed).code).toBe(1000);
    const fourth = await open(linkId(), pbx);
    const reused = (await fourth.next('opened')).local.port;
    expect([range.first, range.last]).toContain(reused);
    fourth.send({ type: 'close' });
    second.send({ type: 'close' });
    await Promise.all([fourth.closed, second.closed]);
  });
});

describe('SIP gateway pings', () => {
  it('keeps a link whose edge answers pings', async () => {
    const pbx = await pbxPeer();
    const client = await open(linkId(), pbx);
    const { local } = await client.next('opened');
    const pings = await countPingsUntil(node.service.controlUrl, 4);
    expect(pings).toBeGreaterThanOrEqual(4);
    // Node's WebSocket client answers pings by itself: the link is still there and still works.
    client.send({ type: 'send', message: options(local, pbx.port, 'alive-1') });
    expect(new TextDecoder().decode((await pbx.next(5000)).data)).toContain('OPTIONS sip:pbx@127.0.0.1');
    client.send({ type: 'close' });
    expect((await client.closed).code).toBe(1000);
  });

  it('drops an edge connection that stops answering pings, and keeps the link port for its reconnect', async () => {
    const pbx = await pbxPeer();
    const id = linkId();
    const silent = await SilentEdge.connect(node.service.controlUrl, id);
    cleanup.push(() => silent.destroy());
    silent.sendText(JSON.stringify({ type: 'open', pbx: { host: '127.0.0.1', port: pbx.port } }));
    const opened = JSON.parse(await silent.nextText()) as { type: string; local: { port: number } };
    expect(opened.type).toBe('opened');

    // The gateway pings, hears nothing, and hangs up on its own (no closing handshake to wait for).
    await silent.closedByGateway(20_000);
    expect(silent.pingsSeen).toBeGreaterThanOrEqual(3);

    // The edge comes back within the grace period: the same UDP port, resumed.
    const again = await open(id, pbx);
    const resumed = await again.next('opened');
    expect(resumed).toMatchObject({ resumed: true, local: { port: opened.local.port } });
    again.send({ type: 'close' });
    await again.closed;
  });
});

/** Counts the gateway's pings on a connection of its own that answers them, until `count`. */
async function countPingsUntil(baseUrl: string, count: number): Promise<number> {
  const edge = await SilentEdge.connect(baseUrl, linkId(), { answerPings: true });
  try {
    await edge.pings(count, 20_000);
    expect(edge.closed).toBe(false);
    return edge.pingsSeen;
  } finally {
    edge.destroy();
  }
}

/**
 * The edge's side of a gateway WebSocket written by hand on a TCP socket (RFC 6455 client frames,
 * masked), so a test can choose not to answer pings, as an edge that vanished would not.
 */
class SilentEdge {
  readonly #socket: TcpSocket;
  readonly #answerPings: boolean;
  #buffer = Buffer.alloc(0);
  #texts: string[] = [];
  #wake: (() => void) | undefined;
  pingsSeen = 0;
  closed = false;

  private constructor(socket: TcpSocket, rest: Buffer, answerPings: boolean) {
    this.#socket = socket;
    this.#answerPings = answerPings;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('close', () => {
      this.closed = true;
      this.#wake?.();
    });
    this.#receive(rest);
  }

  static async connect(baseUrl: string, id: string, options: { answerPings?: boolean } = {}): Promise<SilentEdge> {
    const url = new URL(baseUrl);
    const path = `/v1/sip-gateway/links/${id}`;
    const headers = await new RequestSigner(TEST_SECRET).sign({ method: 'GET', path, body: '' }, Date.now(), newNonce());
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const head = [
      `GET ${path} HTTP/1.1`,
      `Host: ${url.host}`,
      'Connection: Upgrade',
      'Upgrade: websocket',
      'Sec-WebSocket-Version: 13',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      '',
      '',
    ].join('\r\n');
    socket.write(head);
    const response = await new Promise<Buffer>((resolve, reject) => {
      let received = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        received = Buffer.concat([received, chunk]);
        if (received.includes('\r\n\r\n')) {
          socket.off('data', onData);
          resolve(received);
        }
      };
      socket.on('data', onData);
      socket.once('error', reject);
    });
    const end = response.indexOf('\r\n\r\n') + 4;
    const status = response.subarray(0, end).toString('latin1');
    if (!status.startsWith('HTTP/1.1 101')) throw new Error(`the gateway refused the WebSocket: ${status}`);
    return new SilentEdge(socket, response.subarray(end), options.answerPings ?? false);
  }

  sendText(text: string): void {
    this.#socket.write(clientFrame(0x1, Buffer.from(text, 'utf8')));
  }

  async nextText(timeoutMs = 10_000): Promise<string> {
    await this.#until(() => this.#texts.length > 0, 'a text frame', timeoutMs);
    return this.#texts.shift() as string;
  }

  pings(count: number, timeoutMs: number): Promise<void> {
    return this.#until(() => this.pingsSeen >= count, `${count} pings`, timeoutMs);
  }

  closedByGateway(timeoutMs: number): Promise<void> {
    return this.#until(() => this.closed, 'the gateway to close the connection', timeoutMs);
  }

  destroy(): void {
    this.#socket.destroy();
  }

  async #until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  #receive(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    // Server frames are unmasked, and the gateway's are short: 7- or 16-bit lengths.
    while (this.#buffer.length >= 2) {
      const opcode = (this.#buffer[0] as number) & 0x0f;
      let length = (this.#buffer[1] as number) & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.#buffer.length < 4) return;
        length = this.#buffer.readUInt16BE(2);
        offset = 4;
      }
      if (this.#buffer.length < offset + length) return;
      const payload = this.#buffer.subarray(offset, offset + length);
      this.#buffer = this.#buffer.subarray(offset + length);
      if (opcode === 0x1) this.#texts.push(payload.toString('utf8'));
      if (opcode === 0x9) {
        this.pingsSeen++;
        if (this.#answerPings) this.#socket.write(clientFrame(0xa, Buffer.from(payload)));
      }
      this.#wake?.();
    }
  }
}

function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const header = payload.length < 126 ? Buffer.from([0x80 | opcode, 0x80 | payload.length]) : Buffer.from([0x80 | opcode, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] = (masked[i] as number) ^ (mask[i & 3] as number);
  return Buffer.concat([header, mask, masked]);
}

function bindUdp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind({ address: '127.0.0.1', port, exclusive: true }, () => resolve(socket));
  });
}

/** The first of `size` consecutive UDP ports free on 127.0.0.1, searched in a band of this process's own. */
async function freeUdpRun(size: number): Promise<number> {
  for (let first = 29_000 + (process.pid % 300) * 3; first < 29_990; first += size) {
    const sockets: Socket[] = [];
    try {
      for (let port = first; port < first + size; port++) sockets.push(await bindUdp(port));
      return first;
    } catch {
      // One is taken: try the next run.
    } finally {
      await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    }
  }
  throw new Error('no run of free UDP ports in 29000-29999');
}
