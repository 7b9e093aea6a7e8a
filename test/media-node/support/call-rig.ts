/**
 * A whole call on loopback for relay tests: a werift peer playing the browser, a plain UDP socket
 * playing the PBX, and a `MediaSession` between them, set up the way the edge would drive it
 * (browser offer in, PBX offer out, PBX answer in). Every wait has a deadline.
 */
import { Encoder } from '@evan/opus';
import { encodePcmu } from '../../../media-node/codec/index.ts';
import { PortRange } from '../../../media-node/pbx-leg/index.ts';
import { FrameTicker, MediaSession, type MediaSessionOptions } from '../../../media-node/relay/index.ts';
import { writeRtpHeader } from '../../../media-node/rtp/index.ts';
import { buildRtpSdp, newOrigin, parseSdp, serializeSdp, type CodecFormat, type CodecInput } from '../../../shared/sdp/index.ts';
import { rtpAt, type ReceivedRtp } from './rtp-at.ts';
import { amplitudeAt, sineFrames } from './tone.ts';
import { udpPeer, waitFor, type UdpPeer } from './udp.ts';
import { WeriftBrowser } from './werift-browser.ts';

/** RTP ports of this process's own for PBX legs (pbx-leg tests use 30,000 up). */
const BASE = 50_000 + (process.pid % 500) * 20;
const ports = new PortRange(BASE, BASE + 19);

export const PBX_PCMU: readonly CodecInput[] = [
  { payloadType: 0, name: 'PCMU', clockRate: 8000 },
  { payloadType: 101, name: 'telephone-event', clockRate: 8000, fmtp: '0-16' },
];

export interface CallRigOptions {
  /** Lower-case codec names the werift browser offers; default all of Chrome's. */
  readonly browserOffers?: readonly string[];
  /** The browser leg's preferences; default the session's. */
  readonly browserCodecs?: readonly CodecFormat[];
  /** The PBX's answer codecs; default PCMU and telephone-event 101. */
  readonly pbxAnswer?: readonly CodecInput[];
  readonly mediaTimeoutMs?: number;
  readonly ticker?: FrameTicker;
  readonly onEnded?: MediaSessionOptions['onEnded'];
  /** Stop after `create` (no PBX answer, no connection). */
  readonly createOnly?: boolean;
}

export type PbxRtp = ReceivedRtp;

export interface CallRig {
  readonly ticker: FrameTicker;
  readonly browser: WeriftBrowser;
  readonly pbx: UdpPeer;
  readonly session: MediaSession;
  readonly browserAnswer: string;
  readonly pbxOffer: string;
  /** The node's PBX-facing RTP port. */
  readonly nodePort: number;
  /** Sends an RTP packet from the PBX socket to the node. */
  sendFromPbx(header: { payloadType: number; sequenceNumber: number; timestamp: number; marker?: boolean; ssrc?: number }, payload: Uint8Array): Promise<void>;
  /** The next `count` RTP packets (RTCP skipped) that reach the PBX socket. */
  pbxReceives(count: number, timeoutMs?: number): Promise<PbxRtp[]>;
  close(): Promise<void>;
}

export async function startCall(options: CallRigOptions = {}): Promise<CallRig> {
  const ticker = options.ticker ?? new FrameTicker();
  const browser = new WeriftBrowser(options.browserOffers);
  const pbx = await udpPeer();
  const created = await MediaSession.create({
    browserOffer: await browser.offer(),
    ...(options.browserCodecs === undefined ? {} : { browser: { codecs: options.browserCodecs } }),
    pbx: { ports, bindAddress: '127.0.0.1', address: '127.0.0.1' },
    ticker,
    ...(options.mediaTimeoutMs === undefined ? {} : { mediaTimeoutMs: options.mediaTimeoutMs }),
    ...(options.onEnded === undefined ? {} : { onEnded: options.onEnded }),
  });
  const { session, browserAnswer, pbxOffer } = created;
  const nodePort = parseSdp(pbxOffer).media[0]?.port ?? 0;
  const rig = rigFor({ ticker, browser, pbx, session, browserAnswer, pbxOffer, nodePort, ownTicker: options.ticker === undefined });
  if (options.createOnly) return rig;
  const answer = buildRtpSdp({ origin: newOrigin({ address: '127.0.0.1' }), address: '127.0.0.1', port: pbx.port, codecs: options.pbxAnswer ?? PBX_PCMU, ptime: 20 });
  session.takePbxAnswer(serializeSdp(answer));
  await browser.acceptAnswer(browserAnswer);
  await browser.connected();
  await waitFor(() => session.browserConnectionState === 'connected', 'the media node’s browser leg to connect', 10_000);
  return rig;
}

function rigFor(parts: Omit<CallRig, 'sendFromPbx' | 'pbxReceives' | 'close'> & { readonly ownTicker: boolean }): CallRig {
  const { ticker, browser, pbx, session, nodePort, ownTicker } = parts;
  return {
    ...parts,
    sendFromPbx: (header, payload) => {
      const packet = new Uint8Array(12 + payload.length);
      writeRtpHeader(packet, { marker: false, ssrc: 0x0badcafe, ...header });
      packet.set(payload, 12);
      return pbx.send(packet, nodePort);
    },
    pbxReceives: (count, timeoutMs = 10_000) => rtpAt(pbx, count, { timeoutMs }),
    close: async () => {
      await session.close();
      await browser.close();
      await pbx.close();
      if (ownTicker) ticker.stop();
    },
  };
}

/**
 * A call from the PBX: the PBX socket offers PCMU and telephone-event 101, the session answers it
 * and offers the werift browser, which answers; resolves once the browser leg is connected.
 */
export async function startPbxCall(): Promise<CallRig & { readonly pbxAnswer: string }> {
  const ticker = new FrameTicker();
  const browser = new WeriftBrowser();
  const pbx = await udpPeer();
  const pbxOffer = serializeSdp(buildRtpSdp({ origin: newOrigin({ address: '127.0.0.1' }), address: '127.0.0.1', port: pbx.port, codecs: PBX_PCMU, ptime: 20 }));
  const { session, pbxAnswer, browserOffer } = await MediaSession.createForPbxOffer({
    pbxOffer,
    pbx: { ports, bindAddress: '127.0.0.1', address: '127.0.0.1' },
    ticker,
  });
  const browserAnswer = await browser.answer(browserOffer);
  await session.takeBrowserAnswer(browserAnswer);
  await browser.connected();
  await waitFor(() => session.browserConnectionState === 'connected', 'the media node’s browser leg to connect', 10_000);
  return { ...rigFor({ ticker, browser, pbx, session, browserAnswer, pbxOffer, nodePort: session.pbxRtpPort, ownTicker: true }), pbxAnswer };
}

/** What a browser sends for a tone: 48 kHz mono Opus, 20 ms packets. */
export function opusTone(frequency: number, dbfs: number, packets: number): Uint8Array[] {
  const encoder = new Encoder({ channels: 1, sample_rate: 48000, application: 'voip' });
  return sineFrames(frequency, 48000, amplitudeAt(dbfs), 960, packets).map((frame) => encoder.encode(new Uint8Array(frame.buffer)));
}

/** What a PBX sends for a tone: 20 ms PCMU payloads. */
export function pcmuTone(frequency: number, dbfs: number, packets: number): Uint8Array[] {
  return sineFrames(frequency, 8000, amplitudeAt(dbfs), 160, packets).map((frame) => {
    const payload = new Uint8Array(160);
    encodePcmu(frame, payload);
    return payload;
  });
}
