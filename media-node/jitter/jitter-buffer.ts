/**
 * A small adaptive jitter buffer for the transcoding path (browser Opus -> PBX G.711).
 *
 * The decoder on the far side of this buffer is stateful and the PBX expects one frame every 20 ms,
 * so packets must come out in order, on a steady beat, with every missing frame named so the
 * decoder can conceal it. The buffer does no timing of its own: the caller pushes packets with the
 * time they arrived and calls `tick(now)` once per frame (20 ms), and each tick says what to play.
 *
 * Playout follows RTP timestamps (RFC 3550 §5.1), one frame per packet: each tick plays the packet
 * whose timestamp is due, or reports it missing. The delay, a whole number of frames, adapts:
 *   - grow:   a packet that arrives after its slot has passed is late (dropped, counted as lost);
 *             the buffer then stretches by as many frames as it was late, one concealed frame per
 *             tick without advancing playout, up to `maxDelayMs`;
 *   - shrink: when every packet of a window (`shrinkWindow` arrivals) arrived with more than
 *             `safetyFrames` to spare, one frame is skipped, down to `minDelayMs`.
 * Growing fast and shrinking slowly keeps late loss rare without holding delay that is not needed.
 *
 *   buffering --(first packet has waited the current delay)--> playing
 *   playing   --(buffer empty and nothing arrived for pauseAfterMs)--> buffering
 *   any       --(sequence jump beyond RFC 3550 A.1's limits, or reset())--> buffering
 */
import { MAX_DROPOUT, MAX_MISORDER, sequenceDelta, timestampDelta } from '../rtp/serial-number.ts';

export interface JitterBufferOptions {
  /** RTP clock rate of the buffered payload format (48,000 for Opus: RFC 7587 §4.1). */
  readonly clockRate: number;
  /** Duration of one packet and of one tick; default 20 ms. */
  readonly frameMs?: number;
  /** Delay before the first packet plays, until adaptation has data; default 40 ms. */
  readonly initialDelayMs?: number;
  /** Default 20 ms: one frame. */
  readonly minDelayMs?: number;
  /** Default 200 ms; also bounds how much audio the buffer holds. */
  readonly maxDelayMs?: number;
  /** Arrivals observed before the delay may shrink by one frame; default 100 (2 s). */
  readonly shrinkWindow?: number;
  /** Frames of spare lead kept when shrinking; default 1. */
  readonly safetyFrames?: number;
  /** With the buffer empty, how long without arrivals before the stream counts as paused; default 200 ms. */
  readonly pauseAfterMs?: number;
}

export interface BufferedPacket {
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly payload: Uint8Array;
}

export type PushOutcome =
  | 'queued'
  /** Queued as the first packet of a new stream: the sequence jumped (RFC 3550 A.1). */
  | 'restarted'
  /** Already buffered or already played. */
  | 'duplicate'
  /** Its playout slot had passed: dropped, and the delay grows. */
  | 'late';

export type Playout =
  | { readonly kind: 'play'; readonly packet: BufferedPacket }
  /** A frame is due and there is no packet for it: conceal one frame. */
  | { readonly kind: 'conceal'; readonly reason: 'missing' | 'stretch' }
  /** Nothing is due: the stream has not started or has paused. Send nothing. */
  | { readonly kind: 'idle' };

export interface JitterBufferCounters {
  pushed: number;
  played: number;
  /** Frames concealed because their packet was missing when due. */
  missing: number;
  late: number;
  duplicates: number;
  /** Frames concealed to grow the delay. */
  stretched: number;
  /** Packets skipped to shrink the delay or to stay under the maximum. */
  skipped: number;
  restarts: number;
}

interface Entry {
  readonly extendedSequence: number;
  readonly extendedTimestamp: number;
  readonly packet: BufferedPacket;
}

const PLAYED_MEMORY = 256;

export class JitterBuffer {
  readonly counters: JitterBufferCounters = { pushed: 0, played: 0, missing: 0, late: 0, duplicates: 0, stretched: 0, skipped: 0, restarts: 0 };
  readonly #frameTicks: number;
  readonly #frameMs: number;
  readonly #minFrames: number;
  readonly #maxFrames: number;
  readonly #shrinkWindow: number;
  readonly #safetyFrames: number;
  readonly #pauseAfterMs: number;

  #state: 'buffering' | 'playing' = 'buffering';
  /** Ordered by extended timestamp. */
  #entries: Entry[] = [];
  /** Current delay, in frames. */
  #delayFrames: number;
  /** Concealed frames still owed to a decision to grow. */
  #stretchPending = 0;
  /** A decision to shrink by one frame, carried out when a packet is due. */
  #skipPending = false;
  /** Extended timestamp of the next frame to play; kept while paused, so stragglers stay late. */
  #playoutTimestamp = 0;
  /** Whether this stream has played anything yet (until a restart). */
  #hasPlayed = false;
  #bufferingSince: number | undefined;
  #lastArrivalMs = 0;
  /** Highest sequence number and timestamp seen, 16/32-bit and extended, for unwrapping. */
  #highest: { sequence: number; extendedSequence: number; timestamp: number; extendedTimestamp: number } | undefined;
  /** Extended sequence numbers recently played, by slot, to recognise duplicates. */
  readonly #played = new Float64Array(PLAYED_MEMORY).fill(-1);
  /** Least lead (in frames) seen in the current shrink window, and arrivals counted in it. */
  #windowMinLead = Number.POSITIVE_INFINITY;
  #windowArrivals = 0;

  constructor(options: JitterBufferOptions) {
    this.#frameMs = options.frameMs ?? 20;
    this.#frameTicks = Math.round((options.clockRate * this.#frameMs) / 1000);
    this.#minFrames = Math.max(1, Math.round((options.minDelayMs ?? 20) / this.#frameMs));
    this.#maxFrames = Math.max(this.#minFrames, Math.round((options.maxDelayMs ?? 200) / this.#frameMs));
    this.#delayFrames = clamp(Math.round((options.initialDelayMs ?? 40) / this.#frameMs), this.#minFrames, this.#maxFrames);
    this.#shrinkWindow = options.shrinkWindow ?? 100;
    this.#safetyFrames = options.safetyFrames ?? 1;
    this.#pauseAfterMs = options.pauseAfterMs ?? 200;
  }

  /** The current playout delay in milliseconds. */
  get delayMs(): number {
    return this.#delayFrames * this.#frameMs;
  }

  get state(): 'buffering' | 'playing' {
    return this.#state;
  }

  /** Number of packets waiting. */
  get size(): number {
    return this.#entries.length;
  }

  /** Takes in one packet that arrived at `nowMs`. */
  push(packet: BufferedPacket, nowMs: number): PushOutcome {
    this.counters.pushed++;
    this.#lastArrivalMs = nowMs;
    let outcome: PushOutcome = 'queued';
    let extended = this.#extend(packet);
    if (extended === undefined) {
      this.#restart();
      this.counters.restarts++;
      outcome = 'restarted';
      extended = this.#extend(packet) as { sequence: number; timestamp: number };
    }
    const { sequence, timestamp } = extended;
    if (this.#played[sequence % PLAYED_MEMORY] === sequence || this.#entries.some((entry) => entry.extendedSequence === sequence)) {
      this.counters.duplicates++;
      return 'duplicate';
    }
    if (this.#hasPlayed) {
      const lead = (timestamp - this.#playoutTimestamp) / this.#frameTicks;
      if (lead < -0.5) {
        // Its slot has passed (concealed, or skipped while the stream was paused): too late.
        this.counters.late++;
        // Stretching already decided on moves playout back for later packets: count it once.
        if (this.#state === 'playing') this.#grow(Math.ceil(-lead - 0.5) - this.#stretchPending);
        return 'late';
      }
      if (this.#state === 'playing') this.#observeLead(lead + this.#stretchPending);
    }
    if (this.#state === 'buffering') this.#bufferingSince ??= nowMs;
    this.#insert({ extendedSequence: sequence, extendedTimestamp: timestamp, packet });
    this.#enforceMaximum();
    return outcome;
  }

  /** Called once per frame: what to play now. */
  tick(nowMs: number): Playout {
    if (this.#state === 'buffering') {
      const since = this.#bufferingSince;
      const first = this.#entries[0];
      if (first === undefined || since === undefined || nowMs - since < (this.#delayFrames - 0.5) * this.#frameMs) return IDLE;
      this.#state = 'playing';
      this.#hasPlayed = true;
      this.#playoutTimestamp = first.extendedTimestamp;
      this.#stretchPending = 0;
    }
    if (this.#stretchPending > 0) {
      this.#stretchPending--;
      this.counters.stretched++;
      return STRETCH;
    }
    const half = this.#frameTicks / 2;
    if (this.#skipPending && this.#entries[0] !== undefined && (this.#entries[0] as Entry).extendedTimestamp < this.#playoutTimestamp + half) {
      // Shrink by one frame: the due packet is dropped and the next one plays in its place.
      this.#skipPending = false;
      this.#delayFrames--;
      this.#playoutTimestamp += this.#frameTicks;
    }
    // Packets whose slot has passed (the one skipped above) can no longer play.
    while (this.#entries.length > 0 && (this.#entries[0] as Entry).extendedTimestamp < this.#playoutTimestamp - half) {
      this.#entries.shift();
      this.counters.skipped++;
    }
    const head = this.#entries[0];
    if (head !== undefined && head.extendedTimestamp < this.#playoutTimestamp + half) {
      this.#entries.shift();
      this.#playoutTimestamp = head.extendedTimestamp + this.#frameTicks;
      this.#played[head.extendedSequence % PLAYED_MEMORY] = head.extendedSequence;
      this.counters.played++;
      return { kind: 'play', packet: head.packet };
    }
    if (head === undefined && nowMs - this.#lastArrivalMs >= this.#pauseAfterMs) {
      // RFC 7587 §3.1.3 DTX, hold, or a stalled sender: stop conceal-filling and re-buffer later.
      this.#state = 'buffering';
      this.#bufferingSince = undefined;
      return IDLE;
    }
    this.#playoutTimestamp += this.#frameTicks;
    this.counters.missing++;
    return MISSING;
  }

  /** Forgets the stream: call when the source changes (SSRC change, re-INVITE). */
  reset(): void {
    this.#restart();
  }

  #restart(): void {
    this.counters.skipped += this.#entries.length;
    this.#entries = [];
    this.#hasPlayed = false;
    this.#state = 'buffering';
    this.#bufferingSince = undefined;
    this.#stretchPending = 0;
    this.#skipPending = false;
    this.#highest = undefined;
    this.#played.fill(-1);
    this.#windowMinLead = Number.POSITIVE_INFINITY;
    this.#windowArrivals = 0;
  }

  /**
   * Unwraps the packet's counters against the highest seen (RFC 3550 A.1), or returns undefined
   * when the sequence jumped too far to be the same stream.
   */
  #extend(packet: BufferedPacket): { sequence: number; timestamp: number } | undefined {
    const highest = this.#highest;
    if (highest === undefined) {
      // Extended counters start one cycle up, so reordered packets before the first stay positive.
      const first = { sequence: packet.sequenceNumber + 0x1_0000, timestamp: packet.timestamp + 0x1_0000_0000 };
      this.#highest = {
        sequence: packet.sequenceNumber,
        extendedSequence: first.sequence,
        timestamp: packet.timestamp,
        extendedTimestamp: first.timestamp,
      };
      return first;
    }
    const delta = sequenceDelta(packet.sequenceNumber, highest.sequence);
    if (delta > MAX_DROPOUT || delta < -MAX_MISORDER) return undefined;
    const sequence = highest.extendedSequence + delta;
    const timestamp = highest.extendedTimestamp + timestampDelta(packet.timestamp, highest.timestamp);
    if (delta > 0) {
      highest.sequence = packet.sequenceNumber;
      highest.extendedSequence = sequence;
      highest.timestamp = packet.timestamp;
      highest.extendedTimestamp = timestamp;
    }
    return { sequence, timestamp };
  }

  #insert(entry: Entry): void {
    let index = this.#entries.length;
    while (index > 0 && (this.#entries[index - 1] as Entry).extendedTimestamp > entry.extendedTimestamp) index--;
    this.#entries.splice(index, 0, entry);
  }

  /** Never hold more than the maximum delay of audio ahead of playout: drop the oldest. */
  #enforceMaximum(): void {
    const newest = this.#entries[this.#entries.length - 1];
    if (newest === undefined) return;
    const limit = newest.extendedTimestamp - this.#maxFrames * this.#frameTicks;
    while (this.#entries.length > 0 && (this.#entries[0] as Entry).extendedTimestamp <= limit) {
      this.#entries.shift();
      this.counters.skipped++;
      if (this.#state === 'playing') this.#playoutTimestamp = Math.max(this.#playoutTimestamp, limit + this.#frameTicks);
    }
  }

  #grow(frames: number): void {
    const room = this.#maxFrames - this.#delayFrames;
    const by = Math.min(frames, room);
    if (by <= 0) return;
    this.#delayFrames += by;
    this.#stretchPending += by;
    this.#skipPending = false;
    this.#windowMinLead = Number.POSITIVE_INFINITY;
    this.#windowArrivals = 0;
  }

  /** Tracks the least lead over a window of arrivals; shrinks by a frame when all had room to spare. */
  #observeLead(lead: number): void {
    this.#windowMinLead = Math.min(this.#windowMinLead, lead);
    if (++this.#windowArrivals < this.#shrinkWindow) return;
    if (this.#windowMinLead - this.#safetyFrames >= 1 && this.#delayFrames > this.#minFrames) this.#skipPending = true;
    this.#windowMinLead = Number.POSITIVE_INFINITY;
    this.#windowArrivals = 0;
  }
}

const IDLE: Playout = { kind: 'idle' };
const MISSING: Playout = { kind: 'conceal', reason: 'missing' };
const STRETCH: Playout = { kind: 'conceal', reason: 'stretch' };

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
