/**
 * What a SipUser object keeps for presence in SQLite: the subscriptions to its user (one JSON row
 * each, written when one is created, refreshed, or sends a NOTIFY: its CSeq must survive an
 * eviction), its devices' publications (RFC 3903) and the PBX's last message summary
 * (`message-summary.ts`). Tables are created on the first write;
 * statements are bound, never interpolated.
 */
import type { Publication } from './publication.ts';
import type { Subscription } from './subscription.ts';
import { LazyTables } from '../sql/lazy-tables.ts';
import { SummaryStore } from './message-summary.ts';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS subscription (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS publication (
    etag TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    body TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
];

export class PresenceStore {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;
  /** The last message summary from the user's PBX (`message-summary.ts`). */
  readonly summary: SummaryStore;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.summary = new SummaryStore(sql);
    this.#tables = new LazyTables(sql, SCHEMA, 'subscription');
  }

  loadSubscriptions(): Map<string, Subscription> {
    const all = new Map<string, Subscription>();
    if (!this.#tables.exist()) return all;
    for (const row of this.#sql.exec<{ key: string; state: string }>('SELECT key, state FROM subscription').toArray()) {
      all.set(row.key, JSON.parse(row.state) as Subscription);
    }
    return all;
  }

  saveSubscription(subscription: Subscription): void {
    this.#tables.write('INSERT OR REPLACE INTO subscription (key, state, expires_at) VALUES (?, ?, ?)', subscription.key, JSON.stringify(subscription), subscription.expiresAt);
  }

  deleteSubscription(key: string): void {
    if (this.#tables.exist()) this.#tables.write('DELETE FROM subscription WHERE key = ?', key);
  }

  loadPublications(): Publication[] {
    if (!this.#tables.exist()) return [];
    return this.#sql
      .exec<{ etag: string; content_type: string; body: string; expires_at: number; updated_at: number }>(
        'SELECT etag, content_type, body, expires_at, updated_at FROM publication ORDER BY updated_at',
      )
      .toArray()
      .map((row) => ({ etag: row.etag, contentType: row.content_type, body: row.body, expiresAt: row.expires_at, updatedAt: row.updated_at }));
  }

  savePublication(publication: Publication): void {
    this.#tables.write(
      'INSERT OR REPLACE INTO publication (etag, content_type, body, expires_at, updated_at) VALUES (?, ?, ?, ?, ?)',
      publication.etag,
      publication.contentType,
      publication.body,
      publication.expiresAt,
      publication.updatedAt,
    );
  }

  deletePublication(etag: string): void {
    if (this.#tables.exist()) this.#tables.write('DELETE FROM publication WHERE etag = ?', etag);
  }

  deleteAll(): void {
    this.summary.delete();
    if (!this.#tables.exist()) return;
    this.#tables.write('DELETE FROM subscription');
    this.#tables.write('DELETE FROM publication');
  }
}
