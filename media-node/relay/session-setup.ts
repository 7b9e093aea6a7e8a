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
  type SdpOrigin,
  type SdpSession,
} from '../../shared/sdp/index.ts';
import { BrowserLeg, DEFAULT_BROWSER_CODECS, type BrowserConnectionState, type BrowserLegHandlers, type BrowserLegOptions, type BrowserRtp } from '../browser-leg/index.ts';
import { silentLogger } from '../logger.ts';
import { PbxLeg, type PbxRemote } from '../pbx-leg/index.ts';
import type { RtcpCompound, RtpHeaderFields } from '../rtp/index.ts';
import type { LegFormats } from './leg-formats.ts';
import type { BothOffersCallOptions, BrowserCallOptions, MediaSessionOptions, PbxCallOptions } from './media-session-options.ts';
import type { LegName } from './media-watchdog.ts';
import { answeringSrtp, cryptoOf, newPbxSrtp, pbxLegSrtp, type PbxSrtpState } from './pbx-srtp-state.ts';
import { DEFAULT_PBX_CODECS, MediaSessionError, answerCodecs, browserOfferCodecs, pbxOfferCodecs, readPbxOffer, type PbxOffer } from './session-negotiation.ts';

/** Late binding from the legs' handlers to the session they are opened before: no-ops until bound. */
export interface LegRouter {
  browserRtp(packet: BrowserRtp): void;
  browserState(state: BrowserConnectionState): void;
  pbxRtp(packet: Uint8Array, header: RtpHeaderFields): void;
  pbxRtcp(compound: RtcpCompound): void;
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
  const { leg: browser, answer } = await answerBrowser(options, router);
  const browserAudio = browser.codecs?.audio;
  const offered = browserAudio === undefined ? [] : pbxOfferCodecs(browserAudio, options.pbx.codecs ?? DEFAULT_PBX_CODECS);
  if (offered.length === 0) {
    await browser.close();
    throw new MediaSessionError('no-common-codec', 'no PBX codec can be relayed to and from the browser’s');
  }
  const pbxParts = await offerToPbx(options, offered, router, browser);
  return {
    parts: {
      browser,
      router,
      waitingFor: 'pbx-answer',
      // BrowserLeg.answer has parsed this offer already: it is valid SDP.
      directions: { browser: browserDirection(parseSdp(options.browserOffer)), pbx: 'sendrecv' },
      ...pbxParts,
    },
    browserAnswer: answer,
    pbxOffer: serializeSdp(pbxParts.pbxDescription),
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
  const pbxParts = await answerPbx(options, settled, router, browser);
  return {
    parts: { browser, router, waitingFor: 'browser-answer', directions: { browser: 'sendrecv', pbx: settled.direction }, ...pbxParts },
    pbxAnswer: serializeSdp(pbxParts.pbxDescription),
    browserOffer,
  };
}

export async function setUpBothOffers(options: BothOffersCallOptions): Promise<{ parts: SessionParts; browserAnswer: string; pbxAnswer: string }> {
  const router = idleRouter();
  const offer = parsePbxSdp(options.pbxOffer);
  const { leg: browser, answer } = await answerBrowser(options, router);
  let settled: PbxOffer;
  try {
    const browserAudio = browser.codecs?.audio;
    if (browserAudio === undefined) throw new MediaSessionError('no-common-codec', 'the browser leg settled no codec');
    settled = readPbxOffer(offer, options.pbx.codecs ?? DEFAULT_PBX_CODECS, [browserAudio]);
  } catch (error) {
    await browser.close();
    throw error;
  }
  const pbxParts = await answerPbx(options, settled, router, browser);
  return {
    parts: {
      browser,
      router,
      waitingFor: 'nothing',
      directions: { browser: browserDirection(parseSdp(options.browserOffer)), pbx: settled.direction },
      ...pbxParts,
    },
    browserAnswer: answer,
    pbxAnswer: serializeSdp(pbxParts.pbxDescription),
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
  const pbxParts = await offerToPbx(options, pbxOffered, router, browser);
  return {
    parts: { browser, router, waitingFor: 'both-answers', directions: { browser: 'sendrecv', pbx: 'sendrecv' }, browserOffered, ...pbxParts },
    browserOffer,
    pbxOffer: serializeSdp(pbxParts.pbxDescription),
  };
}

/** The node's SDP toward the PBX: the leg's address and port, `codecs` at 20 ms, and its `a=crypto` line when RTP/SAVP. */
export function nodePbxSdp(spec: {
  readonly origin: SdpOrigin;
  readonly address: string;
  readonly port: number;
  readonly codecs: readonly CodecInput[];
  readonly srtp: PbxSrtpState | undefined;
  /** An answer's direction (RFC 3264 §6.1); an offer's is `sendrecv`. */
  readonly direction?: Direction;
}): SdpSession {
  return buildRtpSdp({
    origin: spec.origin,
    address: spec.address,
    port: spec.port,
    codecs: spec.codecs,
    ptime: 20,
    ...(spec.direction === undefined ? {} : { direction: spec.direction }),
    ...cryptoOf(spec.srtp),
  });
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

function idleRouter(): LegRouter {
  return { browserRtp: () => {}, browserState: () => {}, pbxRtp: () => {}, pbxRtcp: () => {} };
}

function browserHandlers(router: LegRouter): BrowserLegHandlers {
  return { onRtp: (packet) => router.browserRtp(packet), onConnectionStateChange: (state) => router.browserState(state) };
}

/** Answers the browser's offer with the browser leg, under the session's browser codec preferences if it sets them. */
function answerBrowser(options: BrowserCallOptions, router: LegRouter): Promise<{ leg: BrowserLeg; answer: string }> {
  return BrowserLeg.answer(
    options.browserOffer,
    { ...browserLegOptions(options), ...(options.browser?.codecs === undefined ? {} : { codecs: options.browser.codecs }) },
    browserHandlers(router),
  );
}

/** The PBX leg's share of a session's parts. */
type PbxParts = Pick<SessionParts, 'pbx' | 'pbxOffered' | 'pbxFormats' | 'pbxDescription' | 'pbxSrtp'>;

/** Opens the PBX leg for the node's offer of `codecs` (RTP/SAVP when the session asks for SDES) and writes that offer. */
async function offerToPbx(options: MediaSessionOptions, codecs: readonly CodecInput[], router: LegRouter, browser: BrowserLeg): Promise<PbxParts> {
  const srtp = options.pbx.srtp === 'sdes' ? newPbxSrtp(1) : undefined;
  const pbx = await openPbxLeg(options, codecs, undefined, router, browser, srtp);
  const offer = nodePbxSdp({ origin: newOrigin({ address: options.pbx.address }), address: options.pbx.address, port: pbx.rtpPort, codecs, srtp });
  return { pbx, pbxOffered: codecs, pbxFormats: undefined, pbxDescription: offer, pbxSrtp: srtp };
}

/** Opens the PBX leg toward the PBX's offer, in the offer's protocol, and writes the answer. */
async function answerPbx(options: MediaSessionOptions, settled: PbxOffer, router: LegRouter, browser: BrowserLeg): Promise<PbxParts> {
  const answered = answerCodecs(settled);
  const srtp = answeringSrtp(settled.sdes);
  const pbx = await openPbxLeg(options, answered, settled.remote, router, browser, srtp);
  const answer = nodePbxSdp({
    origin: newOrigin({ address: options.pbx.address }),
    address: options.pbx.address,
    port: pbx.rtpPort,
    codecs: answered,
    srtp,
    direction: answerDirection(settled.direction),
  });
  return { pbx, pbxOffered: answered, pbxFormats: { audio: settled.audio, telephoneEvent: settled.telephoneEvent }, pbxDescription: answer, pbxSrtp: srtp };
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
