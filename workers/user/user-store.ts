/**
 * What a SipUser object keeps in its SQLite storage, and nothing else: the account (HA1s, never a
 * password), the registration bindings, and a lock-out in force. Every statement is bound, never
 * interpolated.
 *
 * Tables are created on the first write, not on the first read: an object for an AOR nobody
 * provisioned (a typo, a scan) answers 401 without ever creating storage.
 *
 * `rowsWritten` counts the rows this instance wrote, which is what Cloudflare bills; tests use it
 * to prove that a refresh that changes nothing writes nothing.
 */
import type { Binding } from '../registrar/binding.ts';
import type { Flow } from '../sip/flow.ts';
import type { Account } from './account.ts';
import { LazyTables } from '../sql/lazy-tables.ts';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS account (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    aor TEXT NOT NULL,
    username TEXT NOT NULL,
    display_name TEXT,
    ha1_md5 TEXT NOT NULL,
    ha1_sha256 TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS binding (
    key TEXT PRIMARY KEY,
    contact TEXT NOT NULL,
    instance TEXT,
    reg_id INTEGER,
    outbound INTEGER NOT NULL,
    flow TEXT NOT NULL,
    call_id TEXT NOT NULL,
    cseq INTEGER NOT NULL,
    path TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    expires_bound INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS auth_lockout (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    locked_until INTEGER NOT NULL
  )`,
];

type AccountRow = {
  aor: string;
  username: string;
  display_name: string | null;
  ha1_md5: string;
  ha1_sha256: string;
};

type BindingRow = {
  key: string;
  contact: string;
  instance: string | null;
  reg_id: number | null;
  outbound: number;
  flow: string;
  call_id: string;
  cseq: number;
  path: string;
  registered_at: number;
  expires_bound: number;
};

export class UserStore {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'account');
  }

  /** Rows written by this instance so far. */
  get rowsWritten(): number {
    return this.#tables.rowsWritten;
  }

  loadAccount(): Account | undefined {
    if (!this.#tables.exist()) return undefined;
    const row = this.#sql.exec<AccountRow>('SELECT aor, username, display_name, ha1_md5, ha1_sha256 FROM account WHERE id = 1').toArray()[0];
    if (row === undefined) return undefined;
    return {
      aor: row.aor,
      username: row.username,
      ...(row.display_name === null ? {} : { displayName: row.display_name }),
      ha1: { MD5: row.ha1_md5, 'SHA-256': row.ha1_sha256 },
    };
  }

  saveAccount(account: Account, now: number): void {
    this.#tables.write(
      `INSERT INTO account (id, aor, username, display_name, ha1_md5, ha1_sha256, updated_at) VALUES (1, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET aor = excluded.aor, username = excluded.username, display_name = excluded.display_name,
         ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256, updated_at = excluded.updated_at`,
      account.aor,
      account.username,
      account.displayName ?? null,
      account.ha1.MD5,
      account.ha1['SHA-256'],
      now,
    );
  }

  /**
   * Every binding as stored. The exact expiry is not stored, so it comes back as the bound: the
   * registrar then keeps a binding for at most the bound's slack longer than it should.
   */
  loadBindings(): Binding[] {
    if (!this.#tables.exist()) return [];
    return this.#sql
      .exec<BindingRow>(
        'SELECT key, contact, instance, reg_id, outbound, flow, call_id, cseq, path, registered_at, expires_bound FROM binding ORDER BY registered_at, key',
      )
      .toArray()
      .map((row) => ({
        key: row.key,
        contact: row.contact,
        ...(row.instance === null ? {} : { instance: row.instance }),
        ...(row.reg_id === null ? {} : { regId: row.reg_id }),
        outbound: row.outbound === 1,
        flow: JSON.parse(row.flow) as Flow,
        callId: row.call_id,
        cseq: row.cseq,
        path: JSON.parse(row.path) as string[],
        registeredAt: row.registered_at,
        expiresAt: row.expires_bound,
        expiresBound: row.expires_bound,
      }));
  }

  saveBinding(binding: Binding): void {
    this.#tables.write(
      `INSERT OR REPLACE INTO binding (key, contact, instance, reg_id, outbound, flow, call_id, cseq, path, registered_at, expires_bound)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      binding.key,
      binding.contact,
      binding.instance ?? null,
      binding.regId ?? null,
      binding.outbound ? 1 : 0,
      JSON.stringify(binding.flow),
      binding.callId,
      binding.cseq,
      JSON.stringify(binding.path),
      binding.registeredAt,
      binding.expiresBound,
    );
  }

  deleteBinding(key: string): void {
    if (!this.#tables.exist()) return;
    this.#tables.write('DELETE FROM binding WHERE key = ?', key);
  }

  /** When a lock-out in force ends (ms), or undefined. */
  loadLockout(): number | undefined {
    if (!this.#tables.exist()) return undefined;
    const row = this.#sql.exec<{ locked_until: number }>('SELECT locked_until FROM auth_lockout WHERE id = 1').toArray()[0];
    return row?.locked_until;
  }

  saveLockout(lockedUntil: number): void {
    this.#tables.write('INSERT OR REPLACE INTO auth_lockout (id, locked_until) VALUES (1, ?)', lockedUntil);
  }

  clearLockout(): void {
    if (!this.#tables.exist()) return;
    this.#tables.write('DELETE FROM auth_lockout WHERE id = 1');
  }

  /** Forgets the user entirely (the account was deleted). */
  deleteAll(): void {
    if (!this.#tables.exist()) return;
    this.#tables.write('DELETE FROM binding');
    this.#tables.write('DELETE FROM auth_lockout');
    this.#tables.write('DELETE FROM account');
  }
}
