/**
 * MediaFleet: one global Durable Object (named `fleet`) that knows the media nodes. Nodes send it
 * heartbeats and session-end reports through the Worker (`workers/api/media-nodes.ts`, which checks
 * their signatures); it keeps the nonces of those requests for the replay window; the call code
 * asks it for a node per call (`pick`); PbxLinks report the round trips of their control requests
 * (`controlRoundTrip`, kept per node by `node-latency.ts`).
 *
 * One object for the whole fleet: a heartbeat every 10 s per node is far below what one object
 * serves (about 1,000 requests a second), and `pick` sees every region at once for its fallback.
 *
 * Thin by design (STYLE.md): RPC methods delegate to `fleet-core.ts`; time comes from `clock`,
 * which tests replace with `runInDurableObject`.
 */
import { DurableObject } from 'cloudflare:workers';
import { systemClock, type Clock } from '../../shared/clock/index.ts';
import { createLogger, type Logger } from '../logger.ts';
import { FleetCore, type FleetListing } from './fleet-core.ts';
import { FleetStore, type SessionEndedReport } from './fleet-store.ts';
import type { ControlOperation } from './media-control.ts';
import type { NodeLatencyView } from './node-latency.ts';
import { staleAfterMs, type Heartbeat, type MediaNodeView } from './media-node-record.ts';
import { endCallsOn } from './node-loss.ts';

export const FLEET_OBJECT_NAME = 'fleet';

/** The fleet object's stub. */
export function mediaFleet(env: Env): DurableObjectStub<MediaFleet> {
  return env.MEDIA_FLEET.get(env.MEDIA_FLEET.idFromName(FLEET_OBJECT_NAME));
}

export class MediaFleet extends DurableObject<Env> {
  clock: Clock = systemClock;
  readonly store: FleetStore;
  readonly core: FleetCore;

  readonly #log: Logger;
  /** The alarm as last set or read; undefined until read once. */
  #armed: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new FleetStore(ctx.storage.sql);
    this.#log = createLogger({ object: 'MediaFleet' });
    this.core = new FleetCore(this.store, this.#log, staleAfterMs(env.SIPEDGE_MEDIA_HEARTBEAT_MS));
  }

  /**
   * The alarm: nodes that went silent since it was armed have lost their calls' media; those calls
   * end (BYE on both legs). Armed only while a node is healthy, for when the first of them would
   * go stale, and not moved by every heartbeat: a heartbeat arms it only when none is armed.
   */
  override async alarm(): Promise<void> {
    this.#armed = null;
    const now = this.clock.now();
    for (const node of this.core.newlyStale(now)) {
      this.#log.warn('media-node.lost', { node: node.nodeId, controlUrl: node.controlUrl, silentMs: node.silentMs });
      await endCallsOn(this.env, this.#log, node.controlUrl, 'media-node-lost');
    }
    await this.#arm(now);
  }

  async #arm(now: number): Promise<void> {
    if (this.#armed === undefined) this.#armed = await this.ctx.storage.getAlarm();
    if (this.#armed !== null && this.#armed > now) return;
    const at = this.core.nextStaleAt(now);
    if (at === undefined) return;
    this.#armed = at;
    await this.ctx.storage.setAlarm(at);
  }

  /** RPC from the signature check: false when `nonce` was already used within the window. */
  rememberNonce(nonce: string, timestampSeconds: number): boolean {
    return this.core.rememberNonce(nonce, timestampSeconds, this.clock.now());
  }

  /** RPC from the API: a node's heartbeat; answers how the edge now sees the node. */
  async heartbeat(beat: Heartbeat): Promise<MediaNodeView & { readonly restarted?: true }> {
    const now = this.clock.now();
    const view = this.core.heartbeat(beat, now);
    await this.#arm(now);
    return view;
  }

  /** RPC from the API: a session the node ended on its own. */
  sessionEnded(report: SessionEndedReport): { readonly duplicate: boolean } {
    return this.core.sessionEnded(report, this.clock.now());
  }

  /** RPC from a PbxLink: a signed control request to the node at `controlUrl` was answered after `ms` (`media-control.ts`). */
  controlRoundTrip(controlUrl: string, operation: ControlOperation, ms: number): boolean {
    return this.core.controlRoundTrip(controlUrl, operation, ms, this.clock.now());
  }

  /** RPC from the API: a node's control RTT and heartbeat delay; null for a node not known. */
  nodeLatency(nodeId: string): NodeLatencyView | null {
    return this.core.latency(nodeId) ?? null;
  }

  /** RPC from the API: every node known, with its health and control RTT. */
  listNodes(): FleetListing {
    return this.core.list(this.clock.now());
  }

  /** RPC for the call code: the node for a new call, or null when no node is healthy. */
  pick(region?: string): MediaNodeView | null {
    return this.core.pick(region, this.clock.now()) ?? null;
  }
}
