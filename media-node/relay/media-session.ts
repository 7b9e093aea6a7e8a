/**
 * One call's media: a browser leg (werift, ICE + DTLS-SRTP) joined to a PBX leg (plain RTP/AVP) by
 * one path per direction.
 *
 *   create(browser offer)      -> browser answer + PBX offer   (awaiting-pbx-answer)
 *     takePbxAnswer(answer)    -> paths chosen, media relayed  (relaying)
 *   createForPbxOffer(offer)   -> PBX answer + browser offer   (awaiting-browser-answer)
 *     takeBrowserAnswer(answer)-> paths chosen, media relayed  (relaying)
 *   close() / media timeout / browser connection lost / frame error      (ended, once)
 *
 * Whichever party offers is answered at once by its own leg's preferences, and the other party is
 * offered what can be relayed to and from that codec (`session-setup.ts`). The second answer fixes
 * each direction's path: pass-through when the legs share the codec, Opus <-> G.711 transcoding
 * otherwise.
 *
 * Hold (RFC 3264 §8.4): each party's latest SDP direction is kept, and a direction carries media
 * only while its sender sends and its receiver receives. Media timeout: once relaying, a party
 * that should be sending and has sent nothing for `mediaTimeoutMs` ends the session with a
 * reason the control layer reports to the edge, which sends BYE on both dialogs.
 *
 * Everything that arrives from the network or the frame clock runs inside a guard: an exception is
 * caught, counted and logged, and stays in this session. An exception on the frame clock ends the
 * session (it would recur every 20 ms); one on a packet only drops that packet.
 */
import type { RtpPacket } from 'werift';
import type { Clock } from '../../shared/clock/index.ts';
import { systemClock } from '../../shared/clock/index.ts';
import { parseSdp, type CodecInput, type Direction } from '../../shared/sdp/index.ts';
import { BrowserLegError, type BrowserConnectionState, type BrowserLeg } from '../browser-leg/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { PbxLeg } from '../pbx-leg/index.ts';
import { ReceiveStatistics } from '../quality/index.ts';
import { randomStreamStart, type RtcpCompound, type RtpHeaderFields } from '../rtp/index.ts';
import type { FrameListener } from './frame-ticker.ts';
import { fromBrowser, fromPbx, toBrowser, toPbx } from './leg-adapters.ts';
import type { LegFormats } from './leg-formats.ts';
import type { InboundPacket, MediaPath } from './media-path.ts';
import type { BrowserCallOptions, CreatedPbxSession, CreatedSession, MediaSessionOptions, PbxCallOptions, SessionEnd } from './media-session-options.ts';
import { MediaWatchdog, type LegName } from './media-watchdog.ts';
import { createPath } from './path-factory.ts';
import { PbxRtcpReporter } from './pbx-rtcp-reporter.ts';
import { MediaSessionError, readPbxAnswer } from './session-negotiation.ts';
import { browserDirection, parsePbxSdp, setUpBrowserCall, setUpPbxCall, type SessionParts } from './session-setup.ts';
import { directionStats, type MediaSessionStats, type SessionState } from './session-stats.ts';

const DEFAULT_MEDIA_TIMEOUT_MS = 30_000;

export class MediaSession {
  readonly id: string;
  /** Resolves once, with why the session ended. */
  readonly ended: Promise<SessionEnd>;
  readonly #options: MediaSessionOptions;
  readonly #browser: BrowserLeg;
  readonly #pbx: PbxLeg;
  readonly #pbxOffered: readonly CodecInput[];
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #pbxStream = randomStreamStart();
  readonly #listener: FrameListener;
  readonly #directions: Record<LegName, Direction>;
  #resolveEnded: (end: SessionEnd) => void = () => {};
  #state: SessionState;
  /** Each leg's formats, once negotiated (both are, once relaying). */
  #browserFormats: LegFormats | undefined;
  #pbxFormats: LegFormats | undefined;
  /** Payload types the PBX may send, to this leg's canonical ones. */
  #aliases: ReadonlyMap<number, number> = new Map();
  #fromBrowser: ReceiveStatistics | undefined;
  #fromPbx: ReceiveStatistics | undefined;
  #toPbx: MediaPath | undefined;
  #toBrowser: MediaPath | undefined;
  #watchdog: MediaWatchdog | undefined;
  /** RTCP toward the PBX, once the clock of what the node sends it is settled. */
  #rtcp: PbxRtcpReporter | undefined;
  #beforeAnswer = 0;
  #errors = 0;
  /** Both legs closing, once the session has ended. */
  #released: Promise<void> = Promise.resolve();

  private constructor(options: MediaSessionOptions, parts: SessionParts) {
    this.id = options.id ?? crypto.randomUUID();
    this.#options = options;
    this.#browser = parts.browser;
    this.#pbx = parts.pbx;
    this.#pbxOffered = parts.pbxOffered;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#state = parts.waitingFor === 'pbx-answer' ? 'awaiting-pbx-answer' : 'awaiting-browser-answer';
    this.#directions = { ...parts.directions };
    this.#pbxFormats = parts.pbxFormats;
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

  /** A call from the browser: takes the PBX's answer and starts relaying. Throws `MediaSessionError`. */
  takePbxAnswer(answer: string): void {
    const browserFormats = this.#browserFormats;
    if (this.#state !== 'awaiting-pbx-answer' || browserFormats === undefined) throw new MediaSessionError('wrong-state', `the session is ${this.#state}`);
    const settled = readPbxAnswer(parsePbxSdp(answer), browserFormats.audio, this.#pbxOffered);
    this.#pbx.update({ remote: settled.remote, payloadTypes: settled.aliases.keys() });
    this.#directions.pbx = settled.direction;
    this.#startRelaying(browserFormats, { audio: settled.audio, telephoneEvent: settled.telephoneEvent }, settled.aliases);
  }

  /**
   * A call from the PBX: takes the browser's answer and starts relaying. Throws `BrowserLegError`
   * for an answer the browser leg refuses, `MediaSessionError` in the wrong state.
   */
  async takeBrowserAnswer(answer: string): Promise<void> {
    const pbxFormats = this.#pbxFormats;
    if (this.#state !== 'awaiting-browser-answer' || pbxFormats === undefined) throw new MediaSessionError('wrong-state', `the session is ${this.#state}`);
    await this.#browser.acceptAnswer(answer);
    const codecs = this.#browser.codecs;
    if (codecs === undefined) throw new BrowserLegError('no-common-codec', 'the browser answer settled no codec');
    if ((this.#state as SessionState) === 'ended') return;
    this.#directions.browser = browserDirection(parseSdp(answer));
    const identity = new Map(this.#pbxOffered.map((codec) => [codec.payloadType, codec.payloadType]));
    this.#startRelaying({ audio: codecs.audio, telephoneEvent: codecs.telephoneEvent }, pbxFormats, identity);
  }

  #startRelaying(browserFormats: LegFormats, pbxFormats: LegFormats, aliases: ReadonlyMap<number, number>): void {
    this.#browserFormats = browserFormats;
    this.#pbxFormats = pbxFormats;
    this.#aliases = aliases;
    this.#fromBrowser = new ReceiveStatistics(browserFormats.audio.clockRate);
    this.#fromPbx = new ReceiveStatistics(pbxFormats.audio.clockRate);
    const rtcp = new PbxRtcpReporter({ ssrc: this.#pbxStream.ssrc, cname: `sipedge-${this.id}`, clockRate: pbxFormats.audio.clockRate });
    this.#rtcp = rtcp;
    const common = { jitterBuffer: this.#options.jitterBuffer, opus: this.#options.opus };
    const toPbxLeg = toPbx(this.#pbx, rtcp, () => this.#clock.now());
    this.#toPbx = createPath({ ...common, incoming: browserFormats, outgoing: pbxFormats, out: toPbxLeg, stream: this.#pbxStream });
    const browserStream = { ...randomStreamStart(), ...(this.#browser.sendSsrc === undefined ? {} : { ssrc: this.#browser.sendSsrc }) };
    this.#toBrowser = createPath({ ...common, incoming: pbxFormats, outgoing: browserFormats, out: toBrowser(this.#browser), stream: browserStream });
    this.#watchdog = new MediaWatchdog(this.#options.mediaTimeoutMs ?? DEFAULT_MEDIA_TIMEOUT_MS, this.#clock.now(), {
      browser: sends(this.#directions.browser),
      pbx: sends(this.#directions.pbx),
    });
    this.#state = 'relaying';
    this.#logger.info('media session relaying', { call: this.id, toPbx: this.#toPbx.kind, toBrowser: this.#toBrowser.kind });
  }

  /**
   * A party's new direction, as its latest SDP declared it (RFC 3264 §8.4: `sendonly` or
   * `inactive` puts the other on hold, `sendrecv` resumes). Media stops or flows accordingly, and
   * that party's media timeout starts afresh.
   */
  setRemoteDirection(leg: LegName, direction: Direction): void {
    this.#directions[leg] = direction;
    this.#watchdog?.expect(leg, sends(direction), this.#clock.now());
  }

  stats(): MediaSessionStats {
    const rtt = this.#rtcp?.roundTrip.latestMs;
    const pbxCodec = this.#pbxFormats?.audio;
    const browserCodec = this.#browserFormats?.audio;
    return {
      id: this.id,
      state: this.#state,
      codecs: { browser: browserCodec && `${browserCodec.name}/${browserCodec.clockRate}`, pbx: pbxCodec && `${pbxCodec.name}/${pbxCodec.clockRate}` },
      directions: { ...this.#directions },
      browserToPbx:
        this.#toPbx === undefined || this.#fromBrowser === undefined || browserCodec === undefined
          ? undefined
          : directionStats(this.#toPbx, this.#fromBrowser, browserCodec.name, undefined),
      pbxToBrowser:
        this.#toBrowser === undefined || this.#fromPbx === undefined || pbxCodec === undefined
          ? undefined
          : directionStats(this.#toBrowser, this.#fromPbx, pbxCodec.name, rtt),
      browserLeg: { ...this.#browser.counters },
      pbxLeg: { ...this.#pbx.counters, dropped: { ...this.#pbx.counters.dropped } },
      beforeAnswer: this.#beforeAnswer,
      errors: this.#errors,
    };
  }

  /** Ends the session (the control layer's BYE): releases both legs. */
  async close(): Promise<void> {
    await this.#end({ reason: 'closed' });
    await this.#released;
  }

  #onBrowserRtp(packet: RtpPacket): void {
    this.#guard(() => {
      const now = this.#clock.now();
      const inbound = fromBrowser(packet);
      if (this.#fromBrowser === undefined) {
        this.#beforeAnswer++;
        return;
      }
      this.#watchdog?.heard('browser', now);
      const audio = inbound.payloadType === this.#browserFormats?.audio.payloadType;
      this.#fromBrowser.onPacket({ ...inbound, payloadLength: inbound.payload.length }, now, audio);
      this.#relay(this.#toPbx, 'browser', inbound, now);
    });
  }

  #onPbxRtp(packet: Uint8Array, header: RtpHeaderFields): void {
    this.#guard(() => {
      const now = this.#clock.now();
      const payloadType = this.#aliases.get(header.payloadType);
      if (payloadType === undefined || this.#fromPbx === undefined) {
        this.#beforeAnswer++;
        return;
      }
      const inbound = fromPbx(packet, header, payloadType);
      this.#watchdog?.heard('pbx', now);
      this.#rtcp?.onReceived(inbound.ssrc);
      this.#fromPbx.onPacket({ ...inbound, payloadLength: inbound.payload.length }, now, payloadType === this.#pbxFormats?.audio.payloadType);
      this.#relay(this.#toBrowser, 'pbx', inbound, now);
    });
  }

  #relay(path: MediaPath | undefined, from: LegName, inbound: InboundPacket, now: number): void {
    if (path === undefined || this.#state !== 'relaying') {
      this.#beforeAnswer++;
      return;
    }
    const to: LegName = from === 'browser' ? 'pbx' : 'browser';
    if (!sends(this.#directions[from]) || !receives(this.#directions[to])) {
      path.counters.dropped.held++;
      return;
    }
    path.onPacket(inbound, now);
  }

  #onPbxRtcp(compound: RtcpCompound): void {
    this.#guard(() => this.#rtcp?.onRtcp(compound, this.#clock.now(), this.#fromPbx));
  }

  #onBrowserState(state: BrowserConnectionState): void {
    // 'disconnected' may recover (ICE consent, RFC 7675); 'failed' and 'closed' do not.
    if (state === 'failed' || state === 'closed') void this.#end({ reason: 'browser-connection-lost', state });
  }

  #onFrame(nowMs: number): void {
    if (this.#state !== 'relaying') return;
    this.#toPbx?.onFrame(nowMs);
    this.#toBrowser?.onFrame(nowMs);
    const report = this.#rtcp?.due(this.#clock.now(), this.#fromPbx);
    if (report !== undefined) this.#pbx.sendRtcp(report);
    const silence = this.#watchdog?.check(nowMs);
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
      this.#errors++;
      this.#logger.error('media session handler threw', { call: this.id, error: String(error) });
    }
  }

  async #end(end: SessionEnd): Promise<void> {
    if (this.#state === 'ended') return;
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

function sends(direction: Direction): boolean {
  return direction === 'sendrecv' || direction === 'sendonly';
}

function receives(direction: Direction): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}
