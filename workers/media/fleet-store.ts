/**
 * What the MediaFleet object keeps in SQLite: each node's last heartbeat, the nonces of the signed
 * requests seen within the replay window, the session-end reports of the last minutes, and each
 * node's control round trips (`node-latency.ts`, written with a heartbeat when new ones arrived). Every
 * statement is bound. Old rows go when new ones arrive (no alarm needed: a fleet without heartbeats
 * has next to nothing to forget). Tables are `WITHOUT ROWID`: keyed by text, a row and its key index
 * are one write instead of two.
 *
 * Cost: a heartbeat writes two rows (the node, its nonce), every 10 s per node: about 520,000 rows
 * a month per node, some $0.50 at published prices; a third (the node's control round trips) when
 * calls used the node since its last heartbeat. Fine for a fleet of media nodes; if it ever
 * is not, a heartbeat that changes nothing but the time could skip the write (as registrations do),
 * at the price of a coarser `lastSeen` after an eviction.
 */
import type { Heartbeat, MediaNodeRecord } from './media-node-record.ts';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS media_nodes (
    node_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    state TEXT NOT NULL,
    control_url TEXT NOT NULL,
    pbx_address TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    sessions INTEGER NOT NULL,
    load REAL NOT NULL,
    cpu REAL,
    started_at TEXT NOT NULL,
    last_seen INTEGER NOT NULL
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS request_nonces (
    nonce TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS session_ends (
    node_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    report TEXT NOT NULL,
    PRIMARY KEY (node_id, session_id)
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS node_latency (
    node_id TEXT PRIMARY KEY,
    control TEXT NOT NULL
  ) WITHOUT ROWID`,
];

/** A node silent this long is forgotten (it no longer appears in the listing). */
export const FORGET_NODE_AFTER_MS = 24 * 60 * 60 * 1000;
/** Session-end reports are kept this long: enough to see retries as duplicates and for an operator to look. */
export const KEEP_SESSION_ENDS_MS = 10 * 60 * 1000;

type NodeRow = {
  node_id: string;
  region: string;
  state: string;
  control_url: string;
  pbx_address: string;
  capacity: number;
  sessions: number;
  load: number;
  cpu: number | null;
  started_at: string;
  last_seen: number;
};

type SessionEndRow = { node_id: string; session_id: string; reason: string; ended_at: string; received_at: number; report: string };

/** A session-end report as the node sends it (`media-node/edge/session-end-reporter.ts`); `detail` and `stats` are kept as given. */
export interface SessionEndedReport {
  readonly nodeId: string;
  readonly sessionId: string;
  readonly reason: string;
  readonly endedAt: string;
  readonly detail?: unknown;
  readonly stats?: unknown;
}

export interface StoredSessionEnd {
  readonly nodeId: string;
  readonly sessionId: string;
  readonly reason: string;
  readonly endedAt: string;
  readonly receivedAt: number;
  readonly report: SessionEndedReport;
}

export class FleetStore {
  readonly #sql: SqlStorage;
  #rowsWritten = 0;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    for (const statement of SCHEMA) sql.exec(statement);
  }

  /** Rows this instance wrote (what Cloudflare bills). */
  get rowsWritten(): number {
    return this.#rowsWritten;
  }

  #write(query: string, ...bindings: (string | number | null)[]): number {
    const written = this.#sql.exec(query, ...bindings).rowsWritten;
    this.#rowsWritten += written;
    return written;
  }

  /** Records `nonce` until `expiresAt`; false if it is already recorded (a replay). */
  rememberNonce(nonce: string, expiresAt: number, now: number): boolean {
    this.#write('DELETE FROM request_nonces WHERE expires_at <= ?', now);
    return this.#write('INSERT INTO request_nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING', nonce, expiresAt) > 0;
  }

  node(nodeId: string): MediaNodeRecord | undefined {
    const row = this.#sql.exec<NodeRow>('SELECT * FROM media_nodes WHERE node_id = ?', nodeId).toArray()[0];
    return row === undefined ? undefined : recordOf(row);
  }

  nodes(): MediaNodeRecord[] {
    return this.#sql.exec<NodeRow>('SELECT * FROM media_nodes ORDER BY region, node_id').toArray().map(recordOf);
  }

  saveHeartbeat(beat: Heartbeat, now: number): MediaNodeRecord {
    this.#write('DELETE FROM media_nodes WHERE last_seen < ?', now - FORGET_NODE_AFTER_MS);
    this.#write(
      `INSERT INTO media_nodes (node_id, region, state, control_url, pbx_address, capacity, sessions, load, cpu, started_at, last_seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (node_id) DO UPDATE SET region = excluded.region, state = excluded.state, control_url = excluded.control_url,
         pbx_address = excluded.pbx_address, capacity = excluded.capacity, sessions = excluded.sessions, load = excluded.load,
         cpu = excluded.cpu, started_at = excluded.started_at, last_seen = excluded.last_seen`,
      beat.nodeId,
      beat.region,
      beat.state,
      beat.controlUrl,
      beat.pbxAddress,
      beat.capacity,
      beat.sessions,
      beat.load,
      beat.cpu,
      beat.startedAt,
      now,
    );
    const { sentAt: _sentAt, ...rest } = beat;
    return { ...rest, lastSeen: now };
  }

  /** Replaces a node's control round-trip samples (JSON); forgets those of nodes no longer known. */
  saveLatency(nodeId: string, control: string): void {
    this.#write('DELETE FROM node_latency WHERE node_id NOT IN (SELECT node_id FROM media_nodes)');
    this.#write('INSERT OR REPLACE INTO node_latency (node_id, control) VALUES (?, ?)', nodeId, control);
  }

  latencies(): { nodeId: string; control: string }[] {
    return this.#sql
      .exec<{ node_id: string; control: string }>('SELECT node_id, control FROM node_latency')
      .toArray()
      .map((row) => ({ nodeId: row.node_id, control: row.control }));
  }

  /** Stores a report; false when this node already reported this session (a retry). */
  saveSessionEnd(report: SessionEndedReport, now: number): boolean {
    this.#write('DELETE FROM session_ends WHERE received_at < ?', now - KEEP_SESSION_ENDS_MS);
    return (
      this.#write(
        `INSERT INTO session_ends (node_id, session_id, reason, ended_at, received_at, report) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (node_id, session_id) DO NOTHING`,
        report.nodeId,
        report.sessionId,
        report.reason,
        report.endedAt,
        now,
        JSON.stringify(report),
      ) > 0
    );
  }

  sessionEnds(): StoredSessionEnd[] {
    return this.#sql
      .exec<SessionEndRow>('SELECT * FROM session_ends ORDER BY received_at, node_id, session_id')
      .toArray()
      .map((row) => ({
        nodeId: row.node_id,
        sessionId: row.session_id,
        reason: row.reason,
        endedAt: row.ended_at,
        receivedAt: row.received_at,
        report: JSON.parse(row.report) as SessionEndedReport,
      }));
  }
}

function recordOf(row: NodeRow): MediaNodeRecord {
  return {
    nodeId: row.node_id,
    region: row.region,
    state: row.state === 'stopping' ? 'stopping' : 'up',
    controlUrl: row.control_url,
    pbxAddress: row.pbx_address,
    capacity: row.capacity,
    sessions: row.sessions,
    load: row.load,
    cpu: row.cpu,
    startedAt: row.started_at,
    lastSeen: row.last_seen,
  };
}
