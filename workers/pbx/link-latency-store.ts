/**
 * The PbxLink's series of SIP transaction response times (`link-latency.ts`) in its SQLite: one
 * row per timed transaction, the newest `LATENCY_SAMPLES` kept. Tables are created on the first
 * sample, so a link that never sent anything has none; every statement is bound.
 *
 * Cost: one row per transaction toward the PBX (a REGISTER refresh, an INVITE, a qualify OPTIONS),
 * and a pruning delete every `PRUNE_EVERY` samples.
 */
import { LazyTables } from '../sql/lazy-tables.ts';

/** How many samples a link keeps: the summary is over these. */
export const LATENCY_SAMPLES = 200;
const PRUNE_EVERY = 25;

const SCHEMA = `CREATE TABLE IF NOT EXISTS latency_samples (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  method TEXT NOT NULL,
  status INTEGER,
  ms INTEGER
)`;

/** One timed transaction; `status` and `ms` are null when no response came within 32 s. */
export interface LatencySample {
  readonly at: number;
  readonly method: string;
  readonly status: number | null;
  readonly ms: number | null;
}

type SampleRow = { at: number; method: string; status: number | null; ms: number | null };

export class LinkLatencyStore {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;
  #sincePrune = 0;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'latency_samples');
  }

  get rowsWritten(): number {
    return this.#tables.rowsWritten;
  }

  add(sample: LatencySample): void {
    this.#tables.write('INSERT INTO latency_samples (at, method, status, ms) VALUES (?, ?, ?, ?)', sample.at, sample.method, sample.status, sample.ms);
    this.#sincePrune += 1;
    if (this.#sincePrune < PRUNE_EVERY) return;
    this.#sincePrune = 0;
    this.#tables.write('DELETE FROM latency_samples WHERE seq <= (SELECT MAX(seq) FROM latency_samples) - ?', LATENCY_SAMPLES);
  }

  /** The newest samples, oldest first. */
  recent(): LatencySample[] {
    if (!this.#tables.exist()) return [];
    return this.#sql
      .exec<SampleRow>('SELECT at, method, status, ms FROM latency_samples ORDER BY seq DESC LIMIT ?', LATENCY_SAMPLES)
      .toArray()
      .reverse();
  }

  clear(): void {
    if (this.#tables.exist()) this.#tables.write('DELETE FROM latency_samples');
  }
}
