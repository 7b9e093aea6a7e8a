/**
 * The media sessions of one node, by the id the edge chose for each.
 *
 *   (none) --create--> creating --opened--> live --ended--> ended (a tombstone, kept a while)
 *                         \--failed--> (none)
 *
 * Ids make the API safe to retry: creating again with the same offers returns the same answers (and
 * waits for them if the first attempt is still under way), answers and new offers are retried as
 * `session-exchanges.ts` says, and deleting an ended session returns its final report. A tombstone
 * (`session-ends.ts`) keeps an ended id from being reused for another call, and lets a late retry
 * learn how the session ended.
 *
 * Every end is reported through `onEnd`, with its figures and quality samples for the call's
 * record; one the edge did not ask for (media timeout, browser gone, an error, the node shutting
 * down) has `requested: false`, so the edge BYEs both dialogs. Every
 * session is on its own: an exception while handling one is caught here and never reaches another.
 */
import type { Clock } from '../../shared/clock/index.ts';
import { systemClock } from '../../shared/clock/index.ts';
import type { Direction } from '../../shared/sdp/index.ts';
import type { BrowserConnectionState } from '../browser-leg/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { MediaSession, type LegName, type MediaSessionOptions, type MediaSessionStats, type QualitySamples, type SessionEnd } from '../relay/index.ts';
import { ControlError, notFound } from './control-error.ts';
import { SessionEnds, type EndReason, type SessionEndReport } from './session-ends.ts';
import { SessionExchanges, type AnswerRequest, type OfferRequest, type OfferedBy } from './session-exchanges.ts';
import { addSession, copyTotals, type TrafficTotals } from './traffic-totals.ts';

/** Either party's offer, both (the PBX offered in a 200), or none (the node offers both legs). */
export interface CreateRequest {
  readonly id: string;
  readonly browserOffer?: string;
  readonly pbxOffer?: string;
  /** `sdes`: the node's own offer to the PBX is RTP/SAVP with an SDES key (a PBX's offer sets its own). */
  readonly pbxSrtp?: 'sdes';
  readonly mediaTimeoutMs?: number;
}

export type CreatedView =
  | { readonly id: string; readonly offeredBy: 'browser'; readonly browserAnswer: string; readonly pbxOffer: string }
  | { readonly id: string; readonly offeredBy: 'pbx'; readonly pbxAnswer: string; readonly browserOffer: string }
  | { readonly id: string; readonly offeredBy: 'both'; readonly browserAnswer: string; readonly pbxAnswer: string }
  | { readonly id: string; readonly offeredBy: 'node'; readonly browserOffer: string; readonly pbxOffer: string };

/** A session view with the answer to a party's new offer. */
export type UpdatedView = SessionView & ({ readonly browserAnswer: string } | { readonly pbxAnswer: string });

export interface SessionView {
  readonly id: string;
  readonly offeredBy: OfferedBy;
  readonly state: MediaSessionStats['state'];
  /** ICE + DTLS toward the browser: media reaches it only once `connected`. */
  readonly browserConnection: BrowserConnectionState | 'closed';
  readonly end?: SessionEndReport;
  readonly stats: MediaSessionStats;
  /** Each direction's quality over the call so far (`quality-series.ts`). */
  readonly samples: QualitySamples;
}

export interface SessionRegistryOptions {
  /** What every session is opened with; the registry adds the id, the end handler and the timeout. */
  readonly session: Omit<MediaSessionOptions, 'id' | 'onEnded' | 'mediaTimeoutMs'>;
  readonly mediaTimeoutMs: number;
  readonly maxSessions: number;
  /** How long an ended session's id and report are kept; default 10 minutes. */
  readonly tombstoneMs?: number;
  /** At most this many tombstones, oldest dropped first; default 10,000. */
  readonly maxTombstones?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Every end, the edge's own included (`requested`). */
  readonly onEnd?: (report: SessionEndReport) => void;
}

interface Live {
  readonly kind: 'live';
  readonly request: CreateRequest;
  readonly created: CreatedView;
  readonly session: MediaSession;
  readonly exchanges: SessionExchanges;
  relayingSinceMs: number | undefined;
  closingBy: 'edge' | 'shutdown' | undefined;
}

interface Creating {
  readonly kind: 'creating';
  readonly request: CreateRequest;
  readonly opened: Promise<Live>;
}

interface Ended {
  readonly kind: 'ended';
  readonly request: CreateRequest;
  readonly created: CreatedView;
  readonly report: SessionEndReport;
  readonly endedAtMs: number;
}

type Entry = Creating | Live | Ended;

export class SessionRegistry {
  readonly #options: SessionRegistryOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #ends = new SessionEnds();
  #created = 0;
  #closing = false;

  constructor(options: SessionRegistryOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Opens a session, or returns the one an identical earlier request opened (`replayed`). */
  async create(request: CreateRequest): Promise<{ readonly created: CreatedView; readonly replayed: boolean }> {
    this.#prune();
    const existing = this.#entries.get(request.id);
    if (existing !== undefined) {
      if (!sameCreate(existing.request, request)) {
        throw new ControlError(409, 'id-in-use', 'Session id in use', `session ${request.id} exists with a different offer`);
      }
      if (existing.kind === 'ended') throw new ControlError(409, 'session-ended', 'Session ended', `session ${request.id} has already ended (${existing.report.reason})`);
      const live = existing.kind === 'live' ? existing : await existing.opened;
      return { created: live.created, replayed: true };
    }
    if (this.#closing) throw new ControlError(503, 'shutting-down', 'Shutting down', 'this media node is shutting down');
    if (this.openCount >= this.#options.maxSessions) {
      throw new ControlError(503, 'at-capacity', 'At capacity', `this media node holds its maximum of ${this.#options.maxSessions} sessions`, {
        headers: { 'Retry-After': '1' },
      });
    }
    const opened = this.#open(request);
    this.#entries.set(request.id, { kind: 'creating', request, opened });
    try {
      const live = await opened;
      this.#created++;
      return { created: live.created, replayed: false };
    } catch (error) {
      if (this.#entries.get(request.id)?.kind === 'creating') this.#entries.delete(request.id);
      throw error;
    }
  }

  /** Takes the answer of a party that was offered to, once; the same answer again is a no-op. */
  async answer(id: string, request: AnswerRequest): Promise<SessionView> {
    const live = await this.#live(id);
    await live.exchanges.answer(request);
    if (live.session.state === 'relaying') live.relayingSinceMs ??= this.#clock.now();
    return this.#view(id, live);
  }

  /**
   * A party's new offer (re-INVITE): hold, resume, ICE restart, a new PBX address or codec. The
   * same offer again (a retry) gets the same answer; another offer from the same party while one is
   * being answered is refused (409 `offer-pending`, SIP's 491 Request Pending).
   */
  async offer(id: string, request: OfferRequest): Promise<UpdatedView> {
    const live = await this.#live(id);
    const { leg, answer } = await live.exchanges.offer(request);
    const view = this.#view(id, live);
    return leg === 'browser' ? { ...view, browserAnswer: answer } : { ...view, pbxAnswer: answer };
  }

  /** DTMF toward the PBX as RFC 4733 events; answers how many digits wait, this one included. */
  async dtmf(id: string, digit: string, durationMs: number): Promise<{ readonly id: string; readonly digit: string; readonly durationMs: number; readonly pending: number }> {
    const live = await this.#live(id);
    const pending = live.session.sendDtmf(digit, durationMs);
    return { id, digit, durationMs, pending };
  }

  /** A party's new SDP direction (hold, resume). */
  async setDirections(id: string, directions: Partial<Record<LegName, Direction>>): Promise<SessionView> {
    const live = await this.#live(id);
    for (const leg of ['browser', 'pbx'] as const) {
      const direction = directions[leg];
      if (direction !== undefined) live.session.setRemoteDirection(leg, direction);
    }
    return this.#view(id, live);
  }

  view(id: string): SessionView {
    const entry = this.#entries.get(id);
    if (entry === undefined || entry.kind === 'creating') throw notFound(`no session ${id}`);
    if (entry.kind === 'ended') {
      return { id, offeredBy: entry.created.offeredBy, state: 'ended', browserConnection: 'closed', end: entry.report, stats: entry.report.stats, samples: entry.report.samples };
    }
    return this.#view(id, entry);
  }

  list(): { readonly id: string; readonly state: string }[] {
    this.#prune();
    return [...this.#entries].map(([id, entry]) => ({ id, state: entry.kind === 'live' ? entry.session.state : entry.kind }));
  }

  /** Ends a session at the edge's request; an ended one returns its report again. */
  async delete(id: string): Promise<SessionEndReport> {
    const entry = this.#entries.get(id);
    if (entry === undefined) throw notFound(`no session ${id}`);
    if (entry.kind === 'ended') return entry.report;
    const live = entry.kind === 'live' ? entry : await entry.opened.catch(() => undefined);
    if (live === undefined) throw notFound(`no session ${id}`);
    live.closingBy ??= 'edge';
    await live.session.close();
    const ended = this.#entries.get(id);
    if (ended?.kind !== 'ended') throw new Error(`session ${id} closed without reporting its end`);
    return ended.report;
  }

  /** Shutdown: refuses new sessions and ends every one, each reported as `node-shutdown`. */
  async closeAll(): Promise<void> {
    this.#closing = true;
    const pending = [...this.#entries.values()].map(async (entry) => {
      const live = entry.kind === 'live' ? entry : entry.kind === 'creating' ? await entry.opened.catch(() => undefined) : undefined;
      if (live === undefined || live.session.state === 'ended') return;
      live.closingBy ??= 'shutdown';
      await live.session.close();
    });
    await Promise.all(pending);
  }

  /** Sessions open or opening: cheap, for `/health` and heartbeats. */
  get openCount(): number {
    return this.#entries.size - this.#ends.count;
  }

  /** Sessions open or opening, by what they wait for (reads every session's stats: for scrapes). */
  counts(): { readonly open: number; readonly relaying: number; readonly awaitingAnswer: number; readonly transcoding: number } {
    let open = 0;
    let relaying = 0;
    let transcoding = 0;
    for (const entry of this.#entries.values()) {
      if (entry.kind === 'ended') continue;
      open++;
      if (entry.kind !== 'live' || entry.session.state !== 'relaying') continue;
      relaying++;
      const stats = entry.session.stats();
      if (stats.browserToPbx?.path !== 'pass-through' || stats.pbxToBrowser?.path !== 'pass-through') transcoding++;
    }
    return { open, relaying, awaitingAnswer: open - relaying, transcoding };
  }

  get capacity(): number {
    return this.#options.maxSessions;
  }

  get createdTotal(): number {
    return this.#created;
  }

  get endedByReason(): ReadonlyMap<EndReason, number> {
    return this.#ends.byReason;
  }

  /** Counters over every session, ended and live. */
  totals(): TrafficTotals {
    const totals = copyTotals(this.#ends.totals);
    for (const entry of this.#entries.values()) {
      if (entry.kind === 'live') addSession(totals, entry.session.stats());
    }
    return totals;
  }

  /** Seconds sessions have spent relaying, summed: the denominator of CPU per call. */
  relayingSeconds(): number {
    const now = this.#clock.now();
    let ms = this.#ends.relayingSeconds * 1000;
    for (const entry of this.#entries.values()) {
      if (entry.kind === 'live' && entry.relayingSinceMs !== undefined) ms += now - entry.relayingSinceMs;
    }
    return ms / 1000;
  }

  async #open(request: CreateRequest): Promise<Live> {
    const holder: { live?: Live; earlyEnd?: SessionEnd } = {};
    const options = {
      ...this.#options.session,
      id: request.id,
      mediaTimeoutMs: request.mediaTimeoutMs ?? this.#options.mediaTimeoutMs,
      ...(request.pbxSrtp === undefined ? {} : { pbx: { ...this.#options.session.pbx, srtp: request.pbxSrtp } }),
      onEnded: (end: SessionEnd) => {
        if (holder.live === undefined) holder.earlyEnd = end;
        else this.#onEnded(request.id, holder.live, end);
      },
    };
    let live: Live;
    const { browserOffer, pbxOffer } = request;
    if (browserOffer !== undefined && pbxOffer !== undefined) {
      const { session, browserAnswer, pbxAnswer } = await MediaSession.createForBothOffers({ ...options, browserOffer, pbxOffer });
      live = this.#liveEntry(request, session, { id: request.id, offeredBy: 'both', browserAnswer, pbxAnswer });
      live.relayingSinceMs = this.#clock.now();
    } else if (browserOffer !== undefined) {
      const { session, browserAnswer, pbxOffer: offer } = await MediaSession.create({ ...options, browserOffer });
      live = this.#liveEntry(request, session, { id: request.id, offeredBy: 'browser', browserAnswer, pbxOffer: offer });
    } else if (pbxOffer !== undefined) {
      const { session, pbxAnswer, browserOffer: offer } = await MediaSession.createForPbxOffer({ ...options, pbxOffer });
      live = this.#liveEntry(request, session, { id: request.id, offeredBy: 'pbx', pbxAnswer, browserOffer: offer });
    } else {
      const { session, browserOffer: toBrowser, pbxOffer: toPbx } = await MediaSession.createOffering(options);
      live = this.#liveEntry(request, session, { id: request.id, offeredBy: 'node', browserOffer: toBrowser, pbxOffer: toPbx });
    }
    holder.live = live;
    this.#entries.set(request.id, live);
    if (holder.earlyEnd !== undefined) this.#onEnded(request.id, live, holder.earlyEnd);
    else if (this.#closing) {
      // Opened while the node began shutting down: it must not outlive the others.
      live.closingBy = 'shutdown';
      void live.session.close();
    }
    return live;
  }

  #liveEntry(request: CreateRequest, session: MediaSession, created: CreatedView): Live {
    return { kind: 'live', request, created, session, exchanges: new SessionExchanges(request.id, session, created.offeredBy), relayingSinceMs: undefined, closingBy: undefined };
  }

  async #live(id: string): Promise<Live> {
    const entry = this.#entries.get(id);
    if (entry === undefined) throw notFound(`no session ${id}`);
    if (entry.kind === 'ended') throw new ControlError(409, 'session-ended', 'Session ended', `session ${id} has ended (${entry.report.reason})`);
    const live = entry.kind === 'live' ? entry : await entry.opened;
    if (live.session.state === 'ended') throw new ControlError(409, 'session-ended', 'Session ended', `session ${id} has ended`);
    return live;
  }

  #view(id: string, live: Live): SessionView {
    const stats = live.session.stats();
    return { id, offeredBy: live.created.offeredBy, state: stats.state, browserConnection: live.session.browserConnectionState, stats, samples: live.session.samples() };
  }

  #onEnded(id: string, live: Live, end: SessionEnd): void {
    try {
      const now = this.#clock.now();
      const ending = { stats: live.session.stats(), samples: live.session.samples(), closingBy: live.closingBy, relayingSinceMs: live.relayingSinceMs };
      const report = this.#ends.record(id, ending, end, now);
      this.#entries.set(id, { kind: 'ended', request: live.request, created: live.created, report, endedAtMs: now });
      this.#options.onEnd?.(report);
    } catch (error) {
      this.#logger.error('session end handling failed', { call: id, error: String(error) });
    }
  }

  #prune(): void {
    const dropped = this.#ends.prune(this.#clock.now(), this.#options.tombstoneMs ?? 600_000, this.#options.maxTombstones ?? 10_000);
    for (const id of dropped) this.#entries.delete(id);
  }
}

function sameCreate(a: CreateRequest, b: CreateRequest): boolean {
  return a.browserOffer === b.browserOffer && a.pbxOffer === b.pbxOffer && a.pbxSrtp === b.pbxSrtp;
}
