/**
 * MediaFleet: one global Durable Object (named `fleet`) that knows the media nodes. Nodes send it
 * heartbeats and session-end reports through the Worker (`workers/api/media-nodes.ts`, which checks
 * their signatures); it keeps the nonces of those requests for the replay window; the call code
 * asks it for a node per call (`pick`).
 *
 * One object for the whole fleet: a heartbeat every 10 s per node is far below what one object
 * serves (about 1,000 requests a second), and `pick` sees every region at once for its fallback.
 *
 * Thin by design (STYLE.md): RPC methods delegate to `fleet-core.ts`; time comes from `clock`,
 * which tests replace with `runInDurableObject`.
 */
import { DurableObject } from 'cloudflare:workers';
import { systemClock, type Clock } from '../../shared/clock/index.ts';
import { createLogger } from '../logger.ts';
import { FleetCore, type FleetListing } from './fleet-core.ts';
import { FleetStore, type SessionEndedReport } from './fleet-store.ts';
import { staleAfterMs, type Heartbeat, type MediaNodeView } from './media-node-record.ts';

export const FLEET_OBJECT_NAME = 'fleet';

/** The fleet object's stub. */
export function mediaFleet(env: Env): DurableObjectStub<MediaFleet> {
  return env.MEDIA_FLEET.get(env.MEDIA_FLEET.idFromName(FLEET_OBJECT_NAME));
}

export class MediaFleet extends DurableObject<Env> {
  clock: Clock = systemClock;
  readonly store: FleetStore;
  readonly core: FleetCore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new FleetStore(ctx.storage.sql);
    this.core = new FleetCore(this.store, createLogger({ object: 'MediaFleet' }), staleAfterMs(env.SIPEDGE_MEDIA_HEARTBEAT_MS));
  }

  /** RPC from the signature check: false when `nonce` was already used within the window. */
  rememberNonce(nonce: string, timestampSeconds: number): boolean {
    return this.core.rememberNonce(nonce, timestampSeconds, this.clock.now());
  }

  /** RPC from the API: a node's heartbeat; answers how the edge now sees the node. */
  heartbeat(beat: Heartbeat): MediaNodeView {
    return this.core.heartbeat(beat, this.clock.now());
  }

  /** RPC from the API: a session the node ended on its own. */
  sessionEnded(report: SessionEndedReport): { readonly duplicate: boolean } {
    return this.core.sessionEnded(report, this.clock.now());
  }

  /** RPC from the API: every node known, with its health. */
  listNodes(): FleetListing {
    return this.core.list(this.clock.now());
  }

  /** RPC for the call code: the node for a new call, or null when no node is healthy. */
  pick(region?: string): MediaNodeView | null {
    return this.core.pick(region, this.clock.now()) ?? null;
  }
}
