/**
 * The user's side of proxy registration: which PbxLink registers this user to its PBX, and telling
 * that link when the user's first binding at the edge appears and when its last one goes. The
 * user's PBX credentials are not here: the link keeps them (`workers/pbx/proxied-user-store.ts`),
 * so the PBX password lives in one place; this object keeps only the link's id.
 *
 * The link hears of transitions only (never of a refresh that changes nothing); the row is read once
 * per object lifetime, on the first transition or API read.
 */
import type { Logger } from '../logger.ts';
import { LazyTables } from '../sql/lazy-tables.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS pbx_proxy (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  link TEXT NOT NULL
)`;

export interface PbxProxyPorts {
  readonly sql: SqlStorage;
  readonly log: Logger;
  /** Tells link `link` that `aor` is registered at the edge (true) or not any more (false). */
  tell(link: string, aor: string, registered: boolean): Promise<unknown>;
}

export class PbxProxy {
  readonly #ports: PbxProxyPorts;
  readonly #tables: LazyTables;
  /** The link's id once read; null when there is none. */
  #link: string | null | undefined;

  constructor(ports: PbxProxyPorts) {
    this.#ports = ports;
    this.#tables = new LazyTables(ports.sql, SCHEMA, 'pbx_proxy');
  }

  link(): string | undefined {
    if (this.#link === undefined) {
      const row = this.#tables.exist() ? this.#ports.sql.exec<{ link: string }>('SELECT link FROM pbx_proxy WHERE id = 1').toArray()[0] : undefined;
      this.#link = row?.link ?? null;
    }
    return this.#link ?? undefined;
  }

  setLink(link: string | undefined): void {
    if (link === this.link()) return;
    if (link === undefined) this.#tables.write('DELETE FROM pbx_proxy');
    else this.#tables.write('INSERT OR REPLACE INTO pbx_proxy (id, link) VALUES (1, ?)', link);
    this.#link = link ?? null;
  }

  /** The user's first binding appeared or its last one went: the link registers or unregisters the user at the PBX. */
  async registeredChanged(aor: string, registered: boolean): Promise<void> {
    const link = this.link();
    if (link === undefined) return;
    try {
      await this.#ports.tell(link, aor, registered);
    } catch (error) {
      this.#ports.log.warn('pbx-proxy.tell-failed', { link, aor, registered, error: String(error) });
    }
  }
}
