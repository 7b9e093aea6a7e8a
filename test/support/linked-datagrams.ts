/**
 * Two SIP endpoints joined by a fake datagram link: every message arrives after a fixed latency,
 * unless the test has asked for it to be lost. Nothing runs by itself; the test's loop asks for
 * the deliveries due at the fake clock's time.
 */
export type Side = 'a' | 'b';

export interface Delivery {
  readonly at: number;
  readonly to: Side;
  readonly wire: string;
}

export class LinkedDatagrams {
  readonly latency: number;
  readonly lost: Delivery[] = [];
  #inFlight: Delivery[] = [];
  #losses: ((wire: string, to: Side) => boolean)[] = [];

  constructor(latency: number) {
    this.latency = latency;
  }

  /** Loses the next message (only that one) for which `matches` holds. */
  loseNext(matches: (wire: string, to: Side) => boolean): void {
    this.#losses.push(matches);
  }

  send(to: Side, wire: string, now: number): void {
    const delivery = { at: now + this.latency, to, wire };
    const loss = this.#losses.findIndex((matches) => matches(wire, to));
    if (loss >= 0) {
      this.#losses.splice(loss, 1);
      this.lost.push(delivery);
      return;
    }
    this.#inFlight.push(delivery);
  }

  nextArrival(): number | undefined {
    return this.#inFlight.reduce<number | undefined>((earliest, d) => (earliest === undefined || d.at < earliest ? d.at : earliest), undefined);
  }

  /** Removes and returns what has arrived by `now`, in sending order. */
  arrived(now: number): Delivery[] {
    const due = this.#inFlight.filter((d) => d.at <= now);
    this.#inFlight = this.#inFlight.filter((d) => d.at > now);
    return due;
  }
}
