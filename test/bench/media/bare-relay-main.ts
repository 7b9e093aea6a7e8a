/**
 * The least a Node relay does per packet, run by `bench:media` next to the media node as the floor
 * of the platform: per call two UDP sockets on 127.0.0.1, and each datagram sent on unchanged from
 * the other socket to the address that side last sent from (symmetric latching; no parsing, no
 * SRTP, no werift). Controlled over stdin and stdout, one JSON line each way:
 * `{"open":"<id>"}` -> `{"id","towardBrowser","towardPbx"}` (the ports facing each side),
 * `{"close":"<id>"}` -> `{"id"}`. Ports come from BARE_RELAY_PORT_MIN..MAX in turn.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { literalLookup } from '../../../media-node/udp-literal-lookup.ts';

const first = Number(process.env['BARE_RELAY_PORT_MIN'] ?? 64000);
const last = Number(process.env['BARE_RELAY_PORT_MAX'] ?? 64999);
let next = first;

interface Side {
  readonly socket: Socket;
  peer: { port: number; address: string } | undefined;
}

const calls = new Map<string, readonly [Side, Side]>();

async function bindNext(): Promise<Socket> {
  for (let attempt = 0; attempt <= last - first; attempt++) {
    const port = next;
    next = next === last ? first : next + 1;
    const socket = createSocket({ type: 'udp4', lookup: literalLookup });
    const bound = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) return socket;
    socket.close();
  }
  throw new Error(`no free port in ${first}-${last}`);
}

function relay(from: Side, to: Side): void {
  from.socket.on('message', (message: Buffer, info: RemoteInfo) => {
    if (from.peer === undefined || from.peer.port !== info.port || from.peer.address !== info.address) from.peer = { port: info.port, address: info.address };
    const peer = to.peer;
    if (peer !== undefined) to.socket.send(message, peer.port, peer.address);
  });
}

async function open(id: string): Promise<unknown> {
  const browser: Side = { socket: await bindNext(), peer: undefined };
  const pbx: Side = { socket: await bindNext(), peer: undefined };
  relay(browser, pbx);
  relay(pbx, browser);
  calls.set(id, [browser, pbx]);
  return { id, towardBrowser: browser.socket.address().port, towardPbx: pbx.socket.address().port };
}

function close(id: string): unknown {
  for (const side of calls.get(id) ?? []) side.socket.close();
  calls.delete(id);
  return { id };
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { open?: string; close?: string };
  const reply = command.open !== undefined ? open(command.open) : Promise.resolve(close(String(command.close)));
  reply.then(
    (answer) => process.stdout.write(`${JSON.stringify(answer)}\n`),
    (error: unknown) => process.stdout.write(`${JSON.stringify({ id: command.open ?? command.close, error: String(error) })}\n`),
  );
});
process.stdin.on('end', () => process.exit(0));
