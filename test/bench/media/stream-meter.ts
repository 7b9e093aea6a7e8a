/**
 * What one direction of one generated call looked like on arrival, over a measurement window:
 * packets lost (gaps in the extended sequence numbers), packets late, and for pass-through the
 * time each packet spent between the generator's send and its arrival (the send time rides in
 * the payload, which pass-through leaves untouched).
 *
 * Late, as a receiver's adaptive jitter buffer sees it: each packet's arrival is placed against
 * its slot on the stream's own RTP clock, and a packet is late when it arrives more than `lateMs`
 * behind the best-placed packet of the last second. Anchoring on the last second rather than the
 * whole window lets a one-off shift of the stream's timing (a relay re-timing after a stall) cost
 * a second's worth of packets at most, as it would cost a receiver one adaptation.
 */

export interface StreamWindow {
  readonly received: number;
  readonly expected: number;
  readonly lost: number;
  readonly late: number;
}

export class StreamMeter {
  readonly clockRate: number;
  #active = false;
  #firstSeq = 0;
  #lastSeq = 0;
  #lastExt = 0;
  #maxExt = 0;
  #minExt = 0;
  #received = 0;
  #firstTs = 0;
  readonly #lateMs: number;
  /** Arrival minus slot of the last second's packets, as a monotonic queue (the front is the minimum). */
  #recent: { arrivalMs: number; offset: number }[] = [];
  #late = 0;
  #worstMs = 0;
  /** Send-to-arrival times, in ms, for pass-through. */
  readonly transit: number[] = [];

  constructor(clockRate: number, lateMs = 50) {
    this.clockRate = clockRate;
    this.#lateMs = lateMs;
  }

  /** Starts a new window: everything before is forgotten. */
  reset(): void {
    this.#active = false;
    this.#received = 0;
    this.#recent = [];
    this.#late = 0;
    this.#worstMs = 0;
    this.transit.length = 0;
  }

  onPacket(sequenceNumber: number, timestamp: number, arrivalMs: number, sentAtMs?: number): void {
    if (!this.#active) {
      this.#active = true;
      this.#firstSeq = sequenceNumber;
      this.#lastSeq = sequenceNumber;
      this.#lastExt = 0;
      this.#maxExt = 0;
      this.#minExt = 0;
      this.#firstTs = timestamp;
    }
    const delta = ((sequenceNumber - this.#lastSeq + 32768) & 0xffff) - 32768;
    const ext = this.#lastExt + delta;
    this.#lastSeq = sequenceNumber;
    this.#lastExt = ext;
    if (ext > this.#maxExt) this.#maxExt = ext;
    if (ext < this.#minExt) this.#minExt = ext;
    this.#received++;
    // Signed 32-bit difference: right across a timestamp wrap.
    const ticks = (timestamp - this.#firstTs) | 0;
    const offset = arrivalMs - (ticks * 1000) / this.clockRate;
    const recent = this.#recent;
    while (recent.length > 0 && (recent[recent.length - 1] as { offset: number }).offset >= offset) recent.pop();
    recent.push({ arrivalMs, offset });
    while ((recent[0] as { arrivalMs: number }).arrivalMs < arrivalMs - 1000) recent.shift();
    const behind = offset - (recent[0] as { offset: number }).offset;
    if (behind > this.#lateMs) this.#late++;
    if (behind > this.#worstMs) this.#worstMs = behind;
    if (sentAtMs !== undefined) this.transit.push(arrivalMs - sentAtMs);
  }

  window(): StreamWindow & { readonly worstMs: number } {
    if (!this.#active) return { received: 0, expected: 0, lost: 0, late: 0, worstMs: 0 };
    const expected = this.#maxExt - this.#minExt + 1;
    return { received: this.#received, expected, lost: Math.max(0, expected - this.#received), late: this.#late, worstMs: this.#worstMs };
  }
}

/** The `q`-quantile (0-1) of `values`, sorting a copy. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Pass-through payloads: packet index and send time in the first 12 octets, PCMU silence after. */
export function markedPayload(index: number, sentAtMs: number): Uint8Array {
  const payload = new Uint8Array(160).fill(0xff);
  const view = new DataView(payload.buffer);
  view.setUint32(0, index);
  view.setFloat64(4, sentAtMs);
  return payload;
}

export function sentAtOf(payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getFloat64(4);
}
