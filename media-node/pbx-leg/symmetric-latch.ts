/**
 * Symmetric RTP (RFC 4961) toward PBXs behind NAT: send to where the PBX's packets really come
 * from, not to the address its SDP announced, which may be a private one.
 *
 * The latch closes on the first valid packet (the caller has already checked it is well-formed
 * RTP of a negotiated payload type, and of the expected SSRC when one is known) and then refuses
 * every other source. Latching onto whatever sends last is the "RTP Bleed" hole (Asterisk
 * AST-2017-005): anyone who can guess the port could pull the call's audio to themselves. The
 * latch opens again only on a re-INVITE, or, if the operator allows it, after the latched source
 * has been silent for a while (a NAT that rebinds its port mid-call).
 */

export interface TransportAddress {
  readonly address: string;
  readonly port: number;
}

export type LatchDecision = 'latched' | 'accepted' | 'unexpected-source';

export interface SymmetricLatchOptions {
  /** The address the SDP announced: where to send until a packet arrives. */
  readonly signalled?: TransportAddress;
  /** Re-latch onto a new source after the latched one has been silent this long; default never. */
  readonly relatchAfterSilenceMs?: number;
}

export class SymmetricLatch {
  readonly #relatchAfterSilenceMs: number | undefined;
  #signalled: TransportAddress | undefined;
  #latched: TransportAddress | undefined;
  #lastHeardMs = 0;

  constructor(options: SymmetricLatchOptions = {}) {
    this.#signalled = options.signalled;
    this.#relatchAfterSilenceMs = options.relatchAfterSilenceMs;
  }

  /** Where to send: the latched source, else the signalled address, else nowhere yet. */
  get destination(): TransportAddress | undefined {
    return this.#latched ?? this.#signalled;
  }

  get latched(): TransportAddress | undefined {
    return this.#latched;
  }

  /** Decides about a valid packet from `source`, received at `nowMs`. */
  offer(source: TransportAddress, nowMs: number): LatchDecision {
    const latched = this.#latched;
    if (latched !== undefined && sameAddress(latched, source)) {
      this.#lastHeardMs = nowMs;
      return 'accepted';
    }
    const silentLongEnough = this.#relatchAfterSilenceMs !== undefined && nowMs - this.#lastHeardMs >= this.#relatchAfterSilenceMs;
    if (latched !== undefined && !silentLongEnough) return 'unexpected-source';
    this.#latched = { address: source.address, port: source.port };
    this.#lastHeardMs = nowMs;
    return 'latched';
  }

  /** Opens the latch again, as a re-INVITE does, optionally with the new SDP's address. */
  reopen(signalled?: TransportAddress): void {
    this.#latched = undefined;
    if (signalled !== undefined) this.#signalled = signalled;
  }
}

function sameAddress(a: TransportAddress, b: TransportAddress): boolean {
  return a.port === b.port && a.address === b.address;
}
