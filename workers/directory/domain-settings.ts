/**
 * Settings of a SIP domain kept as JSON by name: the ICE servers provisioning hands to phones
 * (`workers/api/provisioning.ts`), and how many call records the domain keeps and for how long
 * (its `DomainRetention`, written by `workers/api/domains.ts` whenever the domain is). Tables are
 * created on the first write; statements are bound.
 */
import { DEFAULT_RETENTION } from '../domains/domain-record.ts';
import { LazyTables } from '../sql/lazy-tables.ts';
import type { CallRetention } from './call-records.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS domain_setting (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID`;

/** An RTCIceServer (W3C WebRTC §4.2.1) as phones take it. */
export interface IceServer {
  readonly urls: string | readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

export interface ProvisioningSettings {
  readonly iceServers: readonly IceServer[];
}

export const DEFAULT_PROVISIONING_SETTINGS: ProvisioningSettings = { iceServers: [] };

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_CALL_RETENTION: CallRetention = { calls: DEFAULT_RETENTION.callRecords, ms: DEFAULT_RETENTION.callRecordDays * DAY_MS };

export class DomainSettings {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;
  /** The call retention as last read or written. */
  #calls: CallRetention | undefined;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'domain_setting');
  }

  provisioning(): ProvisioningSettings {
    return this.#read<ProvisioningSettings>('provisioning') ?? DEFAULT_PROVISIONING_SETTINGS;
  }

  setProvisioning(settings: ProvisioningSettings): void {
    this.#tables.write("INSERT INTO domain_setting (name, value) VALUES ('provisioning', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", JSON.stringify(settings));
  }

  /** How many call records the domain keeps, and for how long. */
  callRetention(): CallRetention {
    this.#calls ??= this.#read<CallRetention>('call_retention') ?? DEFAULT_CALL_RETENTION;
    return this.#calls;
  }

  setCallRetention(calls: number, days: number): void {
    this.#calls = { calls, ms: days * DAY_MS };
    this.#tables.write("INSERT INTO domain_setting (name, value) VALUES ('call_retention', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", JSON.stringify(this.#calls));
  }

  #read<T>(name: string): T | undefined {
    if (!this.#tables.exist()) return undefined;
    const row = this.#sql.exec<{ value: string }>('SELECT value FROM domain_setting WHERE name = ?', name).toArray()[0];
    return row === undefined ? undefined : (JSON.parse(row.value) as T);
  }
}
