/**
 * How a node's sessions ended: the report each end gets (what the edge is sent, whoever asked for
 * the end: the call's record takes its figures and samples), the figures summed over ended sessions for the metrics, and the tombstones that
 * keep an ended id (and its report) for a while, the oldest dropped first.
 */
import type { MediaSessionStats, QualitySamples, SessionEnd } from '../relay/index.ts';
import { addSession, emptyTotals, type TrafficTotals } from './traffic-totals.ts';

export type EndReason = SessionEnd['reason'] | 'node-shutdown';

export interface SessionEndReport {
  readonly sessionId: string;
  readonly reason: EndReason;
  /** What the session said about its end (the silent leg, the browser's connection state, ...). */
  readonly detail: SessionEnd;
  readonly endedAt: string;
  /** True when the edge asked for the end (DELETE): its call is over already, only the figures are news. */
  readonly requested: boolean;
  readonly stats: MediaSessionStats;
  /** Each direction's quality over the call (`quality-series.ts`). */
  readonly samples: QualitySamples;
}

/** What the registry knows of a session as it ends. */
export interface EndingSession {
  readonly stats: MediaSessionStats;
  readonly samples: QualitySamples;
  /** Who closed it, if anyone did: a close at shutdown is reported as `node-shutdown`. */
  readonly closingBy: 'edge' | 'shutdown' | undefined;
  readonly relayingSinceMs: number | undefined;
}

export class SessionEnds {
  /** Ended ids in the order they ended, for pruning tombstones. */
  readonly #tombstones = new Map<string, number>();
  /** Counters of sessions that have ended. */
  readonly #totals = emptyTotals();
  readonly #byReason = new Map<EndReason, number>();
  #relayingSeconds = 0;

  /** Records a session's end, with its tombstone; returns its report. */
  record(id: string, ending: EndingSession, end: SessionEnd, nowMs: number): SessionEndReport {
    const reason: EndReason = end.reason === 'closed' && ending.closingBy === 'shutdown' ? 'node-shutdown' : end.reason;
    const report: SessionEndReport = {
      sessionId: id,
      reason,
      detail: end,
      endedAt: new Date(nowMs).toISOString(),
      requested: ending.closingBy === 'edge',
      stats: ending.stats,
      samples: ending.samples,
    };
    addSession(this.#totals, ending.stats);
    if (ending.relayingSinceMs !== undefined) this.#relayingSeconds += (nowMs - ending.relayingSinceMs) / 1000;
    this.#byReason.set(reason, (this.#byReason.get(reason) ?? 0) + 1);
    this.#tombstones.set(id, nowMs);
    return report;
  }

  /** Forgets the tombstones older than `keepMs` or beyond the newest `keepCount`; returns their ids. */
  prune(nowMs: number, keepMs: number, keepCount: number): string[] {
    const dropped: string[] = [];
    for (const [id, endedAt] of this.#tombstones) {
      if (nowMs - endedAt < keepMs && this.#tombstones.size <= keepCount) break;
      this.#tombstones.delete(id);
      dropped.push(id);
    }
    return dropped;
  }

  /** Tombstones kept. */
  get count(): number {
    return this.#tombstones.size;
  }

  get byReason(): ReadonlyMap<EndReason, number> {
    return this.#byReason;
  }

  /** Counters summed over ended sessions. */
  get totals(): TrafficTotals {
    return this.#totals;
  }

  /** Seconds ended sessions spent relaying, summed. */
  get relayingSeconds(): number {
    return this.#relayingSeconds;
  }
}
