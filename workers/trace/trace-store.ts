/**
 * The stored part of a user's SIP trace: batches of records, one row each (a row write costs the
 * same for one record as for sixty-four, DESIGN.md's cost paragraph), pruned by age and by total
 * records and bytes. Tables are created on the first write; statements are bound, never
 * interpolated.
 */
import type { TraceRecord } from './trace-record.ts';
import { LazyTables } from '../sql/lazy-tables.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS trace_batch (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  records INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  body TEXT NOT NULL
)`;

export interface TraceBounds {
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
}

interface Totals {
  records: number;
  bytes: number;
}

export class TraceStore {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;
  #totals: Totals | undefined;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'trace_batch');
  }

  /** Rows written (inserted or deleted) by this instance: what the trace costs. */
  get rowsWritten(): number {
    return this.#tables.rowsWritten;
  }

  #load(): Totals {
    if (this.#totals !== undefined) return this.#totals;
    if (!this.#tables.exist()) this.#totals = { records: 0, bytes: 0 };
    else {
      const row = this.#sql.exec<{ records: number | null; bytes: number | null }>('SELECT sum(records) AS records, sum(bytes) AS bytes FROM trace_batch').one();
      this.#totals = { records: row.records ?? 0, bytes: row.bytes ?? 0 };
    }
    return this.#totals;
  }

  /** Stores one batch (oldest record first), then drops what falls outside `bounds`. */
  append(batch: readonly TraceRecord[], bounds: TraceBounds, now: number): void {
    const first = batch[0];
    const last = batch[batch.length - 1];
    if (first === undefined || last === undefined) return;
    const totals = this.#load();
    const bytes = batch.reduce((sum, record) => sum + record.bytes, 0);
    this.#tables.write(
      'INSERT INTO trace_batch (first_at, last_at, records, bytes, body) VALUES (?, ?, ?, ?, ?)',
      first.at,
      last.at,
      batch.length,
      bytes,
      JSON.stringify(batch),
    );
    totals.records += batch.length;
    totals.bytes += bytes;
    this.#prune(bounds, now);
  }

  #prune(bounds: TraceBounds, now: number): void {
    const totals = this.#load();
    const stale = this.#sql
      .exec<{ id: number; records: number; bytes: number; last_at: number }>('SELECT id, records, bytes, last_at FROM trace_batch ORDER BY id')
      .toArray();
    for (const batch of stale) {
      const tooOld = batch.last_at < now - bounds.maxAgeMs;
      // The newest batch stays even when it alone is over a bound: the reader trims it.
      const tooMuch = (totals.records > bounds.maxRecords || totals.bytes > bounds.maxBytes) && batch !== stale[stale.length - 1];
      if (!tooOld && !tooMuch) break;
      this.#tables.write('DELETE FROM trace_batch WHERE id = ?', batch.id);
      totals.records -= batch.records;
      totals.bytes -= batch.bytes;
    }
  }

  /** Every stored record whose batch ended at or after `since`, oldest first. */
  read(since: number): TraceRecord[] {
    if (!this.#tables.exist()) return [];
    return this.#sql
      .exec<{ body: string }>('SELECT body FROM trace_batch WHERE last_at >= ? ORDER BY id', since)
      .toArray()
      .flatMap((row) => JSON.parse(row.body) as TraceRecord[]);
  }

  deleteAll(): void {
    if (!this.#tables.exist()) return;
    this.#tables.write('DELETE FROM trace_batch');
    this.#totals = { records: 0, bytes: 0 };
  }
}
