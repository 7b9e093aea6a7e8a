/**
 * One call's media: a browser leg (werift, ICE + DTLS-SRTP) joined to a PBX leg (plain RTP/AVP) by
 * one path per direction.
 *
 *   create(browser offer)      -> browser answer + PBX offer   (awaiting-pbx-answer)
 *     takePbxAnswer(answer)    -> paths chosen, media relayed  (relaying)
 *   createForPbxOffer(offer)   -> PBX answer + browser offer   (awaiting-browser-answer)
 *     takeBrowserAnswer(answer)-> paths chosen, media relayed  (relaying)
 *   createForBothOffers(offers)-> browser answer + PBX answer  (relaying)
 *   createOffering()           -> browser offer + PBX offer    (awaiting-answers)
 *     takeBrowserAnswer, takePbxAnswer, in either order      (relaying once both are in)
 *   relaying: takeBrowserOffer / takePbxOffer (re-INVITE) -> an answer; still relaying
 *   close() / media timeout / browser connection lost / frame error      (ended, once)
 *
 * Whichever party offers is answered at once by its own leg's preferences, and the other party is
 * offered what can be relayed to and from that codec (`session-setup.ts`). The second answer fixes
 * each direction's path: pass-through when the legs share the codec, Opus <-> G.711 transcoding
 * otherwise.
 *
 * Hold (RFC 3264 §8.4): each party's latest SDP direction is kept, and a direction carries media
 * only while its sender sends and its receiver receives (`session-relay.ts`). A new offer from
 * either party while relaying (re-INVITE) is answered at once: a new direction, a new PBX address
 * (the latch opens again), an ICE restart on the browser leg, or a new PBX codec, for which both
 * paths are rebuilt; each leg's outgoing stream goes on with the same SSRC and continuous counters
 * (`OutgoingStream`). What has been settled with the PBX, and how its answer and new offers move
 * it on, is `pbx-negotiation.ts`.
 *
 * Media timeout: once relaying, a party that should be sending and has sent nothing for
 * `mediaTimeoutMs` ends the session with a reason the control layer reports to the edge, which
 * sends BYE on both dialogs.
 *
 * Everything that arrives from the network or the frame clock runs inside a guard: an exception is
 * caught, counted and logged, and stays in this session. An exception on the frame clock ends the
 * session (it would recur every 20 ms); one on a packet only drops that packet.
 */
import type { Clock } from '../../shared/clock/index.ts';
import { systemClock } from '../../shared/clock/index.ts';
import { parseSdp, serializeSdp, type CodecFormat, type Direction } from '../../shared/sdp/index.ts';
import { BrowserLegError, type BrowserConnectionState, type BrowserLeg, type BrowserRtp } from '../browser-leg/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { DEFAULT_SAMPLE_INTERVAL_MS } from '../quality/index.ts';
import type { PbxLeg } from '../pbx-leg/index.ts';
import type { RtcpCompound, RtpHeaderFields } from '../rtp/index.ts';
import type { FrameListener } from './frame-ticker.ts';
import { fromPbx } from './leg-adapters.ts';
import type { LegFormats } from './leg-formats.ts';
import type {
  BothOffersCallOptions,
  BrowserCallOptions,
  CreatedBothSession,
  CreatedOfferingSession,
  CreatedPbxSession,
  CreatedSession,
  MediaSessionOptions,
  PbxCallOptions,
  SessionEnd,
} from './media-session-options.ts';
import type { LegName } from './media-watchdog.ts';
import { PbxNegotiation } from './pbx-negotiation.ts';
import { sameLegFormats } from './pbx-reoffer.ts';
import { MediaSessionError, pathKind } from './session-negotiation.ts';
import { browserDirection, setUpBothOffers, setUpBrowserCall, setUpNodeOffers, setUpPbxCall, type SessionParts } from './session-setup.ts';
import { SessionRelay, type QualitySamples } from './session-relay.ts';
import type { MediaSessionStats, SessionState } from './session-stats.ts';

const DEFAULT_MEDIA_TIMEOUT_MS = 30_000;

export class MediaSession {
  readonly id: string;
  /** Resolves once, with why the session ended. */
  readonly ended: Promise<SessionEnd>;
  readonly #options: MediaSessionOptions;
  readonly #browser: BrowserLeg;
  readonly #pbx: PbxLeg;
  /** What has been settled with the PBX, over the same leg as `#pbx`. */
  readonly #pbxSide: PbxNegotiation;
  /** Browser codecs offered, while the browser's answer is awaited (the node offered both legs). */
  readonly #browserOffered: readonly CodecFormat[];
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #listener: FrameListener;
  readonly #directions: Record<LegName, Direction>;
  #resolveEnded: (end: SessionEnd) => void = () => {};
  #state: SessionState;
  /** The browser leg's formats, once negotiated (the PBX side's are in `#pbxSide`). */
  #browserFormats: LegFormats | undefined;
  /** Both directions, once relaying. */
  #relay: SessionRelay | undefined;
  #beforeAnswer = 0;
  #errors = 0;
  /** Both legs closing, once the session has ended. */
  #released: Promise<void> = Promise.resolve();

  private constructor(options: MediaSessionOptions, parts: SessionParts) {
    this.id = options.id ?? crypto.randomUUID();
    this.#options = options;
    this.#browser = parts.browser;
    this.#pbx = parts.pbx;
    this.#pbxSide = new PbxNegotiation(parts, options.pbx);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#state = INITIAL_STATE[parts.waitingFor];
    this.#directions = { ...parts.directions };
    this.#browserOffered = parts.browserOffered ?? [];
    const codecs = parts.browser.codecs;
    if (codecs !== undefined) this.#browserFormats = { audio: codecs.audio, telephoneEvent: codecs.telephoneEvent };
    this.ended = new Promise((resolve) => {
      this.#resolveEnded = resolve;
    });
    this.#listener = {
      onFrame: (nowMs) => this.#onFrame(nowMs),
      onFrameError: (error) => {
        this.#errors++;
        void this.#end({ reason: 'error', message: `frame clock: ${String(error)}` });
      },
    };
    parts.router.browserRtp = (packet) => this.#onBrowserRtp(packet);
    parts.router.browserState = (state) => this.#onBrowserState(state);
    parts.router.pbxRtp = (packet, header) => this.#onPbxRtp(packet, header);
    parts.router.pbxRtcp = (compound) => this.#onPbxRtcp(compound);
    options.ticker.add(this.#listener);
    if (this.#state === 'relaying') this.#startRelayingIfSettled();
  }

  /**
   * A call from the browser: answers its offer and prepares the PBX offer. Throws `BrowserLegError`
   * for an offer the browser leg refuses, `MediaSessionError` when nothing can be offered to the
   * PBX, and `PortRangeExhaustedError` when no RTP port is free; nothing stays open after a throw.
   */
  static async create(options: BrowserCallOptions): Promise<CreatedSession> {
    const { parts, browserAnswer, pbxOffer } = await setUpBrowserCall(options);
    const session = new MediaSession(options, parts);
    session.#logger.info('media session created for a browser offer', { call: session.id, browserCodec: parts.browser.codecs?.audio.name, pbxPort: parts.pbx.rtpPort });
    return { session, browserAnswer, pbxOffer };
  }

  /**
   * A call from the PBX: answers its offer and prepares the browser offer. Throws
   * `MediaSessionError` for an offer the node cannot relay, `BrowserLegError` and
   * `PortRangeExhaustedError` as `create` does; nothing stays open after a throw.
   */
  static async createForPbxOffer(options: PbxCallOptions): Promise<CreatedPbxSession> {
    const { parts, pbxAnswer, browserOffer } = await setUpPbxCall(options);
    const session = new MediaSession(options, parts);
    session.#logger.info('media session created for a PBX offer', { call: session.id, pbxCodec: parts.pbxFormats?.audio.name, pbxPort: parts.pbx.rtpPort });
    return { session, pbxAnswer, browserOffer };
  }

  /**
   * The PBX offered in its 200 to an INVITE without SDP: answers both offers and starts relaying.
   * Throws as `create` and `createForPbxOffer` do; nothing stays open after a throw.
   */
  static async createForBothOffers(options: BothOffersCallOptions): Promise<CreatedBothSession> {
    const { parts, browserAnswer, pbxAnswer } = await setUpBothOffers(options);
    const session = new MediaSession(options, parts);
    session.#logger.info('media session created for two offers', { call: session.id, browserCodec: parts.browser.codecs?.audio.name, pbxCodec: parts.pbxFormats?.audio.name });
    return { session, browserAnswer, pbxAnswer };
  }

  /**
   * No offer from anyone (an INVITE without SDP from the PBX): offers both legs; the answers go to
   * `takeBrowserAnswer` and `takePbxAnswer`, in either order.
   */
  static async createOffering(options: MediaSessionOptions): Promise<CreatedOfferingSession> {
    const { parts, browserOffer, pbxOffer } = await setUpNodeOffers(options);
    const session = new MediaSession(options, parts);
    session.#logger.info('media session created offering both legs', { call: session.id, pbxPort: parts.pbx.rtpPort });
    return { session, browserOffer, pbxOffer };
  }

  get state(): SessionState {
    return this.#state;
  }

  /** The browser leg's ICE + DTLS state: media reaches the browser only once it is `connected`. */
  get browserConnectionState(): BrowserConnectionState {
    return this.#browser.connectionState;
  }

  /** The UDP port of the PBX leg (also in the PBX's SDP). */
  get pbxRtpPort(): number {
    return this.#pbx.rtpPort;
  }

  /**
   * The PBX's answer to the node's offer (a call from the browser, or the node offering both
   * legs); relaying starts once both legs are settled. Throws `MediaSessionError`.
   */
  takePbxAnswer(answer: string): void {
    const waiting = this.#state === 'awaiting-pbx-answer' || (this.#state === 'awaiting-answers' && this.#pbxSide.formats === undefined);
    if (!waiting) throw new MediaSessionError('wrong-state', `the session is ${this.#state} and takes no PBX answer`);
    this.#directions.pbx = this.#pbxSide.takeAnswer(answer, this.#browserFormats?.audio ?? this.#browserOffered);
    this.#startRelayingIfSettled();
  }

  /**
   * The browser's answer to the node's offer (a call from the PBX, or the node offering both legs);
   * relaying starts once both legs are settled. Throws `BrowserLegError` for an answer the browser
   * leg refuses, `MediaSessionError` in the wrong state.
   */
  async takeBrowserAnswer(answer: string): Promise<void> {
    const waiting = this.#state === 'awaiting-browser-answer' || (this.#state === 'awaiting-answers' && this.#browserFormats === undefined);
    if (!waiting) throw new MediaSessionError('wrong-state', `the session is ${this.#state} and takes no browser answer`);
    await this.#browser.acceptAnswer(answer);
    const codecs = this.#browser.codecs;
    if (codecs === undefined) throw new BrowserLegError('no-common-codec', 'the browser answer settled no codec');
    if ((this.#state as SessionState) === 'ended') return;
    this.#directions.browser = browserDirection(parseSdp(answer));
    this.#browserFormats = { audio: codecs.audio, telephoneEvent: codecs.telephoneEvent };
    this.#startRelayingIfSettled();
  }

  /**
   * A new offer from the browser while relaying (re-INVITE: hold, resume, ICE restart); returns the
   * answer. The browser leg keeps its codec; a new payload type number for it rebuilds the paths.
   * Throws `BrowserLegError` for an offer the leg refuses, `MediaSessionError` in the wrong state.
   */
  async takeBrowserOffer(offer: string): Promise<string> {
    this.#requireRelaying();
    const { answer, codecs } = await this.#browser.takeOffer(offer);
    if ((this.#state as SessionState) === 'ended') throw new MediaSessionError('wrong-state', 'the session ended');
    this.setRemoteDirection('browser', browserDirection(parseSdp(offer)));
    const formats: LegFormats = { audio: codecs.audio, telephoneEvent: codecs.telephoneEvent };
    if (!sameLegFormats(formats, this.#browserFormats)) {
      this.#browserFormats = formats;
      this.#buildPaths();
    }
    this.#logger.info('browser re-offer answered', { call: this.id, direction: this.#directions.browser });
    return answer;
  }

  /**
   * A new offer from the PBX while relaying (re-INVITE); returns the answer, under the origin of the
   * node's earlier PBX SDP with its version moved on (RFC 3264 §8). A new address opens the latch
   * again; `a=sendonly`, `a=inactive` or the RFC 2543 `c=0.0.0.0` form put the browser on hold
   * (RFC 3264 §8.4) without moving the latch; a codec change rebuilds both paths, preferring the
   * codec in use while the offer still has it. Throws `MediaSessionError`.
   */
  takePbxOffer(offer: string): string {
    this.#requireRelaying();
    const plan = this.#pbxSide.takeOffer(offer, (this.#browserFormats as LegFormats).audio);
    this.setRemoteDirection('pbx', plan.direction);
    if (plan.rebuild) this.#buildPaths();
    this.#logger.info('pbx re-offer answered', { call: this.id, direction: plan.direction, moved: plan.moved !== undefined, codec: plan.formats.audio.name });
    return serializeSdp(plan.answer);
  }

  /**
   * Sends `digit` toward the PBX as RFC 4733 events lasting `durationMs`, behind any digits still
   * being sent. The PBX leg must have negotiated telephone-event (`no-telephone-event` otherwise:
   * the edge then relays the browser's SIP INFO as it is).
   */
  sendDtmf(digit: string, durationMs: number): number {
    this.#requireRelaying();
    const event = this.#pbxSide.formats?.telephoneEvent;
    if (event === undefined) throw new MediaSessionError('no-telephone-event', 'the PBX leg negotiated no telephone-event');
    const relay = this.#relay as SessionRelay;
    relay.dtmf.enqueue(digit, durationMs, event.clockRate);
    this.#logger.info('dtmf queued', { call: this.id, digit, durationMs });
    return relay.dtmf.pending;
  }

  #requireRelaying(): void {
    if (this.#state !== 'relaying') throw new MediaSessionError('wrong-state', `the session is ${this.#state}: a new offer needs both legs settled`);
  }

  #startRelayingIfSettled(): void {
    const browserFormats = this.#browserFormats;
    const pbxFormats = this.#pbxSide.formats;
    if (browserFormats === undefined || pbxFormats === undefined) {
      this.#state = 'awaiting-answers';
      return;
    }
    if (pathKind(browserFormats.audio, pbxFormats.audio) === undefined) {
      throw new MediaSessionError('no-common-codec', `no path between the browser's ${browserFormats.audio.name} and the PBX's ${pbxFormats.audio.name}`);
    }
    const relay = new SessionRelay(
      { id: this.id, browser: this.#browser, pbx: this.#pbx, clock: this.#clock, jitterBuffer: this.#options.jitterBuffer, opus: this.#options.opus },
      { browser: browserFormats, pbx: pbxFormats },
      this.#directions,
      this.#options.mediaTimeoutMs ?? DEFAULT_MEDIA_TIMEOUT_MS,
      this.#clock.now(),
      this.#options.sampling,
    );
    this.#relay = relay;
    this.#state = 'relaying';
    this.#logger.info('media session relaying', { call: this.id, toPbx: relay.paths.toPbx.kind, toBrowser: relay.paths.toBrowser.kind });
  }

  /** Rebuilds both paths from the legs' current formats; each leg's outgoing stream goes on. */
  #buildPaths(): void {
    this.#relay?.paths.rebuild(this.#browserFormats as LegFormats, this.#pbxSide.formats as LegFormats);
  }

  /**
   * A party's new direction, as its latest SDP declared it (RFC 3264 §8.4: `sendonly` or
   * `inactive` puts the other on hold, `sendrecv` resumes). Media stops or flows accordingly, and
   * that party's media timeout starts afresh.
   */
  setRemoteDirection(leg: LegName, direction: Direction): void {
    this.#directions[leg] = direction;
    this.#relay?.expect(leg, direction, this.#clock.now());
  }

  stats(): MediaSessionStats {
    const pbxCodec = this.#pbxSide.formats?.audio;
    const browserCodec = this.#browserFormats?.audio;
    return {
      id: this.id,
      state: this.#state,
      codecs: { browser: browserCodec && `${browserCodec.name}/${browserCodec.clockRate}`, pbx: pbxCodec && `${pbxCodec.name}/${pbxCodec.clockRate}` },
      directions: { ...this.#directions },
      ...(this.#relay === undefined || browserCodec === undefined || pbxCodec === undefined
        ? { browserToPbx: undefined, pbxToBrowser: undefined }
        : this.#relay.stats({ browser: browserCodec.name, pbx: pbxCodec.name })),
      browserLeg: { ...this.#browser.counters },
      pbxLeg: { ...this.#pbx.counters, dropped: { ...this.#pbx.counters.dropped } },
      beforeAnswer: this.#beforeAnswer,
      errors: this.#errors,
    };
  }

  /** Each direction's quality over the call, sampled while relaying (none before). */
  samples(): QualitySamples {
    return this.#relay?.samples() ?? { intervalMs: this.#options.sampling?.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS, browserToPbx: [], pbxToBrowser: [] };
  }

  /** Ends the session (the control layer's BYE): releases both legs. */
  async close(): Promise<void> {
    await this.#end({ reason: 'closed' });
    await this.#released;
  }

  // The two per-packet handlers guard themselves inline: no closure per packet through #guard.
  #onBrowserRtp(inbound: BrowserRtp): void {
    if (this.#state === 'ended') return;
    try {
      const now = this.#clock.now();
      if (this.#relay === undefined) {
        this.#beforeAnswer++;
        return;
      }
      this.#relay.fromBrowser(inbound, now, inbound.payloadType === this.#browserFormats?.audio.payloadType);
    } catch (error) {
      this.#handlerThrew(error);
    }
  }

  #onPbxRtp(packet: Uint8Array, header: RtpHeaderFields): void {
    if (this.#state === 'ended') return;
    try {
      const now = this.#clock.now();
      const payloadType = this.#pbxSide.payloadType(header.payloadType);
      if (payloadType === undefined || this.#relay === undefined) {
        this.#beforeAnswer++;
        return;
      }
      this.#relay.fromPbx(fromPbx(packet, header, payloadType), now, payloadType === this.#pbxSide.formats?.audio.payloadType);
    } catch (error) {
      this.#handlerThrew(error);
    }
  }

  #onPbxRtcp(compound: RtcpCompound): void {
    this.#guard(() => this.#relay?.onPbxRtcp(compound, this.#clock.now()));
  }

  #onBrowserState(state: BrowserConnectionState): void {
    // 'disconnected' may recover (ICE consent, RFC 7675); 'failed' and 'closed' do not.
    if (state === 'failed' || state === 'closed') void this.#end({ reason: 'browser-connection-lost', state });
  }

  #onFrame(nowMs: number): void {
    if (this.#state !== 'relaying' || this.#relay === undefined) return;
    const { report, silence } = this.#relay.onFrame(nowMs);
    if (report !== undefined) this.#pbx.sendRtcp(report);
    if (silence !== undefined) {
      this.#logger.warn('media timeout', { call: this.id, leg: silence.leg, silentMs: silence.silentMs });
      void this.#end({ reason: 'media-timeout', leg: silence.leg, silentMs: silence.silentMs });
    }
  }

  #guard(handle: () => void): void {
    if (this.#state === 'ended') return;
    try {
      handle();
    } catch (error) {
      this.#handlerThrew(error);
    }
  }

  #handlerThrew(error: unknown): void {
    this.#errors++;
    this.#logger.error('media session handler threw', { call: this.id, error: String(error) });
  }

  async #end(end: SessionEnd): Promise<void> {
    if (this.#state === 'ended') return;
    this.#relay?.finish(this.#clock.now());
    this.#state = 'ended';
    this.#options.ticker.remove(this.#listener);
    this.#logger.info('media session ended', { call: this.id, ...end });
    this.#resolveEnded(end);
    try {
      this.#options.onEnded?.(end);
    } catch (error) {
      this.#logger.error('onEnded threw', { call: this.id, error: String(error) });
    }
    this.#released = Promise.all([this.#browser.close(), this.#pbx.close()]).then(() => undefined);
    await this.#released;
  }
}

const INITIAL_STATE: Readonly<Record<SessionParts['waitingFor'], SessionState>> = {
  'pbx-answer': 'awaiting-pbx-answer',
  'browser-answer': 'awaiting-browser-answer',
  'both-answers': 'awaiting-answers',
  nothing: 'relaying',
};
