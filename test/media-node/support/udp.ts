/** Real UDP peers on 127.0.0.1 for media tests; every wait has a deadline. */
import { createSocket, type Socket } from 'node:dgram';

export interface Datagram {
  readonly data: Uint8Array;
  readonly from: { readonly address: string; readonly port: number };
}

export interface UdpPeer {
  readonly socket: Socket;
  readonly port: number;
  send(data: Uint8Array, port: number): Promise<void>;
  /** The next datagram not yet taken, or a rejection after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Datagram>;
  /** Datagrams received and not yet taken. */
  readonly queued: number;
  close(): Promise<void>;
}

export async function udpPeer(port = 0): Promise<UdpPeer> {
  const socket = createSocket('udp4');
  const inbox: Datagram[] = [];
  const waiters: Array<(datagram: Datagram) => void> = [];
  socket.on('message', (data, info) => {
    const datagram = { data: Uint8Array.from(data), from: { address: info.address, port: info.port } };
    const waiter = waiters.shift();
    if (waiter) waiter(datagram);
    else inbox.push(datagram);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve());
  });
  return {
    socket,
    port: socket.address().port,
    send: (data, to) => new Promise((resolve, reject) => socket.send(data, to, '127.0.0.1', (error) => (error ? reject(error) : resolve()))),
    next: (timeoutMs = 2000) => {
      const ready = inbox.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(deliver), 1);
          reject(new Error(`no datagram on port ${socket.address().port} within ${timeoutMs} ms`));
        }, timeoutMs);
        const deliver = (datagram: Datagram): void => {
          clearTimeout(timer);
          resolve(datagram);
        };
        waiters.push(deliver);
      });
    },
    get queued() {
      return inbox.length;
    },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** Resolves once `condition` holds, polling; rejects with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
