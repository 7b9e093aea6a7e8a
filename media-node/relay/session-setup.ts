/**
 * Opening a call's two legs, for either party's offer, and writing the SDP the other party gets.
 *
 * A call from the browser: its offer is answered at once (the browser leg's codec choice), and the
 * PBX is offered what can be relayed to and from that codec; the session waits for the PBX answer.
 * A call from the PBX: its offer is answered at once (the PBX-side preferences), and the browser is
 * offered what can be relayed to and from the PBX's codec; the session waits for the browser answer.
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
  type CodecInput,
  type Direction,
  type SdpSession,
} from '../../shared/sdp/index.ts';
import { BrowserLeg, DEFAULT_BROWSER_CODECS, type BrowserConnectionState, type BrowserLegHandlers, type BrowserLegOptions } from '../browser-leg/index.ts';
import { silentLogger } from '../logger.ts';
import { PbxLeg, type PbxRemote } from '../pbx-leg/index.ts';
import type { RtcpCompound, RtpHeaderFields } from '../rtp/index.ts';
import type { LegFormats } from './leg-formats.ts';
import type { BrowserCallOptions, MediaSessionOptions, PbxCallOptions } from './media-session-options.ts';
import type { LegName } from './media-watchdog.ts';
import { DEFAULT_PBX_CODECS, MediaSessionError, browserOfferCodecs, pbxOfferCodecs, readPbxOffer } from './session-negotiation.ts';

/** Late binding from the legs' handlers to the session they are opened before: no-ops until bound. */
export interface LegRouter {
  browserRtp(packet: RtpPacket): void;
  browserState(state: BrowserConnectionState): void;
  pbxRtp(packet: Uint8Array, header: RtpHeaderFields): void;
  pbxRtcp(compound: RtcpCompound): void;
}

/** What a session is built from. */
export interface SessionParts {
  readonly browser: BrowserLeg;
  readonly pbx: PbxLeg;
  readonly router: LegRouter;
  readonly waitingFor: 'pbx-answer' | 'browser-answer';
  /** Each party's direction so far. */
  readonly directions: Record<LegName, Direction>;
  /** The codecs offered to the PBX (a call from the browser). */
  readonly pbxOffered: readonly CodecInput[];
  /** The PBX leg's formats, when its offer settled them (a call from the PBX). */
  readonly pbxFormats: LegFormats | undefined;
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
  const pbx = await openPbxLeg(options, offered, undefined, router, browser);
  const pbxOffer = buildRtpSdp({ origin: newOrigin({ address: options.pbx.address }), address: options.pbx.address, port: pbx.rtpPort, codecs: offered, ptime: 20 });
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
  const pbx = await openPbxLeg(options, answered, settled.remote, router, browser);
  const pbxAnswer = buildRtpSdp({
    origin: newOrigin({ address: options.pbx.address }),
    address: options.pbx.address,
    port: pbx.rtpPort,
    codecs: answered,
    ptime: 20,
    direction: answerDirection(settled.direction),
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
    },
    pbxAnswer: serializeSdp(pbxAnswer),
    browserOffer,
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
): Promise<PbxLeg> {
  try {
    return await PbxLeg.open(
      {
        ports: options.pbx.ports,
        bindAddress: options.pbx.bindAddress,
        payloadTypes: codecs.map((codec) => codec.payloadType),
        ...(remote === undefined ? {} : { remote }),
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
