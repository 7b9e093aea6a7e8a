/**
 * Each media node's latency as the edge sees it, kept by the MediaFleet object:
 * - control RTT: the round trip of every signed control request a PbxLink makes to the node
 *   (`media-control.ts`: sent to response headers), the newest `CONTROL_SAMPLES` per node;
 * - heartbeat delay: the last heartbeat's arrival less its `sentAt`, which is the one-way transit
 *   plus the offset between the node's clock and the edge's (no round trip: the node's heartbeat
 *   is a one-way report), so a figure that jumps says a clock moved as often as the network did.
 *
 * Samples are held in memory and written with the node's next heartbeat (one row per node, only
 * when samples arrived since), so timing a call's control requests costs no write of its own; an
 * eviction loses at most the samples of one heartbeat interval. The heartbeat delay is not stored:
 * the next heartbeat brings a new one.
 */
import { summarize } from '../latency-summary.ts';
import type { FleetStore } from './fleet-store.ts';
import type { ControlOperation } from './media-control.ts';

export const CONTROL_SAMPLES = 100;

export interface ControlSample {
  readonly at: number;
  readonly operation: ControlOperation;
  readonly ms: number;
}

/** The figures the listing shows per node. */
export interface RttSummary {
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly maxMs: number | null;
}

/** What `GET /api/v1/media-nodes/:id/latency` answers. */
export interface NodeLatencyView {
  readonly nodeId: string;
  readonly controlRtt: RttSummary;
  readonly heartbeatDelayMs: number | null;
  /** Oldest first. */
  readonly samples: readonly { readonly at: string; readonly operation: ControlOperation; readonly ms: number }[];
}

interface NodeFigures {
  control: ControlSample[];
  heartbeatDelayMs: number | null;
  /** Samples arrived since the row was last written. */
  unsaved: boolean;
}

export class NodeLatency {
  readonly #store: FleetStore;
  #nodes: Map<string, NodeFigures> | undefined;

  constructor(store: FleetStore) {
    this.#store = store;
  }

  /** A control request to `nodeId` was answered after `ms`. */
  controlRoundTrip(nodeId: string, operation: ControlOperation, ms: number, now: number): void {
    const figures = this.#figures(nodeId);
    figures.control = [...figures.control, { at: now, operation, ms: Math.max(0, Math.round(ms)) }].slice(-CONTROL_SAMPLES);
    figures.unsaved = true;
  }

  /** A heartbeat from `nodeId` arrived `delayMs` after the node says it sent it; writes the node's samples when new ones arrived. */
  heartbeat(nodeId: string, delayMs: number): void {
    const figures = this.#figures(nodeId);
    figures.heartbeatDelayMs = Number.isFinite(delayMs) ? Math.round(delayMs) : null;
    if (!figures.unsaved) return;
    this.#store.saveLatency(nodeId, JSON.stringify(figures.control));
    figures.unsaved = false;
  }

  summary(nodeId: string): RttSummary {
    const { count, p50_ms, p95_ms, max_ms } = summarize(this.#figures(nodeId).control.map((sample) => sample.ms));
    return { count, p50Ms: p50_ms, p95Ms: p95_ms, maxMs: max_ms };
  }

  view(nodeId: string): NodeLatencyView {
    const figures = this.#figures(nodeId);
    return {
      nodeId,
      controlRtt: this.summary(nodeId),
      heartbeatDelayMs: figures.heartbeatDelayMs,
      samples: figures.control.map((sample) => ({ ...sample, at: new Date(sample.at).toISOString() })),
    };
  }

  #figures(nodeId: string): NodeFigures {
    this.#nodes ??= new Map(
      this.#store.latencies().map(({ nodeId: id, control }) => [id, { control: JSON.parse(control) as ControlSample[], heartbeatDelayMs: null, unsaved: false }]),
    );
    let figures = this.#nodes.get(nodeId);
    if (figures === undefined) {
      figures = { control: [], heartbeatDelayMs: null, unsaved: false };
      this.#nodes.set(nodeId, figures);
    }
    return figures;
  }
}
