/**
 * A user's SIP trace (issue 3): every SIP message into and out of the user's objects, per user,
 * bounded by count, size and age, credentials redacted (`trace-record.ts`).
 *
 * Cost (DESIGN.md: SQLite row writes bill at ~$1 per million; an idle device must cost close to
 * nothing). What is chosen:
 * - Records gather in memory and are written as one row per batch: at `batchRecords` records or
 *   `batchBytes` bytes, or by a logical timer on the object's one alarm `flushDelayMs` after the
 *   first record that must be kept. A call's dozen messages cost a row or two, not a dozen.
 * - REGISTER and OPTIONS exchanges (CSeq method), the traffic of idle devices, never arm that
 *   timer and never cause a write: they are written with the next batch that is written for
 *   another reason, and lost if the object is evicted first; when only they fill the buffer, its
 *   older half is dropped unwritten. An idle device's refreshes (or a registration storm) thus write
 *   nothing, as the registrar's own design requires; while the object lives, `read` shows the
 *   newest of them from memory.
 * So a trace is complete for calls, messages and presence, and best-effort for registration refreshes.
 */
import type { DomainRetention } from '../domains/domain-record.ts';
import { cseqMethodOf, traceRecord, type TraceEntry, type TraceRecord } from './trace-record.ts';
import type { TraceBounds, TraceStore } from './trace-store.ts';

export interface TracePolicy extends TraceBounds {
  readonly batchRecords: number;
  readonly batchBytes: number;
  readonly flushDelayMs: number;
}

export const DEFAULT_TRACE_POLICY: TracePolicy = {
  maxRecords: 2_000,
  maxBytes: 2 * 1024 * 1024,
  maxAgeMs: 24 * 3_600_000,
  batchRecords: 64,
  batchBytes: 64 * 1024,
  flushDelayMs: 5_000,
};

/** The policy of a trace kept as a domain's retention says (records, KiB and hours per user). */
export function tracePolicyFor(retention: Pick<DomainRetention, 'traceRecords' | 'traceKiB' | 'traceHours'>): TracePolicy {
  return { ...DEFAULT_TRACE_POLICY, maxRecords: retention.traceRecords, maxBytes: retention.traceKiB * 1024, maxAgeMs: retention.traceHours * 3_600_000 };
}

export interface TraceQuery {
  /** Only the messages of this Call-ID (one call leg, one subscription, one message). */
  readonly callId?: string;
  /** Only records at or after this time (ms since the epoch). */
  readonly since?: number;
  /** The newest `limit` records (default 200, at most `maxRecords`). */
  readonly limit?: number;
}

export interface TracePorts {
  readonly store: TraceStore;
  readonly policy?: TracePolicy;
  now(): number;
  /** The flush deadline appeared: re-arm the object's alarm. */
  timersChanged(): void;
}

/** Exchanges that idle devices repeat: kept, but never the reason for a write. */
const LAZY_METHODS = new Set(['REGISTER', 'OPTIONS']);

export class SipTrace {
  readonly #ports: TracePorts;
  #buffer: TraceRecord[] = [];
  #bufferBytes = 0;
  #flushAt: number | undefined;
  /** The buffer holds a record that is not a registration or OPTIONS exchange. */
  #mustKeep = false;
  /** The policy set since (`usePolicy`), over the ports' one. */
  #policySet: TracePolicy | undefined;

  constructor(ports: TracePorts) {
    this.#ports = ports;
  }

  get #policy(): TracePolicy {
    return this.#policySet ?? this.#ports.policy ?? DEFAULT_TRACE_POLICY;
  }

  /** Keeps what `policy` bounds from now on (a domain's retention, read when it changes); the next write prunes to it. */
  usePolicy(policy: TracePolicy): void {
    this.#policySet = policy;
  }

  record(entry: TraceEntry): void {
    const now = this.#ports.now();
    const record = traceRecord(entry, entry.at ?? now);
    const lazy = LAZY_METHODS.has(entry.cseqMethod ?? cseqMethodOf(record) ?? '');
    this.#buffer.push(record);
    this.#bufferBytes += record.bytes;
    this.#mustKeep ||= !lazy;
    if (this.#buffer.length >= this.#policy.batchRecords || this.#bufferBytes >= this.#policy.batchBytes) {
      if (this.#mustKeep) this.flush();
      else this.#dropOldest();
      return;
    }
    if (this.#flushAt === undefined && !lazy) {
      this.#flushAt = now + this.#policy.flushDelayMs;
      this.#ports.timersChanged();
    }
  }

  /** A full buffer of registration and OPTIONS records only: the older half goes, unwritten. */
  #dropOldest(): void {
    this.#buffer = this.#buffer.slice(Math.floor(this.#buffer.length / 2));
    this.#bufferBytes = this.#buffer.reduce((sum, kept) => sum + kept.bytes, 0);
  }

  nextDeadline(): number | undefined {
    return this.#flushAt;
  }

  fireTimers(): void {
    if (this.#flushAt !== undefined && this.#flushAt <= this.#ports.now()) this.flush();
  }

  /** Writes the records gathered so far as one batch. */
  flush(): void {
    const batch = this.#buffer;
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#flushAt = undefined;
    this.#mustKeep = false;
    if (batch.length > 0) this.#ports.store.append(batch, this.#policy, this.#ports.now());
  }

  /** Stored and gathered records, oldest first, within the bounds. */
  read(query: TraceQuery = {}): TraceRecord[] {
    const policy = this.#policy;
    const now = this.#ports.now();
    const since = Math.max(query.since ?? 0, now - policy.maxAgeMs);
    const limit = Math.max(0, Math.min(query.limit ?? 200, policy.maxRecords));
    const all = [...this.#ports.store.read(since), ...this.#buffer].filter((record) => record.at >= since && (query.callId === undefined || record.callId === query.callId));
    // The size bound holds for what is read too: the newest records that fit.
    const kept: TraceRecord[] = [];
    let bytes = 0;
    for (let index = all.length - 1; index >= 0 && kept.length < limit; index -= 1) {
      const record = all[index];
      if (record === undefined || bytes + record.bytes > policy.maxBytes) break;
      bytes += record.bytes;
      kept.push(record);
    }
    return kept.reverse();
  }

  /** The user was deleted: its trace goes with it. */
  clear(): void {
    this.#buffer = [];
    this.#bufferBytes = 0;
    this.#flushAt = undefined;
    this.#mustKeep = false;
    this.#ports.store.deleteAll();
  }
}
