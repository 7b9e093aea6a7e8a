/**
 * The calls a SipUser object keeps in SQLite: one row per half (`call-half.ts`), the whole half as
 * JSON, written after every step that changed it and deleted once it has ended (`CallHost` keeps an
 * ended half in memory until its transactions are over). A call costs a
 * handful of row writes per message it carries, which calls can afford (DESIGN.md: it is idle
 * registrations that must cost nothing); in exchange an evicted object, or a redeploy, loses no
 * call. Every statement is bound, never interpolated.
 */
import type { HalfCall } from './call-half.ts';
import { LazyTables } from '../sql/lazy-tables.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS call_half (
  key TEXT PRIMARY KEY,
  call_id TEXT NOT NULL,
  state TEXT NOT NULL,
  updated_at INTEGER NOT NULL
)`;

export class CallStore {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'call_half');
  }

  loadAll(): Map<string, HalfCall> {
    const halves = new Map<string, HalfCall>();
    if (!this.#tables.exist()) return halves;
    for (const row of this.#sql.exec<{ key: string; state: string }>('SELECT key, state FROM call_half').toArray()) {
      halves.set(row.key, JSON.parse(row.state) as HalfCall);
    }
    return halves;
  }

  save(key: string, half: HalfCall, now: number): void {
    this.#tables.write(
      'INSERT OR REPLACE INTO call_half (key, call_id, state, updated_at) VALUES (?, ?, ?, ?)',
      key,
      half.callId,
      JSON.stringify(half),
      now,
    );
  }

  delete(key: string): void {
    if (!this.#tables.exist()) return;
    this.#sql.exec('DELETE FROM call_half WHERE key = ?', key);
  }
}
