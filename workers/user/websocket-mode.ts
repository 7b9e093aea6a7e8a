/**
 * The user's side of WebSocket registration mode (README, "Registration modes"): whether the user
 * is in it, through which PbxLink, and that link's WebSocket endpoint, which the holder of each of
 * the user's sockets relays it to (`workers/connection/pbx-relay.ts`). The PBX password is not
 * here nor anywhere at the edge: the browser has it.
 *
 * The row is read once per object lifetime; a user in proxy mode (the default) has no row.
 * `SocketRelays` relays the sockets the user's own object holds (`/sip/<user>`).
 */
import { startRelay, type PbxRelay, type PbxSocketOpener, type RelayTarget } from '../connection/pbx-relay.ts';
import { errorFields, type Logger } from '../logger.ts';
import { targetOf, type PbxLinkView } from '../pbx/link-engine.ts';
import type { Flow } from '../sip/flow.ts';
import { LazyTables } from '../sql/lazy-tables.ts';
import type { TraceEntry } from '../trace/trace-record.ts';

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

export interface SocketRelayPorts {
  readonly mode: WebSocketMode;
  readonly log: Logger;
  /** Reads link `link`'s view from its PbxLink. */
  linkView(link: string): Promise<PbxLinkView | undefined>;
  /** How a relay opens its PBX side; read when a relay starts, so that tests can replace it. */
  opener(): PbxSocketOpener;
  /** Messages a relay passed, for the user's trace. */
  record(entries: TraceEntry[]): void;
}

/** The relays of the sockets a SipUser holds itself (`/sip/<user>`), one per socket, when the user is in this mode. */
export class SocketRelays {
  readonly #ports: SocketRelayPorts;
  readonly #relays = new WeakMap<WebSocket, Promise<PbxRelay | undefined>>();

  constructor(ports: SocketRelayPorts) {
    this.#ports = ports;
  }

  /** Where the user's sockets are relayed, or undefined in proxy mode or when the link carries no WebSocket. */
  async target(): Promise<RelayTarget | undefined> {
    const setting = this.#ports.mode.setting();
    if (setting === undefined) return undefined;
    const target = relayTargetOf(setting.link, await this.#ports.linkView(setting.link));
    if (target === undefined) this.#ports.log.warn('sip.relay.no-link', { link: setting.link });
    return target;
  }

  /** Whether a socket is relayed to the PBX: decided on its first message, by the user's mode. */
  relayOf(ws: WebSocket, flow: Flow): Promise<PbxRelay | undefined> {
    let relaying = this.#relays.get(ws);
    if (relaying === undefined) {
      relaying = this.#ports.mode.setting() === undefined
        ? Promise.resolve(undefined)
        : this.target().then((target) => startRelay(target, this.#ports.opener(), {
            flow,
            log: this.#ports.log,
            toBrowser: (data) => ws.send(data),
            closeBrowser: (code, reason) => ws.close(code, reason),
            record: (entries) => this.#ports.record(entries),
          }), (error: unknown) => {
            // The link could not be read: the browser reconnects rather than talk to the edge's registrar.
            this.#ports.log.warn('sip.relay.lookup-failed', errorFields(error));
            ws.close(1011, 'the PBX link cannot be read');
            return undefined;
          });
      this.#relays.set(ws, relaying);
    }
    return relaying;
  }

  /** The browser closed a socket: its relay, if any, closes the PBX side. */
  browserClosed(ws: WebSocket, code: number, reason: string): void {
    void this.#relays.get(ws)?.then((relay) => relay?.browserClosed(code, reason));
  }
}
