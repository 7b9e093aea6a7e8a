/**
 * A `udp` PbxLink through a media node's SIP/UDP gateway, inside workerd with a fake gateway on a
 * WebSocketPair behind the `webSockets` seam: the frames of the gateway protocol, the Via and
 * Contact naming the gateway's bound address, the link's own transactions not retransmitting (the
 * gateway does), and a reconnect after the gateway's WebSocket drops.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createResponse, getHeader, parseMessage, serializeMessage, type SipRequest } from '../../shared/message/index.ts';
import type { PbxLink } from '../../workers/pbx/pbx-link.ts';
import type { PbxTarget } from '../../workers/pbx/socket-connector.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { challenge, FakePbx } from './support/fake-pbx.ts';
import { install, linkStub, linkView, putLink } from './support/pbx-links.ts';

const T0 = Date.UTC(2100, 0, 1);

interface Frame {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** The gateway's side of each WebSocket the link opens. */
class FakeGateway {
  readonly sockets: { readonly server: WebSocket; readonly frames: Frame[]; readonly target: PbxTarget; readonly linkId: string }[] = [];

  readonly opener = (target: PbxTarget, linkId: string): Promise<WebSocket> => {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    server.accept();
    const entry = { server, frames: [] as Frame[], target, linkId };
    server.addEventListener('message', (event) => {
      entry.frames.push(JSON.parse(String(event.data)) as Frame);
    });
    this.sockets.push(entry);
    client.accept();
    return Promise.resolve(client);
  };

  get last() {
    const last = this.sockets.at(-1);
    if (last === undefined) throw new Error('the link opened no WebSocket');
    return last;
  }

  requests(): SipRequest[] {
    return this.sockets.flatMap((socket) => socket.frames.filter((frame) => frame.type === 'send').map((frame) => parseMessage(String(frame.message)))).filter((message): message is SipRequest => message.kind === 'request');
  }
}

let serial = 0;

async function gatewayLink(): Promise<{ id: string; gateway: FakeGateway; clock: FakeClock }> {
  serial += 1;
  const id = `udp-link-${serial}`;
  const gateway = new FakeGateway();
  const clock = new FakeClock(T0);
  await install(id, new FakePbx(), clock);
  await runInDurableObject(linkStub(id), (instance: PbxLink) => {
    instance.webSockets = gateway.opener;
  });
  return { id, gateway, clock };
}

/** Lets the object's WebSocket events run (they are delivered between turns of the event loop). */
async function turns(id: string, until: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !until(); i += 1) {
    await runInDurableObject(linkStub(id), async () => {
      await scheduler.wait(5);
    });
  }
  if (!until()) throw new Error('the link did not get there');
}

async function ring(id: string, clock: FakeClock): Promise<boolean> {
  const at = await runInDurableObject(linkStub(id), (_instance: PbxLink, state) => state.storage.getAlarm());
  if (at === null) return false;
  clock.advanceTo(Math.max(clock.now(), at));
  return runDurableObjectAlarm(linkStub(id));
}

function received(id: string, socket: WebSocket, request: SipRequest, status: number, headers = challenge('pbx.example.com', 'n1')): Promise<void> {
  const response = createResponse(request, status, undefined, { toTag: 'pbx-tag', headers: status === 401 ? [headers] : [] });
  return runInDurableObject(linkStub(id), () => {
    socket.send(JSON.stringify({ type: 'received', message: serializeMessage(response), from: { address: '198.51.100.5', port: 5060 } }));
  });
}

const CONFIG = { host: 'pbx.example.com', transport: 'udp', username: 'alice', password: 'pbx secret', max_random_initial_delay: 0 };

describe('a PbxLink over UDP through a media node\'s gateway', () => {
  it('opens the gateway for the PBX, names the gateway\'s address in Via and Contact, and registers', async () => {
    const { id, gateway, clock } = await gatewayLink();
    expect((await putLink(id, CONFIG)).status).toBe(201);
    expect(await ring(id, clock)).toBe(true);
    await turns(id, () => gateway.sockets.length === 1 && gateway.last.frames.length === 1);
    expect(gateway.last.linkId).toBe(id);
    expect(gateway.last.frames[0]).toEqual({ type: 'open', pbx: { host: 'pbx.example.com', port: 5060 } });
    // Nothing goes out before the gateway says where the link is.
    expect(gateway.requests()).toHaveLength(0);
    await runInDurableObject(linkStub(id), () => {
      gateway.last.server.send(JSON.stringify({ type: 'opened', local: { address: '203.0.113.7', port: 40000 }, pbx: { address: '198.51.100.5', port: 5060 }, resumed: false }));
    });
    await turns(id, () => gateway.requests().length === 1);
    const [register] = gateway.requests();
    expect(getHeader(register!, 'Via')).toMatch(/^SIP\/2\.0\/UDP 203\.0\.113\.7:40000;rport;branch=z9hG4bK[0-9a-f]+$/);
    expect(getHeader(register!, 'Contact')).toBe('<sip:s@203.0.113.7:40000;transport=udp>');

    await received(id, gateway.last.server, register!, 401);
    await turns(id, () => gateway.requests().length === 2);
    const answered = gateway.requests()[1]!;
    expect(getHeader(answered, 'Authorization')).toContain('nonce="n1"');
    // The gateway retransmits over UDP: the link's own transaction has no Timer E to ring before Timer F.
    const at = await runInDurableObject(linkStub(id), (_instance: PbxLink, state) => state.storage.getAlarm());
    expect(at! - clock.now()).toBeGreaterThanOrEqual(32_000);
    await received(id, gateway.last.server, answered, 200);
    await runInDurableObject(linkStub(id), async () => scheduler.wait(10));
    expect((await linkView(id)).registration).toMatchObject({ state: 'registered', connection: 'open' });
  });

  it('opens the gateway again when its WebSocket drops, and registers over it', async () => {
    const { id, gateway, clock } = await gatewayLink();
    expect((await putLink(id, CONFIG)).status).toBe(201);
    expect(await ring(id, clock)).toBe(true);
    await turns(id, () => gateway.sockets.length === 1 && gateway.last.frames.length === 1);
    const opened = JSON.stringify({ type: 'opened', local: { address: '203.0.113.7', port: 40000 }, pbx: { address: '198.51.100.5', port: 5060 }, resumed: false });
    await runInDurableObject(linkStub(id), () => gateway.last.server.send(opened));
    await turns(id, () => gateway.requests().length === 1);
    await received(id, gateway.last.server, gateway.requests()[0]!, 200);
    await runInDurableObject(linkStub(id), async () => scheduler.wait(10));
    expect((await linkView(id)).registration.state).toBe('registered');

    await runInDurableObject(linkStub(id), () => gateway.last.server.close(1011, 'node going away'));
    await runInDurableObject(linkStub(id), async () => scheduler.wait(10));
    const lost = (await linkView(id)).registration;
    expect(lost).toMatchObject({ state: 'retrying', connection: 'closed' });
    expect(lost.detail).toContain('the WebSocket closed (1011 node going away)');

    expect(await ring(id, clock)).toBe(true);
    await turns(id, () => gateway.sockets.length === 2 && gateway.last.frames.length === 1);
    expect(gateway.last.frames[0]).toMatchObject({ type: 'open' });
    await runInDurableObject(linkStub(id), () => gateway.last.server.send(opened.replace('"resumed":false', '"resumed":true')));
    await turns(id, () => gateway.requests().length === 2);
    await received(id, gateway.last.server, gateway.requests()[1]!, 200);
    await runInDurableObject(linkStub(id), async () => scheduler.wait(10));
    expect((await linkView(id)).registration.state).toBe('registered');
  });
});
