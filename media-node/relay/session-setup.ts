/**
 * Opening a call's two legs, for either party's offer, both, or none, and writing the SDP each
 * party gets.
 *
 * A call from the browser: its offer is answered at once (the browser leg's codec choice), and the
 * PBX is offered what can be relayed to and from that codec; the session waits for the PBX answer.
 * A call from the PBX: its offer is answered at once (the PBX-side preferences), and the browser is
 * offered what can be relayed to and from the PBX's codec; the session waits for the browser answer.
 * Both offers (the PBX offered in its 200 to an INVITE without SDP): the browser's is answered by the
 * browser leg's preferences, then the PBX's with a codec relayable to and from that; nothing waits.
 * No offer (an INVITE without SDP from the PBX): the node offers each leg every codec it can relay to
 * some codec of the other, and the session waits for both answers.
 * Whatever fails on the way closes what was already opened, so a refused call holds nothing.
 */
import type { RtpPacket } from 'werift';
import {
  SdpError,
  answerDirection,
  buildRtpSdp,
  mediaDirection,
  newOrigin,
  parseSdp,
  serializeSdp,
  type CodecFormat,
  type CodecInput,
  type Direction,
  type SdesCrypto,
  type SdpSession,
} from '../../shared/sdp/index.ts';
import { BrowserLeg, DEFAULT_BROWSER_CODECS, type BrowserConnectionState, type BrowserLegHandlers, type BrowserLegOptions } from '../browser-leg/index.ts';
import { silentLogger } from '../logger.ts';
import { PbxLeg, type PbxRemote, type PbxSrtp } from '../pbx-leg/index.ts';
import { SrtpReceiver, SrtpSender, newMasterKey, sdesLine, type MasterKey } from '../srtp/index.ts';
import type { RtcpCompound, RtpHeaderFields } from '../rtp/index.ts';
import type { LegFormats } from './leg-formats.ts';
import type { BothOffersCallOptions, BrowserCallOptions, MediaSessionOptions, PbxCallOptions } from './media-session-options.ts';
import type { LegName } from './media-watchdog.ts';
import { DEFAULT_PBX_CODECS, MediaSessionError, browserOfferCodecs, pbxOfferCodecs, readPbxOffer, type PbxSdes } from './session-negotiation.ts';

/** Late binding from the legs' handlers to the session they are opened before: no-ops until bound. */
export interface LegRouter {
  browserRtp(packet: RtpPacket): void;
  browserState(state: BrowserConnectionState): void;
  pbxRtp(packet: Uint8Array, header: RtpHeaderFields): void;
  pbxRtcp(compound: RtcpCompound): void;
}

/** SDES-SRTP on the PBX leg: the node's key (and its sending context), and the PBX's key once known. */
export interface PbxSrtpState {
  readonly local: MasterKey;
  readonly sender: SrtpSender;
  readonly remote: MasterKey | undefined;
  /** The tag of the `a=crypto` line the node writes. */
  readonly tag: number;
}

/** A fresh SRTP state for the node's side of the PBX leg. */
export function newPbxSrtp(tag: number, remote?: MasterKey): PbxSrtpState {
  const local = newMasterKey();
  return { local, sender: new SrtpSender(local), remote, tag };
}

/** What the PBX leg is given for `state`: its sending context, and a receiving one once the PBX's key is known. */
export function pbxLegSrtp(state: PbxSrtpState): PbxSrtp {
  return { sender: state.sender, receiver: state.remote === undefined ? undefined : new SrtpReceiver(state.remote) };
}

/** What a session is built from. */
export interface SessionParts {
  readonly browser: BrowserLeg;
  readonly pbx: PbxLeg;
  readonly router: LegRouter;
  readonly waitingFor: 'pbx-answer' | 'browser-answer' | 'both-answers' | 'nothing';
  /** Each party's direction so far. */
  readonly directions: Record<LegName, Direction>;
  /** The codecs offered to the PBX (a call from the browser). */
  readonly pbxOffered: readonly CodecInput[];
  /** The PBX leg's formats, when its offer settled them (a call from the PBX). */
  readonly pbxFormats: LegFormats | undefined;
  /** The browser codecs offered, while the browser's answer is awaited (the node offered both legs). */
  readonly browserOffered?: readonly CodecFormat[];
  /** The last SDP the node sent the PBX, whose origin later descriptions revise (RFC 3264 §8). */
  readonly pbxDescription: SdpSession;
  /** RTP/SAVP toward the PBX; undefined for RTP/AVP. */
  readonly pbxSrtp: PbxSrtpState | undefined;
}

export async function setUpBrowserCall(options: BrowserCallOptions): Promise<{ parts: SessionParts; browserAnswer: string; pbxOffer: string }> {
  const router = idleRouter();
  const { leg: browser, answer } = await BrowserLeg.answer(
    options.browserOffer,
    { ...browserLegOptions(options), ...(options.browser?.codecs === undefined ? {} : { codecs: options.browser.codecs }) },
    browserHandlers(router),
  );
  const browserAudio = browser.codecs?.audio;
  const offered = browserAudio === undefined ? [] : pbxOfferCodecs(browserAudio, options.pbx.codecs ?? DEFAULT_PBX_CODECS);
  if (offered.length === 0) {
    await browser.close();
    throw new MediaSessionError('no-common-codec', 'no PBX codec can be relayed to and from the browser’s');
  }
  const srtp = options.pbx.srtp === 'sdes' ? newPbxSrtp(1) : undefined;
  const pbx = await openPbxLeg(options, offered, undefined, router, browser, srtp);
  const pbxOffer = buildRtpSdp({
    origin: newOrigin({ address: options.pbx.address }),
    address: options.pbx.address,
    port: pbx.rtpPort,
    codecs: offered,
    ptime: 20,
    ...cryptoOf(srtp),
  });
  return {
    parts: {
      browser,
      pbx,
      router,
      waitingFor: 'pbx-answer',
      // BrowserLeg.answer has parsed this offer already: it is valid SDP.
      directions: { browser: browserDirection(parseSdp(options.browserOffer)), pbx: 'sendrecv' },
      pbxOffered: offered,
      pbxFormats: undefined,
      pbxDescription: pbxOffer,
      pbxSrtp: srtp,
    },
    browserAnswer: answer,
    pbxOffer: serializeSdp(pbxOffer),
  };
}

export async function setUpPbxCall(options: PbxCallOptions): Promise<{ parts: SessionParts; pbxAnswer: string; browserOffer: string }> {
  const router = idleRouter();
  const offer = parsePbxSdp(options.pbxOffer);
  const browserPreferences = options.browser?.codecs ?? DEFAULT_BROWSER_CODECS;
  const settled = readPbxOffer(offer, options.pbx.codecs ?? DEFAULT_PBX_CODECS, browserPreferences);
  const { leg: browser, offer: browserOffer } = await BrowserLeg.offer(
    { ...browserLegOptions(options), codecs: browserOfferCodecs(settled.audio, browserPreferences) },
    browserHandlers(router),
  );
  const answered = settled.telephoneEvent === undefined ? [settled.audio] : [settled.audio, settled.telephoneEvent];
  const srtp = answeringSrtp(settled.sdes);
  const pbx = await openPbxLeg(options, answered, settled.remote, router, browser, srtp);
  const pbxAnswer = buildRtpSdp({
    origin: newOrigin({ address: options.pbx.address }),
    address: options.pbx.address,
    port: pbx.rtpPort,
    codecs: answered,
    ptime: 20,
    direction: answerDirection(settled.direction),
    ...cryptoOf(srtp),
  });
  return {
    parts: {
      browser,
      pbx,
      router,
      waitingFor: 'browser-answer',
      directions: { browser: 'sendrecv', pbx: settled.direction },
      pbxOffered: answered,
      pbxFormats: { audio: settled.audio, telephoneEvent: settled.telephoneEvent },
      pbxDescription: pbxAnswer,
      pbxSrtp: srtp,
    },
    pbxAnswer: serializeSdp(pbxAnswer),
    browserOffer,
  };
}

export async function setUpBothOffers(options: BothOffersCallOptions): Promise<{ parts: SessionParts; browserAnswer: string; pbxAnswer: string }> {
  const router = idleRouter();
  const offer = parsePbxSdp(options.pbxOffer);
  const { leg: browser, answer } = await BrowserLeg.answer(
    options.browserOffer,
    { ...browserLegOptions(options), ...(options.browser?.codecs === undefined ? {} : { codecs: options.browser.codecs }) },
    browserHandlers(router),
  );
  let settled: ReturnType<typeof readPbxOffer>;
  try {
    const browserAudio = browser.codecs?.audio;
    if (browserAudio === undefined) throw new MediaSessionError('no-common-codec', 'the browser leg settled no codec');
    settled = readPbxOffer(offer, options.pbx.codecs ?? DEFAULT_PBX_CODECS, [browserAudio]);
  } catch (error) {
    await browser.close();
    throw error;
  }
  const answered = settled.telephoneEvent === undefined ? [settled.audio] : [settled.audio, settled.telephoneEvent];
  const srtp = answeringSrtp(settled.sdes);
  const pbx = await openPbxLeg(options, answered, settled.remote, router, browser, srtp);
  const pbxAnswer = buildRtpSdp({
    origin: newOrigin({ address: options.pbx.address }),
    address: options.pbx.address,
    port: pbx.rtpPort,
    codecs: answered,
    ptime: 20,
    direction: answerDirection(settled.direction),
    ...cryptoOf(srtp),
  });
  return {
    parts: {
      browser,
      pbx,
      router,
      waitingFor: 'nothing',
      directions: { browser: browserDirection(parseSdp(options.browserOffer)), pbx: settled.direction },
      pbxOffered: answered,
      pbxFormats: { audio: settled.audio, telephoneEvent: settled.telephoneEvent },
      pbxDescription: pbxAnswer,
      pbxSrtp: srtp,
    },
    browserAnswer: answer,
    pbxAnswer: serializeSdp(pbxAnswer),
  };
}

export async function setUpNodeOffers(options: MediaSessionOptions): Promise<{ parts: SessionParts; browserOffer: string; pbxOffer: string }> {
  const router = idleRouter();
  const browserPreferences = options.browser?.codecs ?? DEFAULT_BROWSER_CODECS;
  const pbxPreferences = options.pbx.codecs ?? DEFAULT_PBX_CODECS;
  const pbxOffered = pbxOfferCodecs(browserPreferences, pbxPreferences);
  const browserOffered = browserOfferCodecs(pbxOffered, browserPreferences);
  if (pbxOffered.length === 0 || browserOffered.length === 0) throw new MediaSessionError('no-common-codec', 'no browser codec can be relayed to and from any PBX codec');
  const { leg: browser, offer: browserOffer } = await BrowserLeg.offer({ ...browserLegOptions(options), codecs: browserOffered }, browserHandlers(router));
  const srtp = options.pbx.srtp === 'sdes' ? newPbxSrtp(1) : undefined;
  const pbx = await openPbxLeg(options, pbxOffered, undefined, router, browser, srtp);
  const pbxOffer = buildRtpSdp({
    origin: newOrigin({ address: options.pbx.address }),
    address: options.pbx.address,
    port: pbx.rtpPort,
    codecs: pbxOffered,
    ptime: 20,
    ...cryptoOf(srtp),
  });
  return {
    parts: {
      browser,
      pbx,
      router,
      waitingFor: 'both-answers',
      directions: { browser: 'sendrecv', pbx: 'sendrecv' },
      pbxOffered,
      browserOffered,
      pbxFormats: undefined,
      pbxDescription: pbxOffer,
      pbxSrtp: srtp,
    },
    browserOffer,
    pbxOffer: serializeSdp(pbxOffer),
  };
}

/**
 * The direction a browser declared. A WebRTC description's `c=IN IP4 0.0.0.0` is the trickle ICE
 * placeholder (RFC 8840 §4.1.1), not the RFC 2543 hold that `mediaDirection` reads into it.
 */
export function browserDirection(description: SdpSession): Direction {
  const audio = description.media.find((media) => media.type === 'audio' && media.port !== 0);
  return audio === undefined ? 'sendrecv' : mediaDirection(description, audio).declared;
}

export function parsePbxSdp(sdp: string): SdpSession {
  try {
    return parseSdp(sdp);
  } catch (error) {
    if (error instanceof SdpError) throw new MediaSessionError('bad-pbx-sdp', error.message, { cause: error });
    throw error;
  }
}

/** The node's SRTP state for answering an offer: RTP/SAVP (with the PBX's key) if the PBX offered it. */
function answeringSrtp(sdes: PbxSdes | undefined): PbxSrtpState | undefined {
  return sdes === undefined ? undefined : newPbxSrtp(sdes.tag, sdes.key);
}

/** `buildRtpSdp`'s `crypto` option for the node's line, if the leg is RTP/SAVP. */
export function cryptoOf(srtp: PbxSrtpState | undefined): { crypto?: readonly SdesCrypto[] } {
  return srtp === undefined ? {} : { crypto: [sdesLine(srtp.tag, srtp.local)] };
}

function idleRouter(): LegRouter {
  return { browserRtp: () => {}, browserState: () => {}, pbxRtp: () => {}, pbxRtcp: () => {} };
}

function browserHandlers(router: LegRouter): BrowserLegHandlers {
  return { onRtp: (packet) => router.browserRtp(packet), onConnectionStateChange: (state) => router.browserState(state) };
}

function browserLegOptions(options: MediaSessionOptions): BrowserLegOptions {
  return {
    ...(options.browser?.ice === undefined ? {} : { ice: options.browser.ice }),
    ...(options.browser?.gatherTimeoutMs === undefined ? {} : { gatherTimeoutMs: options.browser.gatherTimeoutMs }),
    logger: options.logger ?? silentLogger,
    ...(options.id === undefined ? {} : { logId: options.id }),
  };
}

/** Opens the PBX leg; on failure closes the browser leg already opened, and rethrows. */
async function openPbxLeg(
  options: MediaSessionOptions,
  codecs: readonly CodecInput[],
  remote: PbxRemote | undefined,
  router: LegRouter,
  browser: BrowserLeg,
  srtp: PbxSrtpState | undefined,
): Promise<PbxLeg> {
  try {
    return await PbxLeg.open(
      {
        ports: options.pbx.ports,
        bindAddress: options.pbx.bindAddress,
        payloadTypes: codecs.map((codec) => codec.payloadType),
        ...(remote === undefined ? {} : { remote }),
        ...(srtp === undefined ? {} : { srtp: pbxLegSrtp(srtp) }),
        ...(options.pbx.relatchAfterSilenceMs === undefined ? {} : { relatchAfterSilenceMs: options.pbx.relatchAfterSilenceMs }),
        ...(options.pbx.maxPacketOctets === undefined ? {} : { maxPacketOctets: options.pbx.maxPacketOctets }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        logger: options.logger ?? silentLogger,
      },
      { onRtp: (packet, header) => router.pbxRtp(packet, header), onRtcp: (_packet, compound) => router.pbxRtcp(compound) },
    );
  } catch (error) {
    await browser.close();
    throw error;
  }
}
