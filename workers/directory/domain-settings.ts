/**
 * Settings of a SIP domain that the API gives to clients, kept as JSON by name: the ICE servers
 * provisioning hands to phones (`workers/api/provisioning.ts`). Tables are created on the first
 * write; statements are bound.
 */
import { LazyTables } from '../sql/lazy-tables.ts';

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

export class DomainSettings {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'domain_setting');
  }

  provisioning(): ProvisioningSettings {
    if (!this.#tables.exist()) return DEFAULT_PROVISIONING_SETTINGS;
    const row = this.#sql.exec<{ value: string }>("SELECT value FROM domain_setting WHERE name = 'provisioning'").toArray()[0];
    return row === undefined ? DEFAULT_PROVISIONING_SETTINGS : (JSON.parse(row.value) as ProvisioningSettings);
  }

  setProvisioning(settings: ProvisioningSettings): void {
    this.#tables.write("INSERT INTO domain_setting (name, value) VALUES ('provisioning', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", JSON.stringify(settings));
  }
}
