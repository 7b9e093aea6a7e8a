/**
 * Presence in one SipUser object, in both of its roles:
 * - **notifier** for its own user (RFC 6665 §4.2): keeps the subscriptions to the user, answers
 *   them, sends a NOTIFY at once and on every change of the user's state, ends them on expiry
 *   (the object's one alarm), on unsubscribe, or when the user is deleted; and the event state
 *   compositor (RFC 3903) for the user's own PUBLISHes;
 * - **watcher's proxy** for its user's devices: reads and authenticates their SUBSCRIBEs (407,
 *   like INVITE and MESSAGE), passes them to the watched user's object over RPC, and passes the
 *   devices' answers to NOTIFYs back to it (RFC 6665 §4.2.2: a failed NOTIFY ends the subscription).
 *
 * The NOTIFYs go straight from the notifier's object to the watcher's device over the flow its
 * SUBSCRIBE came on; the device's answer is routed by To, to the watcher's object, which is why
 * that object passes it on.
 *
 * State (RFC 3856 §6.6 for presence): the most recent live publication's PIDF when a device
 * published one; otherwise `open` while some device is registered and `closed` when none is.
 * For the `dialog` package (RFC 4235) the user's call halves (`dialog-info.ts`). For
 * `message-summary` (RFC 3842), subscribed to by a user's own devices only: the last summary
 * the user's PBX sent (`message-summary.ts`, which also sends each one to the user's devices
 * unsolicited), or no messages waiting when none came.
 *
 * Each change of the user's presence as the API shows it (`snapshot`: registered, publication,
 * on a call, deleted) also goes to the domain's presence hub (`presence-feed.ts`,
 * `presence-hub.ts`), which pushes it to the API's event streams following the user.
 */
import { createResponse, getCallId, getCSeq, getFrom, serializeMessage, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { halfKey, type HalfCall } from '../call/call-half.ts';
import { errorFields, type Logger } from '../logger.ts';
import { aorOf } from '../sip/address-of-record.ts';
import { edgeContact } from '../sip/edge-ua.ts';
import type { Flow } from '../sip/flow.ts';
import { randomTag } from '../sip/wire.ts';
import type { EffectQueue } from '../user/effect-queue.ts';
import { messageSummary } from './event-package.ts';
import { SummaryRelay, type SummaryOutcome } from './message-summary.ts';
import type { Binding } from '../registrar/binding.ts';
import { dialogInfoDocument, dialogStateOf, dialogViewOf, type DialogState, type DialogView } from './dialog-info.ts';
import { pidfDocument, type BasicStatus } from './pidf.ts';
import { PresenceFeed, type PresenceHubRpc } from './presence-feed.ts';
import type { PresenceStore } from './presence-store.ts';
import { handlePublish, type Publication } from './publication.ts';
import { readSubscribe } from './subscribe-request.ts';
import {
  newSubscription,
  notifyRequest,
  refreshed,
  subscriptionKey,
  type NotifyAnswer,
  type SubscribeAnswer,
  type SubscribeInput,
  type Subscription,
  type SubscriptionState,
} from './subscription.ts';

/** Another user's object, as presence talks to it. */
export interface PresencePeer {
  subscribe(input: SubscribeInput): Promise<SubscribeAnswer>;
  notifyAnswered(answer: NotifyAnswer): Promise<void>;
}

export interface PresencePorts {
  readonly domain: string;
  readonly log: Logger;
  readonly queue: EffectQueue;
  now(): number;
  /** This object's user, when it has an account. */
  aor(): string | undefined;
  /** Some device of the user is registered. */
  registered(): boolean;
  /** The user's unexpired bindings (unsolicited message-summary NOTIFYs). */
  bindings(): readonly Binding[];
  /** The user's call halves (the `dialog` package). */
  calls(): readonly HalfCall[];
  deliver(connectionId: string, wire: string): Promise<boolean>;
  peer(aor: string): PresencePeer;
  timersChanged(): Promise<void>;
  /** The presence hub of a domain (`presence-hub.ts`), told of each change the API's event streams show. */
  hub?(domain: string): PresenceHubRpc;
}

/** Entity-tags of publications set through the API rather than PUBLISHed by a device. */
const API_ETAG_PREFIX = 'api-';

/** A user's presence for the API (`snapshot`). */
export interface PresenceSnapshot {
  /** The composed PIDF's basic status. */
  readonly basic: BasicStatus;
  /** Where it comes from: a device's PUBLISH, the API, or registration (RFC 3856 §6.6). */
  readonly source: 'device' | 'api' | 'registration';
  readonly registered: boolean;
  /** Some call of the user is not over (what the `dialog` package shows). */
  readonly onCall: boolean;
  readonly pidf: string;
  /** When the publication in force expires (ms since the epoch). */
  readonly until?: number;
}

/** Authenticates the request (RFC 3261 §22.3); a response when it is refused or challenged. */
export type Authenticate = () => SipResponse | undefined;

export class PresenceHost {
  readonly #store: PresenceStore;
  readonly #ports: PresencePorts;
  #subscriptions: Map<string, Subscription> | undefined;
  #publications: Publication[] | undefined;
  /** The dialog state last reported per call half, to notify changes only. */
  readonly #reported = new Map<string, DialogState>();
  readonly #summaries = new SummaryRelay();
  readonly #feed: PresenceFeed | undefined;

  constructor(store: PresenceStore, ports: PresencePorts) {
    this.#store = store;
    this.#ports = ports;
    const hub = ports.hub;
    this.#feed = hub === undefined ? undefined : new PresenceFeed((domain) => hub(domain), ports.log);
  }

  #subs(): Map<string, Subscription> {
    this.#subscriptions ??= this.#store.loadSubscriptions();
    return this.#subscriptions;
  }

  #pubs(): Publication[] {
    this.#publications ??= this.#store.loadPublications();
    return this.#publications;
  }

  /** The subscriptions to this user, for tests and the API. */
  subscriptions(): Subscription[] {
    return [...this.#subs().values()];
  }

  // --- the watcher's side and the publisher's side: requests from this user's devices ---

  /** SUBSCRIBE or PUBLISH from one of this user's devices; undefined when the notifier answered the device itself. */
  async deviceRequest(aor: string, request: SipRequest, flow: Flow, authenticate: Authenticate): Promise<SipResponse | undefined> {
    const answer = (status: number, reason?: string, headers: SipResponse['headers'] = []): SipResponse => createResponse(request, status, reason, { toTag: randomTag(), headers });
    if (request.method === 'PUBLISH') {
      const refusal = authenticate();
      if (refusal !== undefined) return refusal;
      const result = handlePublish(request, this.#pubs(), aor, this.#ports.domain, this.#ports.now());
      if (result.removed !== undefined) {
        this.#store.deletePublication(result.removed);
        this.#publications = this.#pubs().filter((each) => each.etag !== result.removed);
      }
      if (result.saved !== undefined) {
        this.#store.savePublication(result.saved);
        this.#publications = [...this.#pubs(), result.saved];
      }
      if (result.changed) this.presenceChanged();
      this.#ports.queue.push(() => this.#ports.timersChanged());
      return answer(result.status, result.reason, [...result.headers]);
    }
    const read = readSubscribe(request, aor, flow, this.#ports.domain);
    if (!read.ok) return answer(read.status, read.reason, [...(read.headers ?? [])]);
    const refusal = authenticate();
    if (refusal !== undefined) return refusal;
    let result: SubscribeAnswer;
    try {
      result = await this.#ports.peer(read.notifierAor).subscribe(read.input.notifierTag === undefined ? { ...read.input, request } : read.input);
    } catch (error) {
      this.#ports.log.warn('presence.peer-failed', { to: read.notifierAor, ...errorFields(error) });
      result = { status: 503 };
    }
    if (result.answered === true) return undefined;
    const ok = result.status >= 200 && result.status < 300;
    return createResponse(request, result.status, result.reason, { toTag: result.toTag ?? randomTag(), headers: ok ? this.#acceptedHeaders(result.expires ?? 0, flow) : [] });
  }

  /** RFC 6665 §4.2.1.1: the 200 carries the Expires granted, and a Contact for the dialog. */
  #acceptedHeaders(expires: number, flow: Pick<Flow, 'transport'>): SipResponse['headers'] {
    return [{ name: 'Expires', value: String(expires) }, { name: 'Contact', value: edgeContact(this.#ports.domain, flow.transport) }];
  }

  /** A response from one of this user's devices to a NOTIFY: passed to the notifier's object; false when it is no NOTIFY's. */
  deviceResponse(response: SipResponse): boolean {
    if (this.#summaries.deviceResponse(response)) return true;
    if (getCSeq(response)?.method !== 'NOTIFY' || response.status < 200) return false;
    const from = getFrom(response);
    const callId = getCallId(response);
    if (from?.tag === undefined || callId === undefined || from.uri.kind !== 'sip') return false;
    const notifier = aorOf(from.uri, this.#ports.domain);
    if (!notifier.ok) return false;
    const answer: NotifyAnswer = { callId, notifierTag: from.tag, status: response.status };
    this.#ports.queue.push(async () => {
      try {
        await this.#ports.peer(notifier.aor).notifyAnswered(answer);
      } catch (error) {
        this.#ports.log.warn('presence.peer-failed', { to: notifier.aor, ...errorFields(error) });
      }
    });
    return true;
  }

  // --- the notifier's side ---

  /** RPC from the watcher's object: an authenticated SUBSCRIBE to this user (RFC 6665 §4.2.1). */
  accept(input: SubscribeInput): SubscribeAnswer {
    const aor = this.#ports.aor();
    if (aor === undefined) return { status: 404 };
    const now = this.#ports.now();
    if (input.notifierTag !== undefined) {
      const current = this.#subs().get(subscriptionKey(input.callId, input.notifierTag));
      // RFC 6665 §4.2.1.2: a refresh of a subscription the notifier does not know gets 481.
      if (current === undefined || current.watcherTag !== input.watcherTag || current.watcherAor !== input.watcherAor || current.expiresAt <= now) return { status: 481 };
      const next = refreshed(current, input, now);
      if (input.expires === 0) this.#notify(next, { kind: 'terminated', reason: 'timeout' });
      else this.#notify(next, { kind: 'active', expiresIn: input.expires });
      return { status: 200, toTag: current.notifierTag, expires: input.expires };
    }
    const created = newSubscription(input, randomTag(), now);
    const subscribe = input.request;
    if (subscribe !== undefined) {
      // The 200 goes out before the first NOTIFY, on the same flow and through the same queue.
      const wire = serializeMessage(createResponse(subscribe, 200, undefined, { toTag: created.notifierTag, headers: this.#acceptedHeaders(input.expires, input.flow) }));
      this.#ports.queue.push(async () => {
        await this.#ports.deliver(input.flow.connectionId, wire);
      });
    }
    // RFC 6665 §4.4.3: Expires 0 on a new subscription is a fetch: one NOTIFY, terminated, nothing kept.
    this.#notify(created, input.expires === 0 ? { kind: 'terminated', reason: 'timeout' } : { kind: 'active', expiresIn: input.expires });
    this.#ports.log.info('presence.subscribed', { watcher: input.watcherAor, package: input.package, expires: input.expires });
    return { status: 200, toTag: created.notifierTag, expires: input.expires, answered: subscribe !== undefined };
  }

  /** RPC from the watcher's object: the device's answer to a NOTIFY. */
  notifyAnswered(answer: NotifyAnswer): void {
    const key = subscriptionKey(answer.callId, answer.notifierTag);
    if (!this.#subs().has(key) || answer.status < 300 || answer.status === 401 || answer.status === 407) return;
    // RFC 6665 §4.2.2: a NOTIFY refused with 481 (or failing otherwise) ends the subscription.
    this.#ports.log.info('presence.notify-refused', { status: answer.status });
    this.#forget(key);
  }

  /** The user's presence changed (registration, publication): every `presence` watcher is told. */
  presenceChanged(): void {
    const now = this.#ports.now();
    for (const subscription of this.subscriptions()) {
      if (subscription.package === 'presence') this.#notify(subscription, activeState(subscription, now));
    }
    this.#announce();
  }

  /** A call half changed (the hook in `workers/call/call-host.ts`): `dialog` watchers are told of a new state. */
  halfChanged(half: HalfCall): void {
    const key = halfKey(half.role, half.id);
    const state = dialogStateOf(half);
    if (this.#reported.get(key) === state) return;
    this.#reported.set(key, state);
    if (this.#reported.size > 256) for (const [each, seen] of this.#reported) if (seen === 'terminated' && each !== key) this.#reported.delete(each);
    const now = this.#ports.now();
    const extra = state === 'terminated' ? [dialogViewOf(half, 'terminated')] : [];
    for (const subscription of this.subscriptions()) {
      if (subscription.package === 'dialog') this.#notify(subscription, activeState(subscription, now), extra);
    }
    // `onCall` in the API's view.
    this.#announce();
  }

  /**
   * RPC from the user's PbxLink: the PBX's message summary (RFC 3842), sent to every registered
   * device and, when it differs from the last one, to every `message-summary` subscriber; resolves
   * to how many devices took it, undefined when the user has no account.
   */
  async messageSummary(body: string): Promise<SummaryOutcome | undefined> {
    const aor = this.#ports.aor();
    if (aor === undefined) return undefined;
    const now = this.#ports.now();
    if (this.#store.summary.save(body, now)) {
      for (const subscription of this.subscriptions()) {
        if (subscription.package === 'message-summary') this.#notify(subscription, activeState(subscription, now));
      }
    }
    const outcome = await this.#summaries.relay(aor, body, this.#ports.bindings(), this.#ports.domain, (connectionId, wire) => this.#ports.deliver(connectionId, wire), serializeMessage);
    this.#ports.log.info('presence.message-summary', { devices: outcome.devices, took: outcome.took });
    return outcome;
  }

  /** The user is being deleted: RFC 6665 §4.1.3, `noresource` to every watcher; publications go. */
  resourceGone(): void {
    const aor = this.#ports.aor();
    if (aor !== undefined) this.#feed?.update(aor, null);
    for (const subscription of this.subscriptions()) this.#notify(subscription, { kind: 'terminated', reason: 'noresource' });
    this.#store.deleteAll();
    this.#subscriptions = new Map();
    this.#publications = [];
  }

  fireTimers(): void {
    const now = this.#ports.now();
    for (const subscription of this.subscriptions()) {
      // RFC 6665 §4.2.2: an expired subscription ends with a NOTIFY, reason=timeout.
      if (subscription.expiresAt <= now) this.#notify(subscription, { kind: 'terminated', reason: 'timeout' });
    }
    const expired = this.#pubs().filter((publication) => publication.expiresAt <= now);
    if (expired.length > 0) {
      for (const publication of expired) this.#store.deletePublication(publication.etag);
      this.#publications = this.#pubs().filter((publication) => publication.expiresAt > now);
      // RFC 3903 §6: an expired publication no longer counts towards the composed state.
      this.presenceChanged();
    }
  }

  nextDeadline(): number | undefined {
    const deadlines = [...[...this.#subs().values()].map((each) => each.expiresAt), ...this.#pubs().map((each) => each.expiresAt)];
    return deadlines.length === 0 ? undefined : Math.min(...deadlines);
  }

  #notify(subscription: Subscription, state: SubscriptionState, extraDialogs: readonly DialogView[] = []): void {
    const aor = this.#ports.aor();
    if (aor === undefined) return;
    const version = subscription.version + 1;
    const next: Subscription = { ...subscription, cseq: subscription.cseq + 1, version };
    const body = next.package === 'presence' ? this.#presenceDocument(aor) : next.package === 'dialog' ? this.#dialogDocument(aor, version, extraDialogs) : (this.#store.summary.load() ?? messageSummary(`sip:${aor}`));
    const wire = serializeMessage(notifyRequest(next, aor, this.#ports.domain, state, body));
    if (state.kind === 'terminated') this.#forget(next.key);
    else {
      this.#subs().set(next.key, next);
      this.#store.saveSubscription(next);
    }
    this.#ports.queue.push(async () => {
      let delivered = false;
      try {
        delivered = await this.#ports.deliver(next.connectionId, wire);
      } catch (error) {
        this.#ports.log.warn('presence.deliver-failed', errorFields(error));
      }
      // RFC 5626 §5.3: the flow failed; the device subscribes again once it is back.
      if (!delivered && this.#subs().has(next.key)) this.#forget(next.key);
      await this.#ports.timersChanged();
    });
  }

  #forget(key: string): void {
    if (this.#subs().delete(key)) this.#store.deleteSubscription(key);
  }

  #latestPublication(now: number): Publication | undefined {
    const live = this.#pubs().filter((publication) => publication.expiresAt > now);
    return live.reduce<Publication | undefined>((best, each) => (best === undefined || each.updatedAt >= best.updatedAt ? each : best), undefined);
  }

  #presenceDocument(aor: string): string {
    return this.#latestPublication(this.#ports.now())?.body ?? pidfDocument(`sip:${aor}`, this.#ports.registered() ? 'open' : 'closed');
  }

  // --- the API's side ---

  /** The user's presence as watchers get it, for the API; undefined when the user has no account. */
  snapshot(): PresenceSnapshot | undefined {
    const aor = this.#ports.aor();
    if (aor === undefined) return undefined;
    const latest = this.#latestPublication(this.#ports.now());
    const registered = this.#ports.registered();
    const pidf = this.#presenceDocument(aor);
    const basic = /<basic>\s*(open|closed)\s*<\/basic>/.exec(pidf)?.[1] === 'open' ? 'open' : 'closed';
    const source = latest === undefined ? 'registration' : latest.etag.startsWith(API_ETAG_PREFIX) ? 'api' : 'device';
    return {
      basic,
      source,
      registered,
      onCall: this.#ports.calls().some((half) => half.phase !== 'ended'),
      pidf,
      ...(latest === undefined ? {} : { until: latest.expiresAt }),
    };
  }

  /**
   * Presence set through the API: composed like a device's PUBLISH (RFC 3903; the newest live
   * publication wins) and notified to every watcher. It replaces the API's previous one; `expires`
   * 0 removes it.
   */
  setFromApi(basic: BasicStatus, note: string | undefined, expires: number): void {
    const aor = this.#ports.aor();
    if (aor === undefined) return;
    const now = this.#ports.now();
    for (const earlier of this.#pubs().filter((publication) => publication.etag.startsWith(API_ETAG_PREFIX))) this.#store.deletePublication(earlier.etag);
    this.#publications = this.#pubs().filter((publication) => !publication.etag.startsWith(API_ETAG_PREFIX));
    if (expires > 0) {
      const body = pidfDocument(`sip:${aor}`, basic, { tupleId: 'sipedge-api', ...(note === undefined ? {} : { note }) });
      const publication: Publication = { etag: `${API_ETAG_PREFIX}${randomTag()}`, contentType: 'application/pidf+xml', body, expiresAt: now + expires * 1000, updatedAt: now };
      this.#store.savePublication(publication);
      this.#publications = [...this.#pubs(), publication];
    }
    this.presenceChanged();
    this.#ports.queue.push(() => this.#ports.timersChanged());
  }

  /** Tells the hub the user's presence as the API shows it, when that changed. */
  #announce(): void {
    const aor = this.#ports.aor();
    if (this.#feed === undefined || aor === undefined) return;
    const snapshot = this.snapshot();
    if (snapshot === undefined) return;
    const { pidf: _pidf, ...view } = snapshot;
    this.#feed.update(aor, view);
  }

  #dialogDocument(aor: string, version: number, extra: readonly DialogView[]): string {
    const live = this.#ports.calls().filter((half) => half.phase !== 'ended').map((half) => dialogViewOf(half));
    return dialogInfoDocument(`sip:${aor}`, version, [...live, ...extra]);
  }
}

function activeState(subscription: Subscription, now: number): SubscriptionState {
  return { kind: 'active', expiresIn: Math.max(0, Math.ceil((subscription.expiresAt - now) / 1000)) };
}
