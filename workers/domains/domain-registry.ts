/**
 * DomainRegistry: one Durable Object for the whole edge (named "domains") holding the domains it
 * serves, beyond SIPEDGE_DOMAIN, which is always served and stored here only once an operator sets
 * something on it (display name, aliases, retention). Read through `served-domains.ts`, which caches
 * lookups per isolate, so SIP traffic does not come here per message.
 *
 * Thin by design (STYLE.md): the table and its rules are below; time comes from `clock`.
 */
import { DurableObject } from 'cloudflare:workers';
import { systemClock, type Clock } from '../../shared/clock/index.ts';
import { LazyTables } from '../sql/lazy-tables.ts';
import { DEFAULT_RETENTION, domainKey, type DomainRecord, type DomainRetention } from './domain-record.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS domain (
  name TEXT PRIMARY KEY,
  display_name TEXT,
  aliases TEXT NOT NULL,
  retention TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID`;

type DomainRow = { name: string; display_name: string | null; aliases: string; retention: string; created_at: number };

/** What an operator writes; the name is the key. */
export interface DomainInput {
  readonly name: string;
  readonly displayName?: string;
  readonly aliases?: readonly string[];
  readonly retention?: Partial<DomainRetention>;
}

export type PutResult =
  | { readonly ok: true; readonly record: DomainRecord; readonly created: boolean }
  /** `alias` (or the name) is already a name or alias of `owner`. */
  | { readonly ok: false; readonly conflict: string; readonly owner: string };

export function domainRegistry(env: Env): DurableObjectStub<DomainRegistry> {
  return env.DOMAINS.get(env.DOMAINS.idFromName('domains'));
}

export class DomainRegistry extends DurableObject<Env> {
  clock: Clock = systemClock;
  readonly #tables: LazyTables;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#tables = new LazyTables(ctx.storage.sql, SCHEMA, 'domain');
  }

  /** Every served domain, SIPEDGE_DOMAIN first, then by name. */
  list(): DomainRecord[] {
    const stored = this.#rows().map((row) => this.#record(row));
    const installation = stored.find((record) => record.installation) ?? this.#installationDefault();
    return [installation, ...stored.filter((record) => !record.installation)];
  }

  /** The domain named `name` (not an alias), or null. */
  get(name: string): DomainRecord | null {
    const key = domainKey(name);
    return this.list().find((record) => record.name === key) ?? null;
  }

  /** The domain whose name or alias is `host`, or null. */
  lookup(host: string): DomainRecord | null {
    const key = domainKey(host);
    return this.list().find((record) => record.name === key || record.aliases.includes(key)) ?? null;
  }

  /** Creates the domain or replaces what is given of it; names and aliases stay unique. */
  put(input: DomainInput): PutResult {
    const name = domainKey(input.name);
    const existing = this.get(name);
    const aliases = [...new Set((input.aliases ?? existing?.aliases ?? []).map(domainKey))].filter((alias) => alias !== name);
    for (const other of this.list()) {
      if (other.name === name) continue;
      const taken = [name, ...aliases].find((host) => host === other.name || other.aliases.includes(host));
      if (taken !== undefined) return { ok: false, conflict: taken, owner: other.name };
    }
    const retention = { ...(existing?.retention ?? DEFAULT_RETENTION), ...input.retention };
    const displayName = input.displayName ?? existing?.displayName;
    const createdAt = existing !== null && existing.createdAt > 0 ? existing.createdAt : this.clock.now();
    this.#tables.write(
      `INSERT INTO domain (name, display_name, aliases, retention, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, aliases = excluded.aliases, retention = excluded.retention`,
      name,
      displayName ?? null,
      JSON.stringify(aliases),
      JSON.stringify(retention),
      createdAt,
    );
    const record = this.get(name);
    if (record === null) throw new Error(`domain ${name} not found after writing it`);
    return { ok: true, record, created: existing === null };
  }

  /** Forgets the domain (never SIPEDGE_DOMAIN); true when it was served. */
  remove(name: string): boolean {
    const key = domainKey(name);
    if (key === domainKey(this.env.SIPEDGE_DOMAIN) || !this.#tables.exist()) return false;
    return this.ctx.storage.sql.exec('DELETE FROM domain WHERE name = ?', key).rowsWritten > 0;
  }

  #rows(): DomainRow[] {
    if (!this.#tables.exist()) return [];
    return this.ctx.storage.sql.exec<DomainRow>('SELECT name, display_name, aliases, retention, created_at FROM domain ORDER BY name').toArray();
  }

  #record(row: DomainRow): DomainRecord {
    return {
      name: row.name,
      ...(row.display_name === null ? {} : { displayName: row.display_name }),
      aliases: JSON.parse(row.aliases) as string[],
      retention: { ...DEFAULT_RETENTION, ...(JSON.parse(row.retention) as Partial<DomainRetention>) },
      createdAt: row.created_at,
      installation: row.name === domainKey(this.env.SIPEDGE_DOMAIN),
    };
  }

  #installationDefault(): DomainRecord {
    return { name: domainKey(this.env.SIPEDGE_DOMAIN), aliases: [], retention: DEFAULT_RETENTION, createdAt: 0, installation: true };
  }
}
