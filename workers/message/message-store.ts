/**
 * Messages a SipUser object keeps for its user until a device takes them (RFC 3428 §7 lets the
 * recipient's side store a MESSAGE and answer 202). A message is written when no device took it
 * (`message-host.ts`: one delivered at once is never written) and deleted when one answers 2xx.
 * Bounded per user; statements are bound, never interpolated.
 */
import type { PageMessage } from './page-message.ts';
import { LazyTables } from '../sql/lazy-tables.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS stored_message (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  sender_aor TEXT NOT NULL,
  from_value TEXT NOT NULL,
  to_value TEXT NOT NULL,
  content_type TEXT NOT NULL,
  body TEXT NOT NULL,
  received_at INTEGER NOT NULL
)`;

type Row = {
  id: number;
  sender_aor: string;
  from_value: string;
  to_value: string;
  content_type: string;
  body: string;
  received_at: number;
};

export interface StoredMessage {
  readonly id: number;
  readonly page: PageMessage;
}

export class MessageStore {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;
  /** How many rows there are, once counted: a REGISTER then costs no read when there are none. */
  #count: number | undefined;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'stored_message');
  }

  count(): number {
    this.#count ??= this.#tables.exist() ? Number(this.#sql.exec('SELECT count(*) AS n FROM stored_message').one().n) : 0;
    return this.#count;
  }

  save(page: PageMessage): number {
    const before = this.count();
    const row = this.#tables
      .write<{ id: number }>(
        'INSERT INTO stored_message (sender_aor, from_value, to_value, content_type, body, received_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
        page.senderAor,
        page.from,
        page.to,
        page.contentType,
        page.body,
        page.receivedAt,
      )
      .one();
    this.#count = before + 1;
    return row.id;
  }

  /** The oldest `limit` messages. */
  oldest(limit: number): StoredMessage[] {
    if (this.count() === 0) return [];
    return this.#sql
      .exec<Row>('SELECT id, sender_aor, from_value, to_value, content_type, body, received_at FROM stored_message ORDER BY id LIMIT ?', limit)
      .toArray()
      .map((row) => ({
        id: row.id,
        page: { senderAor: row.sender_aor, from: row.from_value, to: row.to_value, contentType: row.content_type, body: row.body, receivedAt: row.received_at },
      }));
  }

  delete(id: number): void {
    if (!this.#tables.exist()) return;
    const { rowsWritten } = this.#sql.exec('DELETE FROM stored_message WHERE id = ?', id);
    if (rowsWritten > 0 && this.#count !== undefined) this.#count = Math.max(0, this.#count - 1);
  }

  deleteAll(): void {
    if (!this.#tables.exist()) return;
    this.#sql.exec('DELETE FROM stored_message');
    this.#count = 0;
  }
}
