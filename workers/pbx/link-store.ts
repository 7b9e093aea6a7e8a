/**
 * What a PbxLink object keeps in its SQLite storage: the link's configuration, its password (in a
 * column of its own, so that no view of the configuration can carry it), its identity at the PBX,
 * and the registration record (`registration-record.ts`). Every statement is bound.
 *
 * Tables are created on the first write: an object for a link nobody configured (a typo in a URL)
 * answers 404 without creating storage.
 *
 * `rowsWritten` counts the rows this instance wrote (what Cloudflare bills); tests use it to show
 * that a refresh that changes nothing writes nothing.
 */
import type { LinkIdentity, PbxLinkConfig } from './link-config.ts';
import type { RegistrationRecord } from './registration-record.ts';
import { LazyTables } from '../sql/lazy-tables.ts';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS link (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    link_id TEXT NOT NULL,
    config TEXT NOT NULL,
    password TEXT,
    identity TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS registration (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    record TEXT NOT NULL
  )`,
];

type LinkRow = { config: string; password: string | null; identity: string };

export interface StoredLink {
  readonly config: PbxLinkConfig;
  readonly password: string | undefined;
  readonly identity: LinkIdentity;
}

export class LinkStore {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'link');
  }

  get rowsWritten(): number {
    return this.#tables.rowsWritten;
  }

  loadLink(): StoredLink | undefined {
    if (!this.#tables.exist()) return undefined;
    const row = this.#sql.exec<LinkRow>('SELECT config, password, identity FROM link WHERE id = 1').toArray()[0];
    if (row === undefined) return undefined;
    return {
      config: JSON.parse(row.config) as PbxLinkConfig,
      password: row.password ?? undefined,
      identity: JSON.parse(row.identity) as LinkIdentity,
    };
  }

  saveLink(link: StoredLink, now: number): void {
    this.#tables.write(
      `INSERT INTO link (id, link_id, config, password, identity, updated_at) VALUES (1, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET link_id = excluded.link_id, config = excluded.config, password = excluded.password,
         identity = excluded.identity, updated_at = excluded.updated_at`,
      link.config.id,
      JSON.stringify(link.config),
      link.password ?? null,
      JSON.stringify(link.identity),
      now,
    );
  }

  loadRecord(): RegistrationRecord | undefined {
    if (!this.#tables.exist()) return undefined;
    const row = this.#sql.exec<{ record: string }>('SELECT record FROM registration WHERE id = 1').toArray()[0];
    return row === undefined ? undefined : (JSON.parse(row.record) as RegistrationRecord);
  }

  saveRecord(record: RegistrationRecord): void {
    this.#tables.write('INSERT OR REPLACE INTO registration (id, record) VALUES (1, ?)', JSON.stringify(record));
  }

  /** Forgets the link entirely (it was deleted). */
  deleteAll(): void {
    if (!this.#tables.exist()) return;
    this.#tables.write('DELETE FROM registration');
    this.#tables.write('DELETE FROM link');
  }
}
