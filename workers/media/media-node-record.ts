/**
 * What the edge knows about one media node, from its heartbeats (`media-node/edge/heartbeat.ts`
 * sends them), and the pure rules over it: how healthy it is and which node takes the next call.
 *
 * Health, most serious first:
 *   stale     no heartbeat for `staleAfterMs` (three intervals): dead, cut off, or restarting
 *   stopping  it said so (its last heartbeat, at shutdown): takes no new calls
 *   full      as many sessions as its capacity
 *   healthy   may be given a call
 */

/** One heartbeat's body, as validated by the API (`workers/api/media-nodes.ts`). */
export interface Heartbeat {
  readonly nodeId: string;
  readonly region: string;
  readonly state: 'up' | 'stopping';
  /** The control API's base URL, as the edge reaches it. */
  readonly controlUrl: string;
  /** The address PBX legs use. */
  readonly pbxAddress: string;
  readonly capacity: number;
  readonly sessions: number;
  /** `sessions / capacity`, as the node computed it. */
  readonly load: number;
  /** Share of one core over the last minute, when the node knows it. */
  readonly cpu: number | null;
  readonly startedAt: string;
  readonly sentAt: string;
}

/** A node as stored: its last heartbeat (less `sentAt`: the edge's own clock says when it was seen). */
export interface MediaNodeRecord extends Omit<Heartbeat, 'sentAt'> {
  /** When the edge received the last heartbeat (ms since the epoch). */
  readonly lastSeen: number;
}

export type NodeHealth = 'healthy' | 'full' | 'stopping' | 'stale';

/** A node as the operator API lists it and as `pick` returns it. */
export interface MediaNodeView extends Omit<MediaNodeRecord, 'lastSeen'> {
  readonly health: NodeHealth;
  readonly lastSeenAt: string;
  /** How long since the last heartbeat. */
  readonly silentMs: number;
}

/** Three missed heartbeats and a node is out (the rule). */
export const MISSED_HEARTBEATS = 3;
export const DEFAULT_HEARTBEAT_MS = 10_000;

/** The staleness bound for a configured heartbeat interval (text from `[vars]`); a bad value means the default. */
export function staleAfterMs(heartbeatIntervalText: string | undefined): number {
  const interval = Number(heartbeatIntervalText);
  return MISSED_HEARTBEATS * (Number.isInteger(interval) && interval > 0 ? interval : DEFAULT_HEARTBEAT_MS);
}

export function healthOf(node: MediaNodeRecord, now: number, staleAfter: number, extraSessions = 0): NodeHealth {
  if (now - node.lastSeen > staleAfter) return 'stale';
  if (node.state === 'stopping') return 'stopping';
  if (node.sessions + extraSessions >= node.capacity) return 'full';
  return 'healthy';
}

export function viewOf(node: MediaNodeRecord, now: number, staleAfter: number, extraSessions = 0): MediaNodeView {
  const { lastSeen, ...rest } = node;
  return { ...rest, health: healthOf(node, now, staleAfter, extraSessions), lastSeenAt: new Date(lastSeen).toISOString(), silentMs: Math.max(0, now - lastSeen) };
}

/**
 * The node for a new call: a healthy one in `region` if there is any, else a healthy one anywhere;
 * the least loaded, counting the calls given to each since its last heartbeat (`picked`), so a
 * burst of calls between two heartbeats spreads instead of landing on one node. Ties go to the
 * node with more free sessions, then by id, so the choice is reproducible.
 */
export function pickNode(
  nodes: readonly MediaNodeRecord[],
  region: string | undefined,
  now: number,
  staleAfter: number,
  picked: ReadonlyMap<string, number> = new Map(),
): MediaNodeRecord | undefined {
  const extra = (node: MediaNodeRecord): number => picked.get(node.nodeId) ?? 0;
  const healthy = nodes.filter((node) => healthOf(node, now, staleAfter, extra(node)) === 'healthy');
  const local = healthy.filter((node) => node.region === region);
  const candidates = local.length > 0 ? local : healthy;
  const load = (node: MediaNodeRecord): number => (node.sessions + extra(node)) / node.capacity;
  const free = (node: MediaNodeRecord): number => node.capacity - node.sessions - extra(node);
  return candidates.toSorted((a, b) => load(a) - load(b) || free(b) - free(a) || (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))[0];
}
