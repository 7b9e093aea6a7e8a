/**
 * The user's side of WebSocket registration mode (README, "Registration modes"): whether the user
 * is in it, through which PbxLink, and that link's WebSocket endpoint, which the holder of each of
 * the user's sockets relays it to (`workers/connection/pbx-relay.ts`). The PBX password is not
 * here nor anywhere at the edge: the browser has it.
 *
 * The row is read once per object lifetime; a user in proxy mode (the default) has no row.
 */
import type { RelayTarget } from '../connection/pbx-relay.ts';
import { targetOf, type PbxLinkView } from '../pbx/link-engine.ts';
import { LazyTables } from '../sql/lazy-tables.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS pbx_websocket (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  link TEXT NOT NULL,
  username TEXT NOT NULL
)`;

/** A user in WebSocket registration mode: its link, and its name at the PBX (shown by the API). */
export interface WebSocketModeSetting {
  readonly link: string;
  readonly username: string;
}

/** Whether a link's view can carry the relay: SIP over WebSocket only. */
export function relayTargetOf(link: string, view: PbxLinkView | undefined): RelayTarget | undefined {
  if (view === undefined || view.transport !== 'wss') return undefined;
  return { link, target: targetOf(view) };
}

export class WebSocketMode {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;
  /** The setting once read; null in proxy mode. */
  #setting: WebSocketModeSetting | null | undefined;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'pbx_websocket');
  }

  setting(): WebSocketModeSetting | undefined {
    if (this.#setting === undefined) {
      const row = this.#tables.exist() ? this.#sql.exec<{ link: string; username: string }>('SELECT link, username FROM pbx_websocket WHERE id = 1').toArray()[0] : undefined;
      this.#setting = row === undefined ? null : { link: row.link, username: row.username };
    }
    return this.#setting ?? undefined;
  }

  set(setting: WebSocketModeSetting | undefined): void {
    const current = this.setting();
    if (setting?.link === current?.link && setting?.username === current?.username) return;
    if (setting === undefined) this.#tables.write('DELETE FROM pbx_websocket');
    else this.#tables.write('INSERT OR REPLACE INTO pbx_websocket (id, link, username) VALUES (1, ?, ?)', setting.link, setting.username);
    this.#setting = setting ?? null;
  }
}
