/**
 * Round-trip time from a report block about our own stream (RFC 3550 §6.4.1): when a report
 * arrives at time A (compact NTP), and it echoes our last sender report's time (LSR) and how long
 * the reporter held it (DLSR), the round trip took A - LSR - DLSR, all in units of 1/65536 s.
 */
import { compactIntervalToMs, compactNtpFromUnixMs } from '../rtp/ntp-time.ts';
import type { ReportBlock } from '../rtp/rtcp-compound.ts';

/**
 * The round trip in milliseconds, or undefined if the block cannot tell: LSR 0 means the reporter
 * has not heard a sender report from us yet, and a negative result means clocks or fields are off.
 */
export function roundTripMs(block: Pick<ReportBlock, 'lastSenderReport' | 'delaySinceLastSenderReport'>, arrivalUnixMs: number): number | undefined {
  if (block.lastSenderReport === 0) return undefined;
  const arrival = compactNtpFromUnixMs(arrivalUnixMs);
  // Modulo 2^32: the compact clock wraps every 18.2 hours.
  const interval = (arrival - block.lastSenderReport - block.delaySinceLastSenderReport) | 0;
  return interval < 0 ? undefined : compactIntervalToMs(interval);
}

/** Keeps the round trips measured over a call: the latest, the least and the mean. */
export class RoundTripTracker {
  #latest: number | undefined;
  #least = Number.POSITIVE_INFINITY;
  #sum = 0;
  #count = 0;

  /** Takes a report block about our stream that arrived at `arrivalUnixMs`; returns the RTT if known. */
  onReportBlock(block: Pick<ReportBlock, 'lastSenderReport' | 'delaySinceLastSenderReport'>, arrivalUnixMs: number): number | undefined {
    const rtt = roundTripMs(block, arrivalUnixMs);
    if (rtt === undefined) return undefined;
    this.#latest = rtt;
    this.#least = Math.min(this.#least, rtt);
    this.#sum += rtt;
    this.#count++;
    return rtt;
  }

  get latestMs(): number | undefined {
    return this.#latest;
  }

  get leastMs(): number | undefined {
    return this.#count === 0 ? undefined : this.#least;
  }

  get meanMs(): number | undefined {
    return this.#count === 0 ? undefined : this.#sum / this.#count;
  }
}
