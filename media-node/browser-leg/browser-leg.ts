/**
 * The browser side of a call: one werift `RTCPeerConnection`, audio only, terminating ICE (RFC 8445)
 * and DTLS-SRTP (RFC 5763, RFC 5764) with RTCP multiplexed (RFC 5761) and the one section bundled
 * (RFC 8843). Plain RTP goes in and out: each packet the browser sends is decrypted and handed to
 * `onRtp`; `sendRtp` protects and sends a packet the relay built. Once DTLS is up, the RTP packets
 * themselves go through the node's own SRTP contexts on the ICE-selected socket
 * (`dtls-srtp-media.ts`), and the leg's RTCP reports are the node's too (`browser-rtcp-reports.ts`);
 * werift keeps ICE, DTLS and reading the browser's RTCP, and carries the RTP, with its own reports,
 * only until then, or for a profile the node does not speak.
 *
 * Either side may offer. A call from the browser: `BrowserLeg.answer(offer)`. A call from the PBX:
 * `BrowserLeg.offer(codecs)`, then `acceptAnswer(answer)`. The DTLS role follows `a=setup`
 * (RFC 5763 §5): an `actpass` offer is answered `active`, an `active` one `passive` (werift 0.25
 * would answer `active` to both, so the leg sets the role itself), and offers are `actpass`.
 *
 * Two werift 0.25 behaviours shape `sendRtp` on werift's path (FIELD-NOTES "Media"):
 * - packets sent before DTLS is up are dropped: they are counted here instead of queued, since
 *   late audio is worse than none;
 * - the sender stamps every packet with its primary codec's payload type, which would turn an
 *   RFC 4733 event into a broken Opus frame. The sender's `codec` is swapped for the packet's own
 *   format around the call, which werift reads synchronously before its first `await`.
 * Packets are written with `sender.sendRtp` rather than `track.writeRtp`: the track path runs the
 * send in an un-awaited async subscriber, where a failure would be an unhandled rejection.
 */
import { Buffer } from 'node:buffer';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RtpHeader,
  RtpPacket,
  type RTCRtpCodecParameters,
  type RTCRtpSender,
  type RTCRtpTransceiver,
} from 'werift';
import {
  SdpError,
  answerSetupRole,
  filterCodecs,
  isRejected,
  isRtpProtocol,
  listCodecs,
  parseSdp,
  rejectMedia,
  sameCodecFormat,
  serializeSdp,
  setupRole,
  type CodecFormat,
  type CodecInput,
  type SdpMedia,
  type SdpSession,
  type SetupRole,
} from '../../shared/sdp/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { RoundTripTracker } from '../quality/index.ts';
import type { RtpHeaderRewrite } from '../rtp/index.ts';
import { weriftIceConfig, type BrowserIceOptions } from './browser-ice-options.ts';
import {
  DEFAULT_BROWSER_CODECS,
  chooseBrowserCodecs,
  codecList,
  isTelephoneEvent,
  toWeriftCodec,
  type BrowserCodecs,
} from './browser-codecs.ts';
import { hearRoundTrips } from './browser-rtcp-reports.ts';
import { DtlsSrtpMedia, type BrowserRtp } from './dtls-srtp-media.ts';
import { waitForGathering } from './ice-gathering.ts';
import { finishLocalDescription } from './local-description.ts';

export type BrowserLegErrorReason = 'bad-sdp' | 'no-audio' | 'no-common-codec' | 'negotiation-failed' | 'wrong-state';

export class BrowserLegError extends Error {
  override readonly name = 'BrowserLegError';
  readonly reason: BrowserLegErrorReason;

  constructor(reason: BrowserLegErrorReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

export type BrowserConnectionState = RTCPeerConnection['connectionState'];

export interface BrowserLegOptions {
  readonly ice?: BrowserIceOptions;
  /** How long to wait for candidate gathering before answering with what there is; default 5 s. */
  readonly gatherTimeoutMs?: number;
  readonly logger?: Logger;
  /** Identifies the call in logs. */
  readonly logId?: string;
}

export interface BrowserAnswerOptions extends BrowserLegOptions {
  /** Formats the leg accepts, in order of preference; default `DEFAULT_BROWSER_CODECS`. */
  readonly codecs?: readonly CodecFormat[];
}

export interface BrowserOfferOptions extends BrowserLegOptions {
  /** Formats to offer, with the payload types this leg gives them, in order of preference. */
  readonly codecs: readonly CodecInput[];
}

export interface BrowserLegHandlers {
  /** One decrypted RTP packet: the handler may keep it and its payload. */
  onRtp(packet: BrowserRtp): void;
  onConnectionStateChange?(state: BrowserConnectionState): void;
}

export interface BrowserLegCounters {
  rtpIn: number;
  rtpOut: number;
  /** Of those, the packets the node's own SRTP decrypted or protected (the rest went through werift). */
  srtpIn: number;
  srtpOut: number;
  /** SRTP the node refused: failed authentication, replayed, too short or malformed. */
  srtpRefused: number;
  /** Written before ICE and DTLS were up, or after close: dropped (werift would drop them too). */
  notConnected: number;
  /** A payload type this leg did not negotiate. */
  unknownPayloadType: number;
  sendErrors: number;
  /** Exceptions thrown by the handlers: logged and counted, never fatal to the leg. */
  handlerErrors: number;
}

export class BrowserLeg {
  readonly counters: BrowserLegCounters = {
    rtpIn: 0,
    rtpOut: 0,
    srtpIn: 0,
    srtpOut: 0,
    srtpRefused: 0,
    notConnected: 0,
    unknownPayloadType: 0,
    sendErrors: 0,
    handlerErrors: 0,
  };
  readonly #pc: RTCPeerConnection;
  readonly #handlers: BrowserLegHandlers;
  readonly #logger: Logger;
  readonly #logId: string | undefined;
  readonly #gatherTimeoutMs: number;
  #transceiver: RTCRtpTransceiver | undefined;
  /** werift codec objects by payload type, for the payload type swap in `sendRtp`. */
  #formats = new Map<number, RTCRtpCodecParameters>();
  #codecs: BrowserCodecs | undefined;
  #closed = false;
  /** The node's own SRTP for the RTP packets, once DTLS is up. */
  #media: DtlsSrtpMedia | undefined;
  readonly #roundTrip = new RoundTripTracker();
  #hearingReports = false;
  /** One rejection handler for the leg's life, rather than a closure per packet. */
  readonly #sendFailed = (error: unknown): void => {
    this.counters.sendErrors++;
    this.#logger.warn('browser leg send failed', { call: this.#logId, error: String(error) });
  };

  private constructor(pc: RTCPeerConnection, handlers: BrowserLegHandlers, options: BrowserLegOptions) {
    this.#pc = pc;
    this.#handlers = handlers;
    this.#logger = options.logger ?? silentLogger;
    this.#logId = options.logId;
    this.#gatherTimeoutMs = options.gatherTimeoutMs ?? 5000;
    pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((packet) => this.#receiveFromWerift(packet));
    });
    pc.connectionStateChange.subscribe((state) => {
      this.#logger.info('browser leg connection state', { call: this.#logId, state });
      if (state === 'connected') this.#startOwnSrtp();
      this.#deliver(() => this.#handlers.onConnectionStateChange?.(state));
    });
  }

  /** Answers a browser's offer (a call from the browser). Throws `BrowserLegError`. */
  static async answer(
    offer: string,
    options: BrowserAnswerOptions,
    handlers: BrowserLegHandlers,
  ): Promise<{ readonly leg: BrowserLeg; readonly answer: string }> {
    const session = parseOrThrow(offer);
    const index = session.media.findIndex(isLiveAudio);
    const media = session.media[index];
    if (media === undefined) throw new BrowserLegError('no-audio', 'the offer has no audio stream to accept');
    const codecs = chooseBrowserCodecs(media, options.codecs ?? DEFAULT_BROWSER_CODECS);
    if (codecs === undefined) throw new BrowserLegError('no-common-codec', 'the offer has no audio codec the media node supports');
    // werift negotiates on MIME type alone, so it is shown only what the leg will carry: one audio
    // format and the telephone-event of its clock rate. Other streams are rejected (RFC 3264 §6).
    const chosen = codecList(codecs);
    const restricted: SdpSession = {
      ...session,
      media: session.media.map((section, i) =>
        i === index ? filterCodecs(section, chosen.map((codec) => codec.payloadType)) : rejectMedia(section),
      ),
    };
    const leg = new BrowserLeg(new RTCPeerConnection(peerConfig(options, chosen)), handlers, options);
    try {
      leg.#useCodecs(codecs);
      await leg.#pc.setRemoteDescription({ type: 'offer', sdp: serializeSdp(restricted) });
      const transceiver = leg.#pc.getTransceivers().find((candidate) => candidate.mid === (media.mid ?? candidate.mid));
      if (transceiver === undefined) throw new BrowserLegError('negotiation-failed', 'werift made no transceiver for the audio stream');
      leg.#transceiver = transceiver;
      // RFC 5763 §5: an offer that is `active` (or, by RFC 4145 §4.1's default, silent) needs a
      // passive answerer; werift 0.25 answers active whatever was offered unless told.
      if (answerSetupRole(offeredSetup(restricted, media)) === 'passive') transceiver.dtlsTransport.role = 'server';
      // Without a track werift answers recvonly; the relay sends through the sender itself.
      await transceiver.sender.replaceTrack(new MediaStreamTrack({ kind: 'audio' }));
      transceiver.setDirection('sendrecv');
      await leg.#pc.setLocalDescription(await leg.#pc.createAnswer());
      return { leg, answer: await leg.#localDescription() };
    } catch (error) {
      await leg.close();
      throw asLegError(error);
    }
  }

  /** Makes an offer to a browser (a call from the PBX); finish with `acceptAnswer`. */
  static async offer(options: BrowserOfferOptions, handlers: BrowserLegHandlers): Promise<{ readonly leg: BrowserLeg; readonly offer: string }> {
    const leg = new BrowserLeg(new RTCPeerConnection(peerConfig(options, options.codecs)), handlers, options);
    try {
      leg.#transceiver = leg.#pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
      for (const codec of options.codecs) leg.#formats.set(codec.payloadType, toWeriftCodec(codec));
      await leg.#pc.setLocalDescription(await leg.#pc.createOffer());
      return { leg, offer: await leg.#localDescription() };
    } catch (error) {
      await leg.close();
      throw asLegError(error);
    }
  }

  /** Takes the browser's answer to `offer()`. Throws `BrowserLegError`. */
  async acceptAnswer(answer: string): Promise<void> {
    if (this.#codecs !== undefined || this.#closed) throw new BrowserLegError('wrong-state', 'this leg is not waiting for an answer');
    const session = parseOrThrow(answer);
    const media = session.media.find(isLiveAudio);
    if (media === undefined) throw new BrowserLegError('no-audio', 'the answer accepts no audio stream');
    const answered = listCodecs(media).filter((codec) => this.#formats.has(codec.payloadType));
    const audio = answered.find((codec) => !isTelephoneEvent(codec));
    if (audio === undefined) throw new BrowserLegError('no-common-codec', 'the answer names no offered audio codec');
    const telephoneEvent = answered.find((codec) => isTelephoneEvent(codec) && codec.clockRate === audio.clockRate);
    try {
      await this.#pc.setRemoteDescription({ type: 'answer', sdp: answer });
    } catch (error) {
      throw asLegError(error);
    }
    this.#useCodecs({ audio, telephoneEvent });
  }

  /**
   * A new offer from the browser once the leg is up (a re-INVITE: hold, resume, ICE restart; RFC
   * 3264 §8). The leg keeps its audio format for its life, so the offer must still carry it (under
   * any payload type number); the answer names only that format and its events. werift keeps the
   * DTLS transport and its role (RFC 5763 §5: a re-offer does not renegotiate DTLS unless the
   * fingerprint changes), and restarts ICE when the offer's ufrag and password are new (RFC 8445
   * §9): media resumes on the new candidate pair with the same SRTP keys. Throws `BrowserLegError`.
   */
  async takeOffer(offer: string): Promise<{ readonly answer: string; readonly codecs: BrowserCodecs }> {
    const current = this.#codecs;
    if (current === undefined || this.#closed) throw new BrowserLegError('wrong-state', 'this leg has not settled its first offer and answer');
    const session = parseOrThrow(offer);
    const index = session.media.findIndex(isLiveAudio);
    const media = session.media[index];
    if (media === undefined) throw new BrowserLegError('no-audio', 'the new offer has no audio stream to accept');
    const codecs = chooseBrowserCodecs(media, codecList(current));
    if (codecs === undefined || !sameCodecFormat(codecs.audio, current.audio)) {
      throw new BrowserLegError('no-common-codec', `the new offer drops ${current.audio.name}/${current.audio.clockRate}, which this call carries`);
    }
    const chosen = codecList(codecs);
    const restricted: SdpSession = {
      ...session,
      media: session.media.map((section, i) => (i === index ? filterCodecs(section, chosen.map((codec) => codec.payloadType)) : rejectMedia(section))),
    };
    try {
      await this.#pc.setRemoteDescription({ type: 'offer', sdp: serializeSdp(restricted) });
      await this.#pc.setLocalDescription(await this.#pc.createAnswer());
    } catch (error) {
      throw asLegError(error);
    }
    this.#useCodecs(codecs);
    const answer = await this.#localDescription();
    this.#startRestartedIce();
    return { answer, codecs };
  }

  /**
   * werift 0.25 restarts its ICE agent on new remote credentials (dropping the nominated pair) but
   * then starts no checks while DTLS is up (its `connect()` returns early on a connected DTLS
   * transport), so the leg starts them; DTLS and SRTP carry on over the new pair.
   */
  #startRestartedIce(): void {
    const ice = this.#transceiver?.dtlsTransport.iceTransport;
    if (ice === undefined || ice.state === 'closed' || ice.connection.nominated !== undefined) return;
    ice.start().catch((error: unknown) => {
      this.#logger.warn('browser leg ICE restart failed', { call: this.#logId, error: String(error) });
    });
  }

  /** The negotiated formats, with the browser's payload type numbers; undefined until negotiated. */
  get codecs(): BrowserCodecs | undefined {
    return this.#codecs;
  }

  get connectionState(): BrowserConnectionState {
    return this.#pc.connectionState;
  }

  /** The round trip to the browser (`hearRoundTrips`); undefined until a report block answers an SR. */
  get roundTripMs(): number | undefined {
    return this.#roundTrip.latestMs;
  }

  /** The SSRC werift writes on everything this leg sends (RFC 3550 §8: its own, whatever the source). */
  get sendSsrc(): number | undefined {
    return this.#transceiver?.sender.ssrc;
  }

  /**
   * Sends one RTP packet to the browser: the leg's own SSRC (`sendSsrc`) is written, the sequence
   * number and timestamp kept (they must already be continuous), and the packet protected with SRTP,
   * by the node's contexts once DTLS is up. Returns false, counted, when the packet cannot go: not
   * connected (yet, or consent lost), closed, or a payload type the leg does not carry.
   */
  sendRtp(header: RtpHeaderRewrite, payload: Uint8Array): boolean {
    const media = this.#media;
    if (media !== undefined && !this.#closed) {
      if (!this.#formats.has(header.payloadType)) {
        this.counters.unknownPayloadType++;
        return false;
      }
      if (!media.sendRtp(header, payload)) {
        this.counters.notConnected++;
        return false;
      }
      this.counters.rtpOut++;
      this.counters.srtpOut++;
      return true;
    }
    const sender = this.#transceiver?.sender;
    if (this.#closed || sender === undefined || sender.dtlsTransport?.state !== 'connected') {
      this.counters.notConnected++;
      return false;
    }
    const format = this.#formats.get(header.payloadType);
    if (format === undefined) {
      this.counters.unknownPayloadType++;
      return false;
    }
    const packet = new RtpPacket(
      new RtpHeader({ payloadType: header.payloadType, marker: header.marker, sequenceNumber: header.sequenceNumber, timestamp: header.timestamp, ssrc: header.ssrc }),
      // A copy: transcoders reuse their output buffer, and werift may still hold this one.
      Buffer.from(payload),
    );
    this.counters.rtpOut++;
    sendWithFormat(sender, format, packet).catch(this.#sendFailed);
    return true;
  }

  /** Which SRTP suite the node's own contexts speak on this leg; undefined while werift carries the RTP. */
  get ownSrtpSuite(): string | undefined {
    return this.#media?.suite;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#media?.stop();
    try {
      await this.#pc.close();
    } catch (error) {
      this.#logger.warn('browser leg close failed', { call: this.#logId, error: String(error) });
    }
  }

  #useCodecs(codecs: BrowserCodecs): void {
    this.#codecs = codecs;
    this.#formats = new Map(codecList(codecs).map((codec) => [codec.payloadType, toWeriftCodec(codec)]));
  }

  async #localDescription(): Promise<string> {
    await waitForGathering(this.#pc, this.#gatherTimeoutMs);
    const description = this.#pc.localDescription;
    if (description === null) throw new BrowserLegError('negotiation-failed', 'werift has no local description');
    return finishLocalDescription(description.sdp);
  }

  #startOwnSrtp(): void {
    const transceiver = this.#transceiver;
    if (this.#media !== undefined || this.#closed || transceiver === undefined) return;
    if (!this.#hearingReports) {
      this.#hearingReports = true;
      hearRoundTrips(transceiver, this.#roundTrip);
    }
    this.#media = DtlsSrtpMedia.start(transceiver, this.#mediaHandlers);
    if (this.#media === undefined) {
      this.#logger.warn('browser leg keeps werift SRTP: profile or werift internals not as expected', { call: this.#logId });
      return;
    }
    this.#logger.info('browser leg RTP on the node SRTP', { call: this.#logId, suite: this.#media.suite });
  }

  /** The node's SRTP hands over decrypted packets and send failures; one object for the leg's life. */
  readonly #mediaHandlers = {
    onRtp: (packet: BrowserRtp): void => {
      this.counters.srtpIn++;
      this.#receive(packet);
    },
    onRefused: (): void => {
      this.counters.srtpRefused++;
    },
    onSendError: (error: unknown): void => this.#sendFailed(error),
  };

  /** A packet werift decrypted (before the node's SRTP starts, or the first of each source). */
  #receiveFromWerift(packet: RtpPacket): void {
    const { header } = packet;
    this.#receive({
      payloadType: header.payloadType,
      sequenceNumber: header.sequenceNumber,
      timestamp: header.timestamp,
      ssrc: header.ssrc,
      marker: header.marker,
      payload: packet.payload,
    });
  }

  #receive(packet: BrowserRtp): void {
    if (this.#closed) return;
    this.counters.rtpIn++;
    // Per packet, so no closure through #deliver.
    try {
      this.#handlers.onRtp(packet);
    } catch (error) {
      this.#handlerThrew(error);
    }
  }

  #deliver(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#handlerThrew(error);
    }
  }

  #handlerThrew(error: unknown): void {
    this.counters.handlerErrors++;
    this.#logger.error('browser leg handler threw', { call: this.#logId, error: String(error) });
  }
}

/** See the module comment: werift stamps the sender's `codec` on the packet synchronously. */
function sendWithFormat(sender: RTCRtpSender, format: RTCRtpCodecParameters, packet: RtpPacket): Promise<void> {
  const primary = sender.codec;
  if (primary === undefined || primary.payloadType === format.payloadType) return sender.sendRtp(packet);
  sender.codec = format;
  try {
    return sender.sendRtp(packet);
  } finally {
    sender.codec = primary;
  }
}

function peerConfig(options: BrowserLegOptions, codecs: readonly CodecInput[]): ConstructorParameters<typeof RTCPeerConnection>[0] {
  return {
    ...weriftIceConfig(options.ice),
    codecs: { audio: codecs.map(toWeriftCodec), video: [] },
    // No header extensions: a relay has no use for audio levels or transport-wide congestion control.
    headerExtensions: { audio: [], video: [] },
  };
}

function isLiveAudio(media: SdpMedia): boolean {
  return media.type === 'audio' && !isRejected(media) && isRtpProtocol(media.protocol);
}

function offeredSetup(session: SdpSession, media: SdpMedia): SetupRole | undefined {
  try {
    return setupRole(session, media);
  } catch (error) {
    if (error instanceof SdpError) throw new BrowserLegError('bad-sdp', error.message, { cause: error });
    throw error;
  }
}

function parseOrThrow(sdp: string): SdpSession {
  try {
    return parseSdp(sdp);
  } catch (error) {
    if (error instanceof SdpError) throw new BrowserLegError('bad-sdp', error.message, { cause: error });
    throw error;
  }
}

function asLegError(error: unknown): BrowserLegError {
  if (error instanceof BrowserLegError) return error;
  return new BrowserLegError('negotiation-failed', `werift refused the description: ${String(error)}`, { cause: error });
}
