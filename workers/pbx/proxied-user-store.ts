/**
 * The users a PbxLink registers to its PBX on their behalf (proxy registration), in the link's
 * SQLite: per edge user (keyed by address-of-record), the PBX username (also the Contact user
 * toward the PBX), the optional digest username, the PBX password, whether the user has a live
 * registration at the edge, and the registration record (`registration-record.ts`).
 *
 * This table is the only place a user's PBX password is kept: the API writes it here and never
 * reads it back; the user's own object holds only the link's id. Every statement is bound.
 */
import { LazyTables } from '../sql/lazy-tables.ts';
import type { RegistrationRecord } from './registration-record.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS proxied_user (
  aor TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  auth_id TEXT,
  password TEXT NOT NULL,
  wanted INTEGER NOT NULL,
  record TEXT
)`;

type Row = { aor: string; username: string; auth_id: string | null; password: string; wanted: number; record: string | null };

export interface ProxiedUser {
  readonly aor: string;
  /** The user's name at the PBX: the user part of its AOR there, and of the Contact the link registers for it. */
  readonly username: string;
  /** The digest username when it differs from `username`. */
  readonly authId?: string;
  readonly password: string;
  /** The user has at least one live registration at the edge. */
  readonly wanted: boolean;
  readonly record?: RegistrationRecord;
}

export class ProxiedUserStore {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'proxied_user');
  }

  get rowsWritten(): number {
    return this.#tables.rowsWritten;
  }

  loadAll(): ProxiedUser[] {
    if (!this.#tables.exist()) return [];
    return this.#sql.exec<Row>('SELECT aor, username, auth_id, password, wanted, record FROM proxied_user').toArray().map((row) => ({
      aor: row.aor,
      username: row.username,
      ...(row.auth_id === null ? {} : { authId: row.auth_id }),
      password: row.password,
      wanted: row.wanted === 1,
      ...(row.record === null ? {} : { record: JSON.parse(row.record) as RegistrationRecord }),
    }));
  }

  save(user: ProxiedUser): void {
    this.#tables.write(
      `INSERT INTO proxied_user (aor, username, auth_id, password, wanted, record) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (aor) DO UPDATE SET username = excluded.username, auth_id = excluded.auth_id, password = excluded.password,
         wanted = excluded.wanted, record = excluded.record`,
      user.aor,
      user.username,
      user.authId ?? null,
      user.password,
      user.wanted ? 1 : 0,
      user.record === undefined ? null : JSON.stringify(user.record),
    );
  }

  delete(aor: string): void {
    if (this.#tables.exist()) this.#tables.write('DELETE FROM proxied_user WHERE aor = ?', aor);
  }

  deleteAll(): void {
    if (this.#tables.exist()) this.#tables.write('DELETE FROM proxied_user');
  }
}
