/**
 * A generated call through the media node, set up only with control API requests as the edge
 * would: a werift peer in the browser's place (ICE on 127.0.0.1, DTLS-SRTP) offering Opus
 * (transcoding) or PCMU (pass-through), and a UDP socket in the PBX's place answering PCMU.
 *
 * Once DTLS is up, the peer's RTP goes through the same lean SRTP path the node uses
 * (`DtlsSrtpMedia`) rather than werift's RTP stack: twenty werift stacks in one generator process
 * stalled it for tens of milliseconds at a time, and each stall came out as a burst of late
 * packets into the relay, which a browser (one call per machine) never sends.
 */
import { Buffer } from 'node:buffer';
import { createSocket, type Socket } from 'node:dgram';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';
import { weriftIceConfig } from '../../../media-node/browser-leg/index.ts';
import { DtlsSrtpMedia, type BrowserRtp } from '../../../media-node/browser-leg/dtls-srtp-media.ts';
import { looksLikeRtcp, readRtpHeader, writeRtpHeader } from '../../../media-node/rtp/index.ts';
import { buildRtpSdp, newOrigin, serializeSdp } from '../../../shared/sdp/index.ts';
import type { ControlClient, CreatedFromBrowser } from '../../media-node/support/control-client.ts';
import { browserPayload, browserClockRate, meters, pbxPayload, type CallPorts, type LoadCall, type LoadMode } from './load-call.ts';
import { sentAtOf, type StreamMeter } from './stream-meter.ts';

const OPUS = 111;

export class NodeCall implements LoadCall {
  readonly mode: LoadMode;
  readonly id: string;
  readonly atPbx: StreamMeter;
  readonly atBrowser: StreamMeter;
  readonly #client: ControlClient;
  readonly #pc: RTCPeerConnection;
  readonly #track = new MediaStreamTrack({ kind: 'audio' });
  readonly #pbx: Socket;
  #nodePort = 0;
  #media: DtlsSrtpMedia | undefined;
  readonly #marked: boolean;
  readonly #browserStart = { seq: Math.floor(Math.random() * 30000), ts: Math.floor(Math.random() * 2 ** 31) };
  readonly #pbxStart = { seq: Math.floor(Math.random() * 30000), ts: Math.floor(Math.random() * 2 ** 31) };

  private constructor(client: ControlClient, id: string, mode: LoadMode, pbx: Socket) {
    this.#client = client;
    this.id = id;
    this.mode = mode;
    const { atPbx, atBrowser } = meters(mode);
    this.atPbx = atPbx;
    this.atBrowser = atBrowser;
    this.#pbx = pbx;
    const codec =
      mode === 'transcoding'
        ? new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: OPUS, parameters: 'minptime=10;useinbandfec=1' })
        : new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, payloadType: 0 });
    this.#pc = new RTCPeerConnection({ ...weriftIceConfig(), codecs: { audio: [codec], video: [] }, headerExtensions: { audio: [], video: [] } });
    const marked = mode === 'pass-through';
    this.#marked = marked;
    // Before the lean path starts, and the first packet of each source after it, come through werift.
    this.#pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((packet) => {
        const now = performance.now();
        this.atBrowser.onPacket(packet.header.sequenceNumber, packet.header.timestamp, now, marked ? sentAtOf(packet.payload) : undefined);
      });
    });
    pbx.on('message', (message) => {
      const now = performance.now();
      if (looksLikeRtcp(message)) return;
      const parsed = readRtpHeader(message);
      if (!parsed.ok) return;
      const { sequenceNumber, timestamp, payloadOffset, payloadLength } = parsed.value;
      this.atPbx.onPacket(sequenceNumber, timestamp, now, marked ? sentAtOf(message.subarray(payloadOffset, payloadOffset + payloadLength)) : undefined);
    });
  }

  static async open(client: ControlClient, id: string, mode: LoadMode): Promise<NodeCall> {
    const pbx = createSocket('udp4');
    await new Promise<void>((resolve) => pbx.bind(0, '127.0.0.1', resolve));
    const call = new NodeCall(client, id, mode, pbx);
    try {
      await call.#connect();
    } catch (error) {
      await call.close();
      throw error;
    }
    return call;
  }

  async #connect(): Promise<void> {
    this.#pc.addTransceiver(this.#track, { direction: 'sendrecv' });
    await this.#pc.setLocalDescription(await this.#pc.createOffer());
    await gathered(this.#pc);
    const created = await this.#client.request<CreatedFromBrowser>('POST', '/v1/sessions', { id: this.id, browserOffer: this.#pc.localDescription?.sdp });
    if (created.status !== 201) throw new Error(`create ${this.id}: ${created.status} ${JSON.stringify(created.body)}`);
    this.#nodePort = Number(/m=audio (\d+)/.exec(created.body.pbxOffer)?.[1]);
    const port = this.#pbx.address().port;
    const pbxAnswer = serializeSdp(
      buildRtpSdp({ origin: newOrigin({ address: '127.0.0.1' }), address: '127.0.0.1', port, codecs: [{ payloadType: 0, name: 'PCMU', clockRate: 8000 }], ptime: 20 }),
    );
    const answered = await this.#client.request('POST', `/v1/sessions/${this.id}/answer`, { pbxAnswer });
    if (answered.status !== 200) throw new Error(`answer ${this.id}: ${answered.status} ${JSON.stringify(answered.body)}`);
    await this.#pc.setRemoteDescription({ type: 'answer', sdp: created.body.browserAnswer });
    const deadline = performance.now() + 20_000;
    while (performance.now() < deadline) {
      if (this.#pc.connectionState === 'connected') {
        const view = await this.#client.request<{ browserConnection: string }>('GET', `/v1/sessions/${this.id}`);
        if (view.body.browserConnection === 'connected') {
          this.#startLeanSrtp();
          return;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`call ${this.id} did not connect (${this.#pc.connectionState})`);
  }

  #startLeanSrtp(): void {
    const transceiver = this.#pc.getTransceivers()[0];
    if (transceiver === undefined) return;
    this.#media = DtlsSrtpMedia.start(transceiver, {
      onRtp: (packet: BrowserRtp) => {
        this.atBrowser.onPacket(packet.sequenceNumber, packet.timestamp, performance.now(), this.#marked ? sentAtOf(packet.payload) : undefined);
      },
      // A refused packet never reaches the meter: it counts as lost.
      onRefused: () => undefined,
      onSendError: () => undefined,
    });
  }

  sendFromBrowser(index: number, nowMs: number): void {
    const ticks = browserClockRate(this.mode) / 50;
    const fields = {
      payloadType: this.mode === 'transcoding' ? OPUS : 0,
      sequenceNumber: (this.#browserStart.seq + index) & 0xffff,
      timestamp: (this.#browserStart.ts + ticks * index) >>> 0,
      marker: index === 0,
      ssrc: 1,
    };
    const payload = browserPayload(this.mode, index, nowMs);
    // werift's path for the first packet: its sender reports start from it.
    if (index > 0 && this.#media?.sendRtp(fields, payload) === true) return;
    this.#track.writeRtp(new RtpPacket(new RtpHeader(fields), Buffer.from(payload)));
  }

  sendFromPbx(index: number, nowMs: number): void {
    // A fresh buffer each time: dgram may still hold the last one.
    const packet = Buffer.allocUnsafe(12 + 160);
    writeRtpHeader(packet, {
      payloadType: 0,
      sequenceNumber: (this.#pbxStart.seq + index) & 0xffff,
      timestamp: (this.#pbxStart.ts + 160 * index) >>> 0,
      marker: index === 0,
      ssrc: 0x5eed,
    });
    packet.set(pbxPayload(this.mode, index, nowMs), 12);
    this.#pbx.send(packet, this.#nodePort, '127.0.0.1');
  }

  /** The browser side's ports are the ICE pair werift selected (one socket each, rtcp-mux and BUNDLE). */
  ports(): CallPorts | undefined {
    const pair = this.#pc.iceTransports[0]?.getSelectedCandidatePair();
    if (pair === null || pair === undefined) return undefined;
    return {
      browser: { generator: candidatePort(pair.local.candidate), relay: candidatePort(pair.remote.candidate) },
      pbx: { generator: this.#pbx.address().port, relay: this.#nodePort },
    };
  }

  async close(): Promise<void> {
    this.#media?.stop();
    await this.#client.request('DELETE', `/v1/sessions/${this.id}`).catch(() => undefined);
    await this.#pc.close().catch(() => undefined);
    await new Promise<void>((resolve) => this.#pbx.close(() => resolve()));
  }
}

/** The port of an ICE candidate line (RFC 8839 §5.1: foundation, component, transport, priority, address, port, ...). */
function candidatePort(candidate: string): number {
  return Number(candidate.replace(/^(a=)?candidate:/, '').split(' ')[5]);
}

function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('werift did not finish gathering')), 5000);
    pc.iceGatheringStateChange.subscribe((state) => {
      if (state === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
