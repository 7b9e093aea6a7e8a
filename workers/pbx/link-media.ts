/**
 * The media sessions of a PbxLink's calls: every call through a link is anchored on a media node,
 * which speaks WebRTC (ICE, DTLS-SRTP, Opus) toward the browser and plain RTP (G.711) toward the
 * PBX. The link asks the MediaFleet for a node when a call starts, creates the session from the
 * offer of the side that called (`browserOffer` toward a trunk, `pbxOffer` from the PBX), gives
 * the node the other side's answer when it comes, and deletes the session when the call ends.
 *
 * One row per call (`link_media`): the node's control URL and what its create answered, so the
 * link finds its sessions again after an eviction; a row goes when its session is deleted.
 */
import { LazyTables } from '../sql/lazy-tables.ts';
import type { Logger } from '../logger.ts';
import { mediaSessionId, type AnswerSession, type ControlResult, type CreatedSession, type MediaControl, type UpdatedSession, type UpdateSession } from '../media/media-control.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS link_media (
  call_id TEXT PRIMARY KEY,
  session_id TEXT NOT NULL,
  control_url TEXT NOT NULL,
  created TEXT NOT NULL
)`;

export interface StoredSession {
  readonly sessionId: string;
  readonly controlUrl: string;
  readonly created: CreatedSession;
}

export interface LinkMediaPorts {
  linkId(): string;
  readonly log: Logger;
  /** The control client; undefined when SIPEDGE_MEDIA_SECRET is not set. */
  control(): MediaControl | undefined;
  /** The least-loaded healthy node's control URL (MediaFleet `pick`), or undefined. */
  pick(): Promise<string | undefined>;
}

/** The calling side's offer; none for an INVITE without SDP (the node then offers to both legs). */
export type OpenOffer = { readonly browserOffer?: string; readonly pbxOffer?: string };

export class LinkMedia {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;
  readonly #ports: LinkMediaPorts;

  constructor(sql: SqlStorage, ports: LinkMediaPorts) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'link_media');
    this.#ports = ports;
  }

  session(callId: string): StoredSession | undefined {
    if (!this.#tables.exist()) return undefined;
    const row = this.#sql.exec<{ session_id: string; control_url: string; created: string }>('SELECT session_id, control_url, created FROM link_media WHERE call_id = ?', callId).toArray()[0];
    return row === undefined ? undefined : { sessionId: row.session_id, controlUrl: row.control_url, created: JSON.parse(row.created) as CreatedSession };
  }

  /** A session for call `callId` from the calling side's offer, on the node the fleet picks. */
  async open(callId: string, offer: OpenOffer): Promise<ControlResult<CreatedSession>> {
    const control = this.#ports.control();
    if (control === undefined) return { ok: false, status: 503, reason: 'media-not-configured', detail: 'SIPEDGE_MEDIA_SECRET is not set' };
    const controlUrl = await this.#ports.pick();
    if (controlUrl === undefined) return { ok: false, status: 503, reason: 'no-media-node', detail: 'no healthy media node' };
    const sessionId = mediaSessionId(this.#ports.linkId(), callId);
    const created = await control.create(controlUrl, { id: sessionId, ...offer });
    if (!created.ok) {
      this.#ports.log.warn('media-session.create-failed', { call: callId, controlUrl, status: created.status, reason: created.reason, detail: created.detail });
      return created;
    }
    this.#tables.write('INSERT OR REPLACE INTO link_media (call_id, session_id, control_url, created) VALUES (?, ?, ?, ?)', callId, sessionId, controlUrl, JSON.stringify(created.value));
    this.#ports.log.info('media-session.created', { call: callId, session: sessionId, controlUrl });
    return created;
  }

  /** The answering side's answer (the same answer again is fine: a 183's SDP, then the 200's). */
  async answer(callId: string, answer: AnswerSession): Promise<ControlResult<unknown>> {
    const stored = this.session(callId);
    const control = this.#ports.control();
    if (stored === undefined || control === undefined) return { ok: false, status: 404, reason: 'not-found' };
    const result = await control.answer(stored.controlUrl, stored.sessionId, answer);
    if (!result.ok) this.#ports.log.warn('media-session.answer-failed', { call: callId, status: result.status, reason: result.reason, detail: result.detail });
    return result;
  }

  /** A new offer from one leg within the call; the node answers it for that leg alone. */
  async update(callId: string, offer: UpdateSession): Promise<ControlResult<UpdatedSession>> {
    const stored = this.session(callId);
    const control = this.#ports.control();
    if (stored === undefined || control === undefined) return { ok: false, status: 404, reason: 'not-found' };
    const result = await control.update(stored.controlUrl, stored.sessionId, offer);
    if (!result.ok) this.#ports.log.warn('media-session.update-failed', { call: callId, status: result.status, reason: result.reason, detail: result.detail });
    return result;
  }

  /** A DTMF key toward the PBX as RFC 4733 events (a browser's SIP INFO); 409 `no-telephone-event` when the PBX's leg has none. */
  async dtmf(callId: string, key: { readonly digit: string; readonly durationMs?: number }): Promise<ControlResult<unknown>> {
    const stored = this.session(callId);
    const control = this.#ports.control();
    if (stored === undefined || control === undefined) return { ok: false, status: 404, reason: 'not-found' };
    const result = await control.dtmf(stored.controlUrl, stored.sessionId, key);
    if (!result.ok && result.reason !== 'no-telephone-event') this.#ports.log.warn('media-session.dtmf-failed', { call: callId, status: result.status, reason: result.reason, detail: result.detail });
    return result;
  }

  /** Deletes the call's session, if it has one; the row stays when the node could not be told, for the next end of the call to retry. */
  async close(callId: string): Promise<void> {
    const stored = this.session(callId);
    const control = this.#ports.control();
    if (stored === undefined) return;
    if (control !== undefined) {
      const result = await control.delete(stored.controlUrl, stored.sessionId);
      if (!result.ok) {
        this.#ports.log.warn('media-session.delete-failed', { call: callId, status: result.status, reason: result.reason });
        if (result.status >= 500 && result.reason !== 'unreachable') return;
      }
    }
    this.#tables.write('DELETE FROM link_media WHERE call_id = ?', callId);
    this.#ports.log.info('media-session.deleted', { call: callId, session: stored.sessionId });
  }

  /** The calls with a session on the node at `controlUrl` (a node that restarted or went silent). */
  callsOn(controlUrl: string): string[] {
    if (!this.#tables.exist()) return [];
    return this.#sql.exec<{ call_id: string }>('SELECT call_id FROM link_media WHERE control_url = ?', controlUrl).toArray().map((row) => row.call_id);
  }
}
