/**
 * A call from the PBX that inbound routing sends to several users at once (a ring group): the
 * link's caller half has one peer, the group (`ring-group:<token>` as its address in calls), and
 * the group offers the call to every member's object in parallel, each under its own call id
 * (`<call id>-<index>`), so that every member's events come back told apart. The first member to
 * answer wins and the others are cancelled (RFC 3326 "Call completed elsewhere"); a member that
 * answers later is hung up; when every member failed, the best failure (`fork-outcome.ts`, as for
 * one user's devices) is the caller's answer.
 *
 * One row per group (`link_ring_group`), the whole group as JSON, gone when the call ends.
 */
import { LazyTables } from '../sql/lazy-tables.ts';

export const GROUP_AOR_PREFIX = 'ring-group:';

export interface GroupMember {
  readonly aor: string;
  readonly state: 'offered' | 'ringing' | 'answered' | 'failed';
  readonly status?: number;
}

export interface RingGroup {
  readonly token: string;
  /** The link's call id, once the caller half offered the call. */
  readonly callId?: string;
  readonly members: readonly GroupMember[];
  readonly winner?: number;
}

export function groupToken(aor: string): string | undefined {
  return aor.startsWith(GROUP_AOR_PREFIX) ? aor.slice(GROUP_AOR_PREFIX.length) : undefined;
}

export function memberCallId(callId: string, index: number): string {
  return `${callId}-${index}`;
}

/** The link's call id and the member's index of a member's call id. */
export function parseMemberCallId(id: string): { readonly callId: string; readonly index: number } | undefined {
  const match = /^(.+)-(\d+)$/.exec(id);
  return match === null ? undefined : { callId: match[1] as string, index: Number(match[2]) };
}

/** True when no member can still answer. */
export function allFailed(group: RingGroup): boolean {
  return group.members.every((member) => member.state === 'failed');
}

export function withMember(group: RingGroup, index: number, patch: Partial<GroupMember>): RingGroup {
  return { ...group, members: group.members.map((member, at) => (at === index ? { ...member, ...patch } : member)) };
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS link_ring_group (
  token TEXT PRIMARY KEY,
  call_id TEXT,
  state TEXT NOT NULL
)`;

export class RingGroupStore {
  readonly #sql: SqlStorage;
  readonly #tables: LazyTables;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#tables = new LazyTables(sql, SCHEMA, 'link_ring_group');
  }

  byToken(token: string): RingGroup | undefined {
    if (!this.#tables.exist()) return undefined;
    const row = this.#sql.exec<{ state: string }>('SELECT state FROM link_ring_group WHERE token = ?', token).toArray()[0];
    return row === undefined ? undefined : (JSON.parse(row.state) as RingGroup);
  }

  byCallId(callId: string): RingGroup | undefined {
    if (!this.#tables.exist()) return undefined;
    const row = this.#sql.exec<{ state: string }>('SELECT state FROM link_ring_group WHERE call_id = ?', callId).toArray()[0];
    return row === undefined ? undefined : (JSON.parse(row.state) as RingGroup);
  }

  save(group: RingGroup): void {
    this.#tables.write('INSERT OR REPLACE INTO link_ring_group (token, call_id, state) VALUES (?, ?, ?)', group.token, group.callId ?? null, JSON.stringify(group));
  }

  deleteCall(callId: string): void {
    if (!this.#tables.exist()) return;
    this.#tables.write('DELETE FROM link_ring_group WHERE call_id = ?', callId);
  }
}
