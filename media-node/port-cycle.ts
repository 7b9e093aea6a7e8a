/**
 * The UDP ports of a configured range, handed out round the range: each port taken is marked in
 * use until released, and the next one is looked for after it rather than back at the lowest
 * free one, so a port just released is not taken again at once, where a late packet meant for its
 * old user could still land. Ports step by 1 (SIP gateway links) or by 2 (RTP on an even port,
 * RTCP on the odd one above it). `bindUdp` binds one of them, answering undefined when another
 * process holds it.
 */
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';

export class PortCycle {
  readonly first: number;
  readonly last: number;
  /** Ports per step: every port of the step belongs to the one taken. */
  readonly step: number;
  readonly #inUse = new Set<number>();
  #next: number;

  constructor(first: number, last: number, step: number) {
    this.first = first;
    this.last = last;
    this.step = step;
    this.#next = first;
  }

  /** How many ports (steps) the range holds. */
  get capacity(): number {
    return Math.floor((this.last - this.first + 1) / this.step);
  }

  get inUse(): number {
    return this.#inUse.size;
  }

  /**
   * Moves one step round the range: the port there, now marked in use, or undefined when it was
   * already in use. A full round is `capacity` calls.
   */
  takeNext(): number | undefined {
    const port = this.#next;
    this.#next = port + this.step + (this.step - 1) > this.last ? this.first : port + this.step;
    if (this.#inUse.has(port)) return undefined;
    this.#inUse.add(port);
    return port;
  }

  release(port: number): void {
    this.#inUse.delete(port);
  }
}

/** A UDP socket made with `options`, bound to `address`:`port` (0: any free port), or undefined when the port is taken. */
export function bindUdp(options: SocketOptions, address: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(options);
    const onError = (): void => {
      socket.close();
      resolve(undefined);
    };
    socket.once('error', onError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
