/**
 * A domain's API tokens at rest: the SHA-256 of each token's secret, never the secret, with what
 * the token may do (an operator of the domain, or one user for self-service), its name and its
 * expiry. Revoking deletes the row. Tables are created on the first write; statements are bound.
 */
import { LazyTables } from '../sql/lazy-tables.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS api_token (
  id TEXT PRIMARY KEY,
  secret_sha256 TEXT NOT NULL,
  kind TEXT NOT NULL,
  username TEXT,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
) WITHOUT ROWID`;

export type TokenKind = 'operator' | 'user';

/** A token as it is listed: everything but its secret. */
export interface TokenView {
  readonly id: string;
  readonly kind: TokenKind;
  /** For a user token: whose. */
  readonly username?: string;
  readonly name: string;
  /** ms since the epoch. */
  readonly createdAt: number;
  readonly expiresAt?: number;
}

interface TokenRow extends Record<string, SqlStorageValue> {
  id: string;
  secret_sha256: string;
  kind: string;
  username: string | null;
  name: string;
  created_at: number;
  expires_at: number | null;
}

function viewOf(row: TokenRow): TokenView {
  return {
    id: row.id,
    kind: row.kind === 'user' ? 'user' : 'operator',
    ...(row.username === null ? {} : { username: row.username }),
    name: row.name,
    createdAt: row.created_at,
    ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
  };
}

export class TokenStore {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'api_token');
  }

  /** Stores a new token; expired ones go at the same time. */
  create(token: TokenView, secretSha256: string): void {
    if (this.#tables.exist()) this.#tables.write('DELETE FROM api_token WHERE expires_at IS NOT NULL AND expires_at <= ?', token.createdAt);
    this.#tables.write(
      'INSERT INTO api_token (id, secret_sha256, kind, username, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      token.id,
      secretSha256,
      token.kind,
      token.username ?? null,
      token.name,
      token.createdAt,
      token.expiresAt ?? null,
    );
  }

  list(now: number): TokenView[] {
    if (!this.#tables.exist()) return [];
    return this.#sql
      .exec<TokenRow>('SELECT * FROM api_token WHERE expires_at IS NULL OR expires_at > ? ORDER BY created_at, id', now)
      .toArray()
      .map(viewOf);
  }

  revoke(id: string): boolean {
    if (!this.#tables.exist()) return false;
    return this.#tables.write('DELETE FROM api_token WHERE id = ?', id).rowsWritten > 0;
  }

  /** Every token goes (a domain created again does not honour its previous life's tokens). */
  revokeAll(): void {
    if (this.#tables.exist()) this.#tables.write('DELETE FROM api_token');
  }

  /** A user went: so do the tokens that were theirs. */
  revokeUser(username: string): void {
    if (this.#tables.exist()) this.#tables.write('DELETE FROM api_token WHERE username = ?', username);
  }

  /**
   * The token whose id and secret digest these are, unexpired. The digests are compared in
   * constant time: the id is public, the digest is not.
   */
  verify(id: string, secretSha256: string, now: number): TokenView | undefined {
    if (!this.#tables.exist()) return undefined;
    const row = this.#sql.exec<TokenRow>('SELECT * FROM api_token WHERE id = ?', id).toArray()[0];
    if (row === undefined || (row.expires_at !== null && row.expires_at <= now)) return undefined;
    const encoder = new TextEncoder();
    const stored = encoder.encode(row.secret_sha256);
    const given = encoder.encode(secretSha256);
    if (stored.byteLength !== given.byteLength || !crypto.subtle.timingSafeEqual(stored, given)) return undefined;
    return viewOf(row);
  }
}
