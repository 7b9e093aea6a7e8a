/**
 * One-time provisioning links of a domain's users: a link's configuration (which may hold the
 * user's password) sealed with a key only the link's own token gives (`workers/api/provisioning-seal.ts`),
 * found by the token's SHA-256, handed out once. A used or revoked link keeps its row, emptied,
 * until it would have expired, so that opening it again answers "gone" rather than "unknown".
 * Tables are created on the first write; statements are bound.
 */
import { LazyTables } from '../sql/lazy-tables.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS provisioning_link (
  id TEXT PRIMARY KEY,
  token_sha256 TEXT NOT NULL UNIQUE,
  username TEXT NOT NULL,
  sealed TEXT,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID`;

export interface NewProvisioningLink {
  readonly id: string;
  readonly tokenSha256: string;
  readonly username: string;
  /** The sealed configuration (base64url of IV and AES-GCM ciphertext). */
  readonly sealed: string;
  readonly expiresAt: number;
}

export type TakenLink = { readonly state: 'taken'; readonly username: string; readonly sealed: string } | { readonly state: 'gone' } | { readonly state: 'unknown' };

export class ProvisioningLinks {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'provisioning_link');
  }

  create(link: NewProvisioningLink, now: number): void {
    this.#tables.write('DELETE FROM provisioning_link WHERE expires_at <= ?', now);
    this.#tables.write(
      'INSERT INTO provisioning_link (id, token_sha256, username, sealed, expires_at) VALUES (?, ?, ?, ?, ?)',
      link.id,
      link.tokenSha256,
      link.username,
      link.sealed,
      link.expiresAt,
    );
  }

  /** The link's sealed configuration, emptied from storage as it is handed out. */
  take(tokenSha256: string, now: number): TakenLink {
    if (!this.#tables.exist()) return { state: 'unknown' };
    const row = this.#sql
      .exec<{ id: string; username: string; sealed: string | null; expires_at: number }>('SELECT id, username, sealed, expires_at FROM provisioning_link WHERE token_sha256 = ?', tokenSha256)
      .toArray()[0];
    if (row === undefined) return { state: 'unknown' };
    if (row.sealed === null || row.expires_at <= now) return { state: 'gone' };
    this.#tables.write('UPDATE provisioning_link SET sealed = NULL WHERE id = ?', row.id);
    return { state: 'taken', username: row.username, sealed: row.sealed };
  }

  /** Empties an unused link of `username`; false when there is none by that id. */
  revoke(username: string, id: string): boolean {
    if (!this.#tables.exist()) return false;
    return this.#tables.write('UPDATE provisioning_link SET sealed = NULL WHERE id = ? AND username = ? AND sealed IS NOT NULL', id, username).rowsWritten > 0;
  }

  /** The user went: so do its links' configurations. */
  revokeUser(username: string): void {
    if (this.#tables.exist()) this.#tables.write('UPDATE provisioning_link SET sealed = NULL WHERE username = ? AND sealed IS NOT NULL', username);
  }
}
