/**
 * The transaction timer values of RFC 3261 §17 and Table 4, derived from T1, T2 and T4.
 *
 * Every duration is computed here, once, so the four state machines read as the RFC's prose
 * ("start Timer B with 64*T1") and a deployment that tunes T1 (say, for a high-latency trunk)
 * changes every dependent timer consistently.
 */

/** RFC 3261 §17.1.1.1 and Table 4: the three base intervals, in milliseconds. */
export interface TransactionTiming {
  /** Round-trip time estimate; 500 ms by default (RFC 3261 §17.1.1.1). */
  readonly t1: number;
  /** Maximum retransmission interval for non-INVITE requests and INVITE responses; 4 s. */
  readonly t2: number;
  /** Maximum time a message remains in the network; 5 s. */
  readonly t4: number;
}

export const DEFAULT_TIMING: TransactionTiming = { t1: 500, t2: 4_000, t4: 5_000 };

/** How a transaction is created: over which kind of transport, with which timer values. */
export interface TransactionOptions {
  /**
   * True for TCP, TLS, SCTP and WebSocket. RFC 3261 §17: reliable transports do not retransmit
   * (Timers A, E and G are not started) and need no time to absorb retransmissions (Timers D, I, J
   * and K are zero, so Completed and Confirmed are left at once).
   */
  readonly reliable: boolean;
  /** Overrides of T1, T2, T4; the rest keep their RFC defaults. */
  readonly timing?: Partial<TransactionTiming>;
  /**
   * An opaque name of the connection or destination the transaction talks over (a WebSocket id, a
   * PbxLink flow). It is stored with the transaction and copied onto each `send` action, so that a
   * retransmission after a Durable Object wakes up still knows where to go.
   */
  readonly flow?: string;
}

export function resolveTiming(overrides: Partial<TransactionTiming> | undefined): TransactionTiming {
  const timing = { ...DEFAULT_TIMING, ...overrides };
  for (const [name, value] of Object.entries(timing)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`${name.toUpperCase()} must be a positive number of milliseconds`);
    }
  }
  if (timing.t2 < timing.t1) throw new RangeError('T2 must not be smaller than T1');
  return timing;
}

/** RFC 3261 §17.1.1.2 (B), §17.1.2.2 (F), §17.2.1 (H), §17.2.2 (J); RFC 6026 §7.2 (M), §7.1 (L). */
export function sixtyFourT1(timing: TransactionTiming): number {
  return 64 * timing.t1;
}

/**
 * RFC 3261 §17.1.1.2: Timer D is "at least 32 seconds for unreliable transports, and a value of
 * zero seconds for reliable transports". It must outlast the server's Timer H (64*T1) so that every
 * retransmitted failure response still finds the transaction to re-send the ACK; with a larger T1 the
 * 32 s floor would not, hence the maximum.
 */
export function timerD(timing: TransactionTiming, reliable: boolean): number {
  return reliable ? 0 : Math.max(32_000, sixtyFourT1(timing));
}

/** RFC 3261 §17.1.2.2 (K) and §17.2.1 (I): T4 on unreliable transports, zero on reliable ones. */
export function timerT4OrZero(timing: TransactionTiming, reliable: boolean): number {
  return reliable ? 0 : timing.t4;
}

/** RFC 3261 §17.2.2: Timer J is 64*T1 on unreliable transports, zero on reliable ones. */
export function timerJ(timing: TransactionTiming, reliable: boolean): number {
  return reliable ? 0 : sixtyFourT1(timing);
}
