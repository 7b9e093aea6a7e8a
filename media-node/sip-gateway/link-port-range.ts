/**
 * The UDP ports SIP gateway links may bind (`sip.portMin`-`sip.portMax`), one per link, for
 * operators whose firewall opens a fixed range toward their PBXs. Ports go round the range like
 * the RTP range's, so a port just released is not taken again at once (a PBX's late
 * retransmission to the old link would land on the new one); a port some other process holds is
 * skipped when binding it fails.
 */
import type { Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { bindUdp, PortCycle } from '../port-cycle.ts';

export class LinkPortsExhaustedError extends Error {
  override readonly name = 'LinkPortsExhaustedError';
}

export class LinkPortRange {
  readonly first: number;
  readonly last: number;
  readonly #ports: PortCycle;

  constructor(first: number, last: number) {
    if (!Number.isInteger(first) || !Number.isInteger(last) || first < 1024 || last > 65535 || last < first) {
      throw new RangeError(`a SIP port range lies within 1024-65535, lowest first, not ${first}-${last}`);
    }
    this.first = first;
    this.last = last;
    this.#ports = new PortCycle(first, last, 1);
  }

  /** Binds a UDP socket on `address` to a free port of the range; throws `LinkPortsExhaustedError`. */
  async bind(address: string): Promise<Socket> {
    for (let tried = 0; tried < this.#ports.capacity; tried++) {
      // Taken before binding, so two links opening at once never try the same port.
      const port = this.#ports.takeNext();
      if (port === undefined) continue;
      const socket = await bindOn(address, port);
      if (socket !== undefined) return socket;
      this.#ports.release(port);
    }
    throw new LinkPortsExhaustedError(`no free UDP port for a SIP link in ${this.first}-${this.last}`);
  }

  release(port: number): void {
    this.#ports.release(port);
  }
}

/** A UDP socket bound to `address`:`port` (0: any free port), or undefined when the port is taken. */
export function bindOn(address: string, port: number): Promise<Socket | undefined> {
  return bindUdp({ type: isIPv6(address) ? 'udp6' : 'udp4' }, address, port);
}
