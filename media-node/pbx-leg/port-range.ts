/**
 * The UDP ports a media node may use for PBX legs, handed out in pairs: RTP on an even port and
 * RTCP on the next, odd one (RFC 3550 §11). Ports go round the range rather than back to the
 * lowest free one, so a port just released is not handed out again at once, where a late packet
 * of the old call could still land on it.
 */
import { PortCycle } from '../port-cycle.ts';

export class PortRangeExhaustedError extends Error {
  override readonly name = 'PortRangeExhaustedError';
}

export class PortRange {
  readonly first: number;
  readonly last: number;
  readonly #ports: PortCycle;

  /** `first` and `last` bound the range inclusively; RTP ports are the even ones within it. */
  constructor(first: number, last: number) {
    const evenFirst = first + (first % 2);
    if (!Number.isInteger(first) || !Number.isInteger(last) || first < 1024 || last > 65535 || evenFirst + 1 > last) {
      throw new RangeError(`a port range needs at least one even/odd pair within 1024-65535, not ${first}-${last}`);
    }
    this.first = evenFirst;
    this.last = last;
    this.#ports = new PortCycle(evenFirst, last, 2);
  }

  /** Number of RTP/RTCP pairs in the range. */
  get capacity(): number {
    return this.#ports.capacity;
  }

  get available(): number {
    return this.capacity - this.#ports.inUse;
  }

  /** The next free RTP port (its RTCP port is one above), or undefined when every pair is taken. */
  take(): number | undefined {
    for (let tried = 0; tried < this.capacity; tried++) {
      const port = this.#ports.takeNext();
      if (port !== undefined) return port;
    }
    return undefined;
  }

  release(port: number): void {
    this.#ports.release(port);
  }
}
