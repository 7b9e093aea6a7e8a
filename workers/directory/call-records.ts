/**
 * The domain's call detail records: one row per call, written by the half that owns the call as it
 * starts, is answered and ends (`call-record-feed.ts`), and by the media node's session-end report
 * (its quality figures and samples, `workers/api/media-nodes.ts`). A record without an end is a live
 * call. The writes come from different objects and may arrive in any order, so every write is an
 * upsert that only fills what is still empty (the first end, the first final status), except the
 * route (a failover moves a call to the next link), the callee and its user (the user who answers
 * a call from a PBX, of a ring group perhaps) and the media (the latest report wins).
 *
 * Retention: the domain's (`DomainRetention.callRecords` and `callRecordDays`, kept by the
 * Directory's `domain-settings.ts`), by default the newest 10,000 calls of the last 30 days; older
 * ones are deleted as new calls start. Pages are newest first, by keyset (start time and id). Statements are bound, never
 * interpolated.
 */
import { LazyTables } from '../sql/lazy-tables.ts';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS call_record (
    id TEXT PRIMARY KEY,
    started_at INTEGER,
    answered_at INTEGER,
    ended_at INTEGER,
    caller TEXT,
    callee TEXT,
    direction TEXT,
    link_id TEXT,
    user TEXT,
    peer_user TEXT,
    sip_call_id TEXT,
    status INTEGER,
    reason TEXT,
    end_reason TEXT,
    ended_by TEXT,
    media TEXT,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID`,
  'CREATE INDEX IF NOT EXISTS call_record_by_start ON call_record (started_at, id)',
];

export const KEEP_CALLS = 10_000;
export const KEEP_CALLS_MS = 30 * 24 * 60 * 60 * 1000;

export type CallDirection = 'local' | 'outbound' | 'inbound';
export type EndedBy = 'caller' | 'callee' | 'edge';

/** What one writer knows of a call; absent members are left as they are. */
export interface CallRecordUpdate {
  readonly id: string;
  readonly startedAt?: number;
  readonly answeredAt?: number;
  readonly endedAt?: number;
  readonly caller?: string;
  readonly callee?: string;
  readonly direction?: CallDirection;
  readonly linkId?: string;
  /** The user of the domain whose trace holds the call's leg (`sipCallId`). */
  readonly user?: string;
  /** The other user of the domain, for a call between two of them. */
  readonly peerUser?: string;
  readonly sipCallId?: string;
  /** The final response to the caller's INVITE. */
  readonly status?: number;
  readonly reason?: string;
  /** Why an answered call ended (a BYE's Reason, the edge's own cause), or how the set-up ended. */
  readonly endReason?: string;
  readonly endedBy?: EndedBy;
  /** The media node's figures (`CallMedia`), as JSON. */
  readonly media?: CallMedia;
}

/** The media node's account of a call's media, from its session-end report. */
export interface CallMedia {
  readonly nodeId: string;
  readonly sessionId: string;
  readonly reason: string;
  readonly endedAt: string;
  /** `name/clockRate` of each leg's audio. */
  readonly codecs?: { readonly browser: string | null; readonly pbx: string | null };
  readonly summary: Readonly<Record<'browserToPbx' | 'pbxToBrowser', DirectionSummary | null>>;
  readonly samples?: MediaSamples;
}

/** Each direction's quality over the call, `intervalMs` apart (`media-node/quality/quality-series.ts`). */
export interface MediaSamples {
  readonly intervalMs: number;
  readonly browserToPbx: readonly QualitySample[];
  readonly pbxToBrowser: readonly QualitySample[];
}

export interface QualitySample {
  readonly t: number;
  readonly packets: number;
  readonly lost: number;
  readonly lossPercent: number;
  readonly jitterMs: number;
  readonly roundTripMs: number | null;
  readonly mos: number | null;
}

export interface DirectionSummary {
  readonly packets: number;
  readonly lost: number;
  readonly lossPercent: number;
  readonly jitterMs: number;
  readonly roundTripMs: number | null;
  readonly mos: number;
}

export interface CallRecord {
  readonly id: string;
  readonly startedAt: number;
  readonly answeredAt: number | null;
  readonly endedAt: number | null;
  readonly caller: string;
  readonly callee: string;
  readonly direction: CallDirection;
  readonly linkId: string | null;
  readonly user: string | null;
  readonly peerUser: string | null;
  readonly sipCallId: string | null;
  readonly status: number | null;
  readonly reason: string | null;
  readonly endReason: string | null;
  readonly endedBy: EndedBy | null;
  readonly media: CallMedia | null;
}

export interface CallListQuery {
  readonly limit: number;
  /** Only calls before this one (its start time and id), newest first. */
  readonly before?: { readonly startedAt: number; readonly id: string };
  /** Only calls this user of the domain took part in. */
  readonly user?: string;
  /** Only calls without an end. */
  readonly live?: boolean;
}

export interface CallListPage {
  readonly calls: readonly CallRecord[];
  /** The last call of this page, when more follow. */
  readonly last?: { readonly startedAt: number; readonly id: string };
}

type Row = {
  id: string;
  started_at: number | null;
  answered_at: number | null;
  ended_at: number | null;
  caller: string | null;
  callee: string | null;
  direction: string | null;
  link_id: string | null;
  user: string | null;
  peer_user: string | null;
  sip_call_id: string | null;
  status: number | null;
  reason: string | null;
  end_reason: string | null;
  ended_by: string | null;
  media: string | null;
};

export interface CallRetention {
  readonly calls: number;
  readonly ms: number;
}

export class CallRecords {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;
  readonly #keep: () => CallRetention;

  /** `keep`: fixed, or read at each pruning (the domain's current setting). */
  constructor(sql: SqlStorage, keep: CallRetention | (() => CallRetention) = { calls: KEEP_CALLS, ms: KEEP_CALLS_MS }) {
    this.#sql = sql;
    this.#keep = typeof keep === 'function' ? keep : () => keep;
    this.#tables = new LazyTables(sql, SCHEMA, 'call_record');
  }

  get rowsWritten(): number {
    return this.#tables.rowsWritten;
  }

  /** Files what `update` knows; a new call first makes room (the retention). */
  write(update: CallRecordUpdate, now: number): void {
    if (update.startedAt !== undefined) this.#prune(now);
    const value = <T>(member: T | undefined): T | null => member ?? null;
    this.#tables.write(
      `INSERT INTO call_record (id, started_at, answered_at, ended_at, caller, callee, direction, link_id, user, peer_user, sip_call_id, status, reason, end_reason, ended_by, media, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET
         started_at = COALESCE(started_at, excluded.started_at),
         answered_at = COALESCE(answered_at, excluded.answered_at),
         ended_at = COALESCE(ended_at, excluded.ended_at),
         caller = COALESCE(caller, excluded.caller),
         callee = COALESCE(excluded.callee, callee),
         direction = COALESCE(excluded.direction, direction),
         link_id = COALESCE(excluded.link_id, link_id),
         user = COALESCE(excluded.user, user),
         peer_user = COALESCE(peer_user, excluded.peer_user),
         sip_call_id = COALESCE(sip_call_id, excluded.sip_call_id),
         status = COALESCE(status, excluded.status),
         reason = COALESCE(reason, excluded.reason),
         end_reason = COALESCE(end_reason, excluded.end_reason),
         ended_by = COALESCE(ended_by, excluded.ended_by),
         media = COALESCE(excluded.media, media),
         updated_at = excluded.updated_at`,
      update.id,
      value(update.startedAt),
      value(update.answeredAt),
      value(update.endedAt),
      value(update.caller),
      value(update.callee),
      value(update.direction),
      value(update.linkId),
      value(update.user),
      value(update.peerUser),
      value(update.sipCallId),
      value(update.status),
      value(update.reason),
      value(update.endReason),
      value(update.endedBy),
      update.media === undefined ? null : JSON.stringify(update.media),
      now,
    );
  }

  get(id: string): CallRecord | undefined {
    if (!this.#tables.exist()) return undefined;
    const row = this.#sql.exec<Row>('SELECT * FROM call_record WHERE id = ? AND started_at IS NOT NULL', id).toArray()[0];
    return row === undefined ? undefined : recordOf(row);
  }

  page(query: CallListQuery): CallListPage {
    if (!this.#tables.exist()) return { calls: [] };
    const before = query.before;
    const rows = this.#sql
      .exec<Row>(
        `SELECT * FROM call_record
         WHERE started_at IS NOT NULL
           AND (? IS NULL OR started_at < ? OR (started_at = ? AND id < ?))
           AND (? IS NULL OR user = ? OR peer_user = ?)
           AND (? = 0 OR ended_at IS NULL)
         ORDER BY started_at DESC, id DESC LIMIT ?`,
        before?.startedAt ?? null,
        before?.startedAt ?? null,
        before?.startedAt ?? null,
        before?.id ?? null,
        query.user ?? null,
        query.user ?? null,
        query.user ?? null,
        query.live === true ? 1 : 0,
        query.limit + 1,
      )
      .toArray();
    const calls = rows.slice(0, query.limit).map(recordOf);
    const last = calls.at(-1);
    return rows.length > query.limit && last !== undefined ? { calls, last: { startedAt: last.startedAt, id: last.id } } : { calls };
  }

  /** Forgets every call (a domain created again starts without its previous life's records). */
  clear(): void {
    if (this.#tables.exist()) this.#tables.write('DELETE FROM call_record');
  }

  #prune(now: number): void {
    if (!this.#tables.exist()) return;
    const keep = this.#keep();
    // A row only a media report wrote (its call's own writes never came) goes by its age too.
    this.#tables.write('DELETE FROM call_record WHERE COALESCE(started_at, updated_at) < ?', now - keep.ms);
    this.#tables.write(
      `DELETE FROM call_record WHERE id IN (
         SELECT id FROM call_record WHERE started_at IS NOT NULL ORDER BY started_at DESC, id DESC LIMIT -1 OFFSET ?)`,
      keep.calls - 1,
    );
  }
}

function recordOf(row: Row): CallRecord {
  return {
    id: row.id,
    startedAt: row.started_at ?? 0,
    answeredAt: row.answered_at,
    endedAt: row.ended_at,
    caller: row.caller ?? '',
    callee: row.callee ?? '',
    direction: (row.direction ?? 'local') as CallDirection,
    linkId: row.link_id,
    user: row.user,
    peerUser: row.peer_user,
    sipCallId: row.sip_call_id,
    status: row.status,
    reason: row.reason,
    endReason: row.end_reason,
    endedBy: row.ended_by as EndedBy | null,
    media: row.media === null ? null : (JSON.parse(row.media) as CallMedia),
  };
}
