/**
 * The users of a SIP domain as a list: what `GET /api/v1/users` pages through. Each user's own
 * SipUser object holds the user (credentials, bindings); this is the index over them that no
 * per-user object can give. Ordered by username (SQLite's BINARY collation, usernames are ASCII),
 * paged by keyset (the last username seen), filtered by prefix. Tables are created on the first
 * write; statements are bound, never interpolated.
 */
import { LazyTables } from '../sql/lazy-tables.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS directory_user (
  username TEXT PRIMARY KEY,
  display_name TEXT,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID`;

export interface DirectoryEntry {
  readonly username: string;
  readonly displayName?: string;
}

export interface UserListQuery {
  readonly limit: number;
  /** Only usernames after this one. */
  readonly after?: string;
  /** Only usernames that start with this. */
  readonly prefix?: string;
}

export interface UserListPage {
  readonly users: readonly DirectoryEntry[];
  /** The last username of this page, when more follow. */
  readonly last?: string;
}

export class UserList {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;
  #count: number | undefined;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'directory_user');
  }

  get rowsWritten(): number {
    return this.#tables.rowsWritten;
  }

  /** Adds or updates `entry`; writes nothing when it is already there as it is. */
  put(entry: DirectoryEntry, now: number): void {
    const displayName = entry.displayName ?? null;
    const cursor = this.#tables.write(
      `INSERT INTO directory_user (username, display_name, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, updated_at = excluded.updated_at
       WHERE display_name IS NOT excluded.display_name`,
      entry.username,
      displayName,
      now,
    );
    if (cursor.rowsWritten > 0) this.#count = undefined;
  }

  remove(username: string): boolean {
    if (!this.#tables.exist()) return false;
    const removed = this.#tables.write('DELETE FROM directory_user WHERE username = ?', username).rowsWritten > 0;
    if (removed) this.#count = undefined;
    return removed;
  }

  has(username: string): boolean {
    if (!this.#tables.exist()) return false;
    return this.#sql.exec('SELECT 1 FROM directory_user WHERE username = ?', username).toArray().length > 0;
  }

  page(query: UserListQuery): UserListPage {
    if (!this.#tables.exist()) return { users: [] };
    const prefix = query.prefix ?? '';
    const rows = this.#sql
      .exec<{ username: string; display_name: string | null }>(
        `SELECT username, display_name FROM directory_user
         WHERE username > ? AND substr(username, 1, ?) = ?
         ORDER BY username LIMIT ?`,
        query.after ?? '',
        prefix.length,
        prefix,
        query.limit + 1,
      )
      .toArray();
    const users = rows.slice(0, query.limit).map((row): DirectoryEntry => (row.display_name === null ? { username: row.username } : { username: row.username, displayName: row.display_name }));
    const last = rows.length > query.limit ? users[users.length - 1]?.username : undefined;
    return last === undefined ? { users } : { users, last };
  }

  /** How many users; counted once, then kept while the object lives. */
  count(): number {
    if (this.#count === undefined) {
      this.#count = this.#tables.exist() ? this.#sql.exec<{ n: number }>('SELECT count(*) AS n FROM directory_user').one().n : 0;
    }
    return this.#count;
  }
}
