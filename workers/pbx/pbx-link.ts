/**
 * PbxLink: one Durable Object per PBX or SIP trunk, named by the link's id. It holds the link's
 * configuration (SQLite), its connection to the PBX (TCP or TLS with the Workers socket API, SIP
 * over WebSocket, or UDP through a media node's SIP/UDP gateway), and
 * the outbound registration to it. An open outgoing socket keeps the object in memory; after a
 * deploy its alarm wakes it and it connects and registers again.
 *
 * Thin by design (STYLE.md): each handler initialises once, delegates to `link-engine.ts`, and
 * catches and logs. Time, sockets, randomness and the media nodes' control API come from `clock`,
 * `connector`, `webSockets`, `random` and `mediaFetch`, which tests replace with
 * `runInDurableObject`. The link's calls (`link-calls.ts`) ride on the same connection and the
 * same alarm; so do its own SIP trace (`readTrace`) and its transaction response times
 * (`readLatency`, with the qualify OPTIONS of `link-latency.ts`).
 *
 * A link belongs to one domain (tenant, its configuration's `domain`; SIPEDGE_DOMAIN for links
 * stored before domains existed): its inbound calls go to that domain's users through that
 * domain's Routing object, and the users it registers, calls for and relays message summaries to
 * are that domain's.
 */
import { DurableObject } from 'cloudflare:workers';
import { systemClock, type Clock } from '../../shared/clock/index.ts';
import { createLogger, errorFields, type Logger } from '../logger.ts';
import type { HalfCall } from '../call/call-half.ts';
import type { CallOffer, HalfAddress, OfferResult, PeerEvent } from '../call/peer-event.ts';
import { MediaControl, type ControlOperation } from '../media/media-control.ts';
import { mediaFleet } from '../media/media-fleet.ts';
import { routingFor } from '../routing/routing.ts';
import { LinkCalls } from './link-calls.ts';
import type { PbxLinkConfig } from './link-config.ts';
import { LinkMedia } from './link-media.ts';
import { LinkEngine, type PbxLinkView } from './link-engine.ts';
import { LinkLatency, type LinkLatencyView } from './link-latency.ts';
import { LinkLatencyStore } from './link-latency-store.ts';
import { LinkStore } from './link-store.ts';
import { SipTrace, type TraceQuery } from '../trace/sip-trace.ts';
import type { TraceRecord } from '../trace/trace-record.ts';
import { TraceStore } from '../trace/trace-store.ts';
import type { Random } from './registration-policy.ts';
import { socketConnector, type Connector } from './socket-connector.ts';
import type { WebSocketOpener } from './websocket-flow.ts';
import { webSocketOpener } from './websocket-opener.ts';
import { ProxiedUserStore } from './proxied-user-store.ts';
import { UserRegistrations, type ProxiedCredentials, type ProxiedRegistrationView, type SetCredentialsResult } from './user-registrations.ts';

/** The link as the API shows it: configuration, registration, and how many users it registers in each state. */
export type LinkViewWithUsers = PbxLinkView & { readonly proxied_users: ReturnType<UserRegistrations['counts']> };

export class PbxLink extends DurableObject<Env> {
  clock: Clock = systemClock;
  connector: Connector = socketConnector;
  random: Random = Math.random;
  /** How the link reaches media nodes' control APIs; tests put a fake node here. */
  mediaFetch: typeof fetch = (input, init) => fetch(input, init);
  /** How a `wss` link reaches its PBX and a `udp` link its media node's SIP/UDP gateway. */
  webSockets: WebSocketOpener = webSocketOpener({
    fetch: (input, init) => fetch(input, init),
    secret: () => this.#mediaSecret(),
    pickNode: async () => (await mediaFleet(this.env).pick())?.controlUrl,
  });
  readonly store: LinkStore;
  /** The users the link registers on their behalf, with their PBX credentials (`proxied-user-store.ts`). */
  readonly proxiedUsers: ProxiedUserStore;
  readonly #log: Logger;
  #engine: LinkEngine | undefined;
  #calls: LinkCalls | undefined;
  /** The domain `#calls` was built for. */
  #callsDomain: string | undefined;
  #users: UserRegistrations | undefined;
  /** The link's own SIP trace (`workers/trace/`), batched as a user's is. */
  #trace: SipTrace | undefined;
  /** Response times of the requests on the link's flows (`link-latency.ts`). */
  #latency: LinkLatency | undefined;
  /** The alarm as last set or read; undefined until read once. */
  #armed: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new LinkStore(ctx.storage.sql);
    this.proxiedUsers = new ProxiedUserStore(ctx.storage.sql);
    this.#log = createLogger({ object: 'PbxLink' });
  }

  /** RPC from the API: creates or replaces the link; `password` undefined keeps the stored one. */
  async putLink(config: PbxLinkConfig, password: string | null | undefined): Promise<{ created: boolean; view: PbxLinkView | undefined }> {
    const engine = this.#load();
    // A new link starts empty: what a deleted link of this id left (its unregistration's trace,
    // response times) was another link's, possibly another domain's.
    if (!engine.exists()) {
      this.#loadTrace().clear();
      this.#latency?.clear();
    }
    const { created } = engine.configure(config, password, this.clock.now());
    // A new link (or one stored before domains existed) learns its domain now: its calls follow it.
    if (this.#callsDomain !== this.#domain()) {
      this.#calls = undefined;
      this.#loadCalls();
    }
    await this.#syncAlarm();
    return { created, view: engine.view() };
  }

  /** RPC from the API: the configuration (without the password) and the registration status. */
  async getLink(): Promise<LinkViewWithUsers | undefined> {
    const engine = this.#load();
    await this.#syncAlarm();
    const view = engine.view();
    return view === undefined ? undefined : { ...view, proxied_users: this.#loadUsers().counts() };
  }

  /** RPC from the API: unregisters (expires=0) and forgets the link; false when there was none. */
  async deleteLink(): Promise<boolean> {
    const engine = this.#load();
    if (engine.exists()) this.#loadUsers().removeAll(this.clock.now());
    // The trace goes with the link; the unregistration that follows starts a new one.
    if (engine.exists()) this.#loadTrace().clear();
    if (engine.exists()) this.#latency?.clear();
    const existed = engine.remove(this.clock.now());
    await this.#syncAlarm();
    return existed;
  }

  override async alarm(): Promise<void> {
    // The alarm that rang is no longer armed.
    this.#armed = null;
    try {
      this.#load().fire(this.clock.now());
      this.#latency?.fire(this.clock.now());
      this.#loadCalls().host.fireTimers();
      this.#loadUsers().fire(this.clock.now());
      this.#trace?.fireTimers();
    } catch (error) {
      this.#log.error('pbx-link.alarm-failed', errorFields(error));
    }
    await this.#syncAlarm();
  }

  /** RPC from a user's caller half: a call toward this link's PBX (`link-calls.ts`). */
  async offerCall(offer: CallOffer): Promise<OfferResult> {
    try {
      return await this.#loadCalls().offerCall(offer);
    } catch (error) {
      this.#log.error('pbx-link.offer-failed', { call: offer.id, ...errorFields(error) });
      return { ok: false, status: 500, reason: 'Server Internal Error' };
    }
  }

  /** RPC from a user's half of one of this link's calls. */
  async callEvent(to: HalfAddress, event: PeerEvent): Promise<void> {
    try {
      await this.#loadCalls().callEvent(to, event);
    } catch (error) {
      this.#log.error('pbx-link.call-event-failed', { call: to.id, type: event.type, ...errorFields(error) });
    }
  }

  /** RPC from the media-nodes API: the node ended call `callId`'s media session; false when no call has it. */
  async mediaEnded(callId: string, reason: string): Promise<boolean> {
    const calls = this.#loadCalls();
    const found = calls.mediaEnded(callId, reason);
    await calls.settle();
    return found;
  }

  /** RPC from the media-nodes API: the node at `controlUrl` lost its sessions (it restarted); resolves to how many calls ended. */
  async mediaNodeLost(controlUrl: string, reason: string): Promise<number> {
    const calls = this.#loadCalls();
    const ended = calls.mediaNodeLost(controlUrl, reason);
    await calls.settle();
    return ended;
  }

  /** RPC from the users API: creates or replaces a user's PBX credentials for this link (proxy registration). */
  async putUserCredentials(aor: string, credentials: ProxiedCredentials): Promise<SetCredentialsResult> {
    const result = this.#loadUsers().setCredentials(aor, credentials, this.clock.now());
    await this.#syncAlarm();
    return result;
  }

  /** RPC from the users API: forgets a user's PBX credentials, unregistering the user first; false when there were none. */
  async deleteUserCredentials(aor: string): Promise<boolean> {
    const deleted = this.#loadUsers().deleteCredentials(aor, this.clock.now());
    await this.#syncAlarm();
    return deleted;
  }

  /** RPC from a SipUser: its first edge binding appeared (true) or its last one went (false). */
  async userRegistered(aor: string, registered: boolean): Promise<boolean> {
    const known = this.#loadUsers().setWanted(aor, registered, this.clock.now());
    await this.#syncAlarm();
    return known;
  }

  /** RPC from the users API: the user's registration to the PBX through this link, never the password. */
  async userRegistration(aor: string): Promise<ProxiedRegistrationView | undefined> {
    const users = this.#loadUsers();
    await this.#syncAlarm();
    return users.view(aor);
  }

  /** RPC from the API: the link's SIP trace, oldest first; undefined when there is no such link. */
  async readTrace(query: TraceQuery): Promise<TraceRecord[] | undefined> {
    return this.#load().exists() ? this.#loadTrace().read(query) : undefined;
  }

  /** RPC from the API: the link's SIP transaction response times; undefined when there is no such link. */
  async readLatency(): Promise<LinkLatencyView | undefined> {
    const engine = this.#load();
    if (!engine.exists() || this.#latency === undefined) return undefined;
    const view = this.#latency.view(this.clock.now());
    await this.#syncAlarm();
    return view;
  }

  #loadTrace(): SipTrace {
    this.#trace ??= new SipTrace({ store: new TraceStore(this.ctx.storage.sql), now: () => this.clock.now(), timersChanged: () => void this.#syncAlarm() });
    return this.#trace;
  }

  /** The halves of this link's calls; for tests. */
  async listCalls(): Promise<HalfCall[]> {
    return this.#loadCalls().host.list();
  }

  #load(): LinkEngine {
    if (this.#engine === undefined) {
      this.#engine = new LinkEngine(this.store, this.#log, this, () => void this.#syncAlarm(), this.clock.now());
      this.#engine.trace = this.#loadTrace();
      const engine = this.#engine;
      this.#latency = new LinkLatency(new LinkLatencyStore(this.ctx.storage.sql), { link: () => engine.link(), send: (wire) => engine.sendForCall(wire) }, this.clock.now());
      engine.latency = this.#latency;
      this.#loadCalls();
      this.#loadUsers();
    }
    return this.#engine;
  }

  /** The link's domain, lower case. */
  #domain(): string {
    return (this.#engine?.link()?.config.domain ?? this.env.SIPEDGE_DOMAIN).toLowerCase();
  }

  #loadCalls(): LinkCalls {
    if (this.#calls !== undefined) return this.#calls;
    const engine = this.#load();
    const domain = this.#domain();
    const media = new LinkMedia(this.ctx.storage.sql, {
      linkId: () => engine.link()?.config.id ?? '',
      log: this.#log,
      control: () => {
        const secret = this.#mediaSecret();
        return secret === undefined ? undefined : new MediaControl(secret, (input, init) => this.mediaFetch(input, init), { now: () => this.clock.now(), roundTrip: (url, operation, ms) => this.#noteRoundTrip(url, operation, ms) });
      },
      pick: async () => (await mediaFleet(this.env).pick())?.controlUrl,
    });
    const calls = new LinkCalls({
      domain,
      log: this.#log,
      sql: this.ctx.storage.sql,
      media,
      now: () => this.clock.now(),
      link: () => engine.link(),
      send: (wire) => engine.sendForCall(wire),
      user: (aor) => {
        const stub = this.env.SIP_USER.get(this.env.SIP_USER.idFromName(aor));
        return { offerCall: (offer) => stub.offerCall(offer), callEvent: (to, event) => stub.callEvent(to, event) };
      },
      routing: () => routingFor(this.env, domain),
      timersChanged: () => this.#syncAlarm(),
      proxiedUser: (contactUser) => this.#loadUsers().userByContact(contactUser),
      messageSummary: (aor, body) => this.env.SIP_USER.get(this.env.SIP_USER.idFromName(aor)).messageSummary(body),
    });
    this.#calls = calls;
    this.#callsDomain = domain;
    engine.calls = calls;
    return calls;
  }

  #loadUsers(): UserRegistrations {
    if (this.#users !== undefined) return this.#users;
    const engine = this.#load();
    const users = new UserRegistrations({
      store: this.proxiedUsers,
      log: this.#log,
      link: () => engine.link(),
      send: (wire) => engine.sendForCall(wire),
      connection: () => engine.view()?.registration.connection ?? 'closed',
      random: () => this.random(),
    }, this.clock.now());
    this.#users = users;
    engine.users = users;
    return users;
  }

  /** Passes a control request's round trip to the fleet, without holding up the call. */
  #noteRoundTrip(controlUrl: string, operation: ControlOperation, ms: number): void {
    mediaFleet(this.env)
      .controlRoundTrip(controlUrl, operation, ms)
      .catch((error: unknown) => this.#log.warn('pbx-link.media-rtt-lost', { controlUrl, ...errorFields(error) }));
  }

  #mediaSecret(): string | undefined {
    const secret: unknown = this.env.SIPEDGE_MEDIA_SECRET;
    return typeof secret === 'string' && secret.length >= 32 ? secret : undefined;
  }

  /** One alarm for every timer (DESIGN.md): armed for the earliest deadline, and only when that changes. */
  async #syncAlarm(): Promise<void> {
    try {
      if (this.#armed === undefined) this.#armed = await this.ctx.storage.getAlarm();
      const deadlines = [this.#engine?.nextDeadline(), this.#calls?.host.nextDeadline(), this.#users?.nextDeadline(), this.#trace?.nextDeadline(), this.#latency?.nextDeadline()].filter((deadline): deadline is number => deadline !== undefined);
      const wanted = deadlines.length === 0 ? null : Math.min(...deadlines);
      if (wanted === this.#armed) return;
      this.#armed = wanted;
      if (wanted === null) await this.ctx.storage.deleteAlarm();
      else await this.ctx.storage.setAlarm(wanted);
    } catch (error) {
      this.#log.error('pbx-link.alarm-sync-failed', errorFields(error));
    }
  }
}
