/**
 * The media fleet's logic, over its store (`fleet-store.ts`) and the rules in
 * `media-node-record.ts`: heartbeats in, a node out per call, nonces remembered for the replay
 * window, session-end reports kept briefly. Time is a parameter, so tests choose it.
 *
 * Staleness is computed when asked (listing, picking), never scheduled: a node that stops beating
 * becomes stale by the clock alone, with no alarm and no write.
 */
import { DEFAULT_MAX_SKEW_MS, nonceExpiry } from '../../shared/signing/index.ts';
import type { Logger } from '../logger.ts';
import type { FleetStore, SessionEndedReport } from './fleet-store.ts';
import type { ControlOperation } from './media-control.ts';
import { healthOf, pickNode, viewOf, type Heartbeat, type MediaNodeView } from './media-node-record.ts';
import { NodeLatency, type NodeLatencyView, type RttSummary } from './node-latency.ts';

export interface FleetListing {
  /** A node silent for longer is stale. */
  readonly staleAfterMs: number;
  readonly nodes: readonly (MediaNodeView & { readonly rtt: RttSummary })[];
}

export class FleetCore {
  readonly #store: FleetStore;
  readonly #log: Logger;
  readonly #staleAfterMs: number;
  /**
   * Calls given to each node since its last heartbeat. In memory only: the next heartbeat brings
   * the node's own count, and losing this on eviction costs at most one interval of less even spread.
   */
  readonly #picked = new Map<string, number>();
  readonly #latency: NodeLatency;

  constructor(store: FleetStore, log: Logger, staleAfterMs: number) {
    this.#store = store;
    this.#log = log;
    this.#staleAfterMs = staleAfterMs;
    this.#latency = new NodeLatency(store);
  }

  /** A PbxLink's control request to the node at `controlUrl` was answered after `ms`; false when no node has that URL. */
  controlRoundTrip(controlUrl: string, operation: ControlOperation, ms: number, now: number): boolean {
    const node = this.#store.nodes().find((candidate) => candidate.controlUrl === controlUrl);
    if (node === undefined) return false;
    this.#latency.controlRoundTrip(node.nodeId, operation, ms, now);
    return true;
  }

  /** A node's latency figures; undefined for a node not known. */
  latency(nodeId: string): NodeLatencyView | undefined {
    return this.#store.node(nodeId) === undefined ? undefined : this.#latency.view(nodeId);
  }

  /** The replay record of signed requests (`shared/signing/`): false if `nonce` was seen within the window. */
  rememberNonce(nonce: string, timestampSeconds: number, now: number): boolean {
    return this.#store.rememberNonce(nonce, nonceExpiry(timestampSeconds, DEFAULT_MAX_SKEW_MS), now);
  }

  /** Stores a heartbeat; `restarted` when the node started again since the last one (its sessions died with the old process). */
  heartbeat(beat: Heartbeat, now: number): MediaNodeView & { readonly restarted?: true } {
    const before = this.#store.node(beat.nodeId);
    const node = this.#store.saveHeartbeat(beat, now);
    this.#picked.delete(beat.nodeId);
    this.#latency.heartbeat(beat.nodeId, now - Date.parse(beat.sentAt));
    const fields = { node: beat.nodeId, region: beat.region, controlUrl: beat.controlUrl, sessions: beat.sessions, capacity: beat.capacity };
    if (before === undefined) {
      this.#log.info('media-node.joined', fields);
    } else if (before.startedAt !== beat.startedAt) {
      // Its sessions died with the old process: the API ends their calls (BYE on both legs).
      this.#log.warn('media-node.restarted', { ...fields, startedAt: beat.startedAt, previousStartedAt: before.startedAt });
    } else if (healthOf(before, now, this.#staleAfterMs) === 'stale') {
      this.#log.info('media-node.back', { ...fields, silentMs: now - before.lastSeen });
    }
    if (beat.state === 'stopping' && before?.state !== 'stopping') this.#log.info('media-node.stopping', fields);
    const view = viewOf(node, now, this.#staleAfterMs);
    return before !== undefined && before.startedAt !== beat.startedAt ? { ...view, restarted: true } : view;
  }

  /**
   * A session the node ended on its own (media timeout, browser gone, shutdown). Stored and logged;
   * the API then routes it to the call that owns the session (`workers/api/media-nodes.ts`), which
   * sends BYE on both legs. A retry of a stored report is a duplicate, answered the same.
   */
  sessionEnded(report: SessionEndedReport, now: number): { readonly duplicate: boolean } {
    const stored = this.#store.saveSessionEnd(report, now);
    if (stored) this.#log.info('media-session.ended-by-node', { node: report.nodeId, session: report.sessionId, reason: report.reason, endedAt: report.endedAt });
    return { duplicate: !stored };
  }

  /**
   * Nodes that went stale within the last stale window: their sessions are presumed lost. (A node
   * reported twice, after an eviction, costs nothing: its calls are gone by then.)
   */
  newlyStale(now: number): MediaNodeView[] {
    return this.#store
      .nodes()
      .filter((node) => now - node.lastSeen > this.#staleAfterMs && now - node.lastSeen <= 2 * this.#staleAfterMs && node.state !== 'stopping')
      .map((node) => viewOf(node, now, this.#staleAfterMs));
  }

  /** When the first node that is fresh now would go stale (a second after), or undefined when none is fresh. */
  nextStaleAt(now: number): number | undefined {
    const fresh = this.#store.nodes().filter((node) => now - node.lastSeen <= this.#staleAfterMs);
    if (fresh.length === 0) return undefined;
    return Math.min(...fresh.map((node) => node.lastSeen)) + this.#staleAfterMs + 1_000;
  }

  list(now: number): FleetListing {
    return {
      staleAfterMs: this.#staleAfterMs,
      nodes: this.#store.nodes().map((node) => ({ ...viewOf(node, now, this.#staleAfterMs, this.#picked.get(node.nodeId)), rtt: this.#latency.summary(node.nodeId) })),
    };
  }

  /** The node for a new call in `region` (falling back to any region), counted as one more call on it; undefined when none is healthy. */
  pick(region: string | undefined, now: number): MediaNodeView | undefined {
    const node = pickNode(this.#store.nodes(), region, now, this.#staleAfterMs, this.#picked);
    if (node === undefined) {
      this.#log.warn('media-node.none-available', { region });
      return undefined;
    }
    const picked = (this.#picked.get(node.nodeId) ?? 0) + 1;
    this.#picked.set(node.nodeId, picked);
    return viewOf(node, now, this.#staleAfterMs, picked);
  }
}
