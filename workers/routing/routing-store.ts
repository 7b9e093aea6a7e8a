/**
 * What the Routing object keeps in SQLite: its configuration as JSON documents (outbound rules,
 * inbound mappings, the settings, webhook secrets included), the registry of PBX links, and the
 * toll-fraud ledger (one row per open call slot, one per recent call attempt). Every statement is
 * bound; the ledger forgets old rows as it goes, so no alarm is needed.
 */
import { ATTEMPT_WINDOW_MS, type GuardLedger } from './fraud-guard.ts';
import type { InboundMapping, OutboundRule, RoutingSettings } from './routing-config.ts';
import { DEFAULT_SETTINGS } from './routing-config.ts';
import type { LinkEntry } from './outbound-planner.ts';

const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS routes (id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID',
  'CREATE TABLE IF NOT EXISTS inbound_mappings (id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID',
  'CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID',
  'CREATE TABLE IF NOT EXISTS links (id TEXT PRIMARY KEY, can_terminate INTEGER NOT NULL) WITHOUT ROWID',
  'CREATE TABLE IF NOT EXISTS call_slots (call_id TEXT PRIMARY KEY, user TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID',
  'CREATE TABLE IF NOT EXISTS call_attempts (seq INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, at INTEGER NOT NULL)',
];

export class RoutingStore implements GuardLedger {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    for (const statement of SCHEMA) sql.exec(statement);
  }

  rules(): OutboundRule[] {
    return this.#sql.exec<{ body: string }>('SELECT body FROM routes ORDER BY id').toArray().map((row) => JSON.parse(row.body) as OutboundRule);
  }

  /** True when the rule is new. */
  putRule(rule: OutboundRule): boolean {
    const existed = this.#sql.exec('SELECT 1 FROM routes WHERE id = ?', rule.id).toArray().length > 0;
    this.#sql.exec('INSERT OR REPLACE INTO routes (id, body) VALUES (?, ?)', rule.id, JSON.stringify(rule));
    return !existed;
  }

  deleteRule(id: string): boolean {
    return this.#sql.exec('DELETE FROM routes WHERE id = ?', id).rowsWritten > 0;
  }

  mappings(): InboundMapping[] {
    return this.#sql.exec<{ body: string }>('SELECT body FROM inbound_mappings ORDER BY id').toArray().map((row) => JSON.parse(row.body) as InboundMapping);
  }

  putMapping(mapping: InboundMapping): boolean {
    const existed = this.#sql.exec('SELECT 1 FROM inbound_mappings WHERE id = ?', mapping.id).toArray().length > 0;
    this.#sql.exec('INSERT OR REPLACE INTO inbound_mappings (id, body) VALUES (?, ?)', mapping.id, JSON.stringify(mapping));
    return !existed;
  }

  deleteMapping(id: string): boolean {
    return this.#sql.exec('DELETE FROM inbound_mappings WHERE id = ?', id).rowsWritten > 0;
  }

  settings(): RoutingSettings {
    const row = this.#sql.exec<{ body: string }>("SELECT body FROM settings WHERE name = 'routing'").toArray()[0];
    return row === undefined ? DEFAULT_SETTINGS : (JSON.parse(row.body) as RoutingSettings);
  }

  putSettings(settings: RoutingSettings): void {
    this.#sql.exec("INSERT OR REPLACE INTO settings (name, body) VALUES ('routing', ?)", JSON.stringify(settings));
  }

  links(): Map<string, LinkEntry> {
    const rows = this.#sql.exec<{ id: string; can_terminate: number }>('SELECT id, can_terminate FROM links ORDER BY id').toArray();
    return new Map(rows.map((row) => [row.id, { id: row.id, can_terminate: row.can_terminate === 1 }]));
  }

  putLink(id: string, canTerminate: boolean): void {
    this.#sql.exec('INSERT OR REPLACE INTO links (id, can_terminate) VALUES (?, ?)', id, canTerminate ? 1 : 0);
  }

  deleteLink(id: string): void {
    this.#sql.exec('DELETE FROM links WHERE id = ?', id);
  }

  purge(now: number): void {
    this.#sql.exec('DELETE FROM call_slots WHERE expires_at <= ?', now);
    this.#sql.exec('DELETE FROM call_attempts WHERE at < ?', now - ATTEMPT_WINDOW_MS);
  }

  slotCount(user?: string): number {
    const cursor = user === undefined
      ? this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM call_slots')
      : this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM call_slots WHERE user = ?', user);
    return cursor.one().n;
  }

  hasSlot(callId: string): boolean {
    return this.#sql.exec('SELECT 1 FROM call_slots WHERE call_id = ?', callId).toArray().length > 0;
  }

  attemptCount(since: number, user?: string): number {
    const cursor = user === undefined
      ? this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM call_attempts WHERE at >= ?', since)
      : this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM call_attempts WHERE at >= ? AND user = ?', since, user);
    return cursor.one().n;
  }

  recordAttempt(user: string, at: number): void {
    this.#sql.exec('INSERT INTO call_attempts (user, at) VALUES (?, ?)', user, at);
  }

  takeSlot(callId: string, user: string, expiresAt: number): void {
    this.#sql.exec('INSERT OR REPLACE INTO call_slots (call_id, user, expires_at) VALUES (?, ?, ?)', callId, user, expiresAt);
  }

  releaseSlot(callId: string): boolean {
    return this.#sql.exec('DELETE FROM call_slots WHERE call_id = ?', callId).rowsWritten > 0;
  }
}
