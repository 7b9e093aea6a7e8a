/**
 * PbxLink: one Durable Object per PBX or SIP trunk, named by the link's id. It holds the link's
 * configuration (SQLite), its connection to the PBX (TCP or TLS with the Workers socket API), and
 * the outbound registration to it. An open outgoing socket keeps the object in memory; after a
 * deploy its alarm wakes it and it connects and registers again.
 *
 * Thin by design (STYLE.md): each handler initialises once, delegates to `link-engine.ts`, and
 * catches and logs. Time, sockets and randomness come from `clock`, `connector` and `random`,
 * which tests replace with `runInDurableObject`.
 */
import { DurableObject } from 'cloudflare:workers';
import { systemClock, type Clock } from '../../shared/clock/index.ts';
import { createLogger, errorFields, type Logger } from '../logger.ts';
import type { PbxLinkConfig } from './link-config.ts';
import { LinkEngine, type PbxLinkView } from './link-engine.ts';
import { LinkStore } from './link-store.ts';
import type { Random } from './registration-policy.ts';
import { socketConnector, type Connector } from './socket-connector.ts';

export class PbxLink extends DurableObject<Env> {
  clock: Clock = systemClock;
  connector: Connector = socketConnector;
  random: Random = Math.random;
  readonly store: LinkStore;
  readonly #log: Logger;
  #engine: LinkEngine | undefined;
  /** The alarm as last set or read; undefined until read once. */
  #armed: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new LinkStore(ctx.storage.sql);
    this.#log = createLogger({ object: 'PbxLink' });
  }

  /** RPC from the API: creates or replaces the link; `password` undefined keeps the stored one. */
  async putLink(config: PbxLinkConfig, password: string | null | undefined): Promise<{ created: boolean; view: PbxLinkView | undefined }> {
    const engine = this.#load();
    const { created } = engine.configure(config, password, this.clock.now());
    await this.#syncAlarm();
    return { created, view: engine.view() };
  }

  /** RPC from the API: the configuration (without the password) and the registration status. */
  async getLink(): Promise<PbxLinkView | undefined> {
    const engine = this.#load();
    await this.#syncAlarm();
    return engine.view();
  }

  /** RPC from the API: unregisters (expires=0) and forgets the link; false when there was none. */
  async deleteLink(): Promise<boolean> {
    const existed = this.#load().remove(this.clock.now());
    await this.#syncAlarm();
    return existed;
  }

  override async alarm(): Promise<void> {
    // The alarm that rang is no longer armed.
    this.#armed = null;
    try {
      this.#load().fire(this.clock.now());
    } catch (error) {
      this.#log.error('pbx-link.alarm-failed', errorFields(error));
    }
    await this.#syncAlarm();
  }

  #load(): LinkEngine {
    this.#engine ??= new LinkEngine(this.store, this.#log, this, () => void this.#syncAlarm(), this.clock.now());
    return this.#engine;
  }

  /** One alarm for every timer (DESIGN.md): armed for the earliest deadline, and only when that changes. */
  async #syncAlarm(): Promise<void> {
    try {
      if (this.#armed === undefined) this.#armed = await this.ctx.storage.getAlarm();
      const wanted = this.#engine?.nextDeadline() ?? null;
      if (wanted === this.#armed) return;
      this.#armed = wanted;
      if (wanted === null) await this.ctx.storage.deleteAlarm();
      else await this.ctx.storage.setAlarm(wanted);
    } catch (error) {
      this.#log.error('pbx-link.alarm-sync-failed', errorFields(error));
    }
  }
}
