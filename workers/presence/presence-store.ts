/**
 * What a SipUser object keeps for presence in SQLite: the subscriptions to its user (one JSON row
 * each, written when one is created, refreshed, or sends a NOTIFY: its CSeq must survive an
 * eviction) and its devices' publications (RFC 3903). Tables are created on the first write;
 * statements are bound, never interpolated.
 */
import type { Publication } from './publication.ts';
import type { Subscription } from './subscription.ts';

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
  #ready = false;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
  }

  #exists(): boolean {
    this.#ready ||= this.#sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", 'subscription').toArray().length > 0;
    return this.#ready;
  }

  #write(query: string, ...bindings: (string | number)[]): void {
    if (!this.#exists()) {
      for (const statement of SCHEMA) this.#sql.exec(statement);
      this.#ready = true;
    }
    this.#sql.exec(query, ...bindings);
  }

  loadSubscriptions(): Map<string, Subscription> {
    const all = new Map<string, Subscription>();
    if (!this.#exists()) return all;
    for (const row of this.#sql.exec<{ key: string; state: string }>('SELECT key, state FROM subscription').toArray()) {
      all.set(row.key, JSON.parse(row.state) as Subscription);
    }
    return all;
  }

  saveSubscription(subscription: Subscription): void {
    this.#write('INSERT OR REPLACE INTO subscription (key, state, expires_at) VALUES (?, ?, ?)', subscription.key, JSON.stringify(subscription), subscription.expiresAt);
  }

  deleteSubscription(key: string): void {
    if (this.#exists()) this.#write('DELETE FROM subscription WHERE key = ?', key);
  }

  loadPublications(): Publication[] {
    if (!this.#exists()) return [];
    return this.#sql
      .exec<{ etag: string; content_type: string; body: string; expires_at: number; updated_at: number }>(
        'SELECT etag, content_type, body, expires_at, updated_at FROM publication ORDER BY updated_at',
      )
      .toArray()
      .map((row) => ({ etag: row.etag, contentType: row.content_type, body: row.body, expiresAt: row.expires_at, updatedAt: row.updated_at }));
  }

  savePublication(publication: Publication): void {
    this.#write(
      'INSERT OR REPLACE INTO publication (etag, content_type, body, expires_at, updated_at) VALUES (?, ?, ?, ?, ?)',
      publication.etag,
      publication.contentType,
      publication.body,
      publication.expiresAt,
      publication.updatedAt,
    );
  }

  deletePublication(etag: string): void {
    if (this.#exists()) this.#write('DELETE FROM publication WHERE etag = ?', etag);
  }

  deleteAll(): void {
    if (!this.#exists()) return;
    this.#write('DELETE FROM subscription');
    this.#write('DELETE FROM publication');
  }
}
