/**
 * A generated call with the same load as `node-call.ts`, but plain RTP on both sides, through a
 * relay that sets calls up by their ports: rtpengine (the rig's reference figure has no SRTP), or
 * the bare Node relay (`bare-relay.ts`, the floor of a relay written for Node).
 *
 * Through rtpengine, the browser side offers Opus (transcoding: `codec-mask-opus
 * codec-transcode-PCMU`, as the rig's Kamailio asks) or PCMU (pass-through), the PBX side answers
 * PCMU; offer, answer and delete go over the ng protocol.
 */
import { Buffer } from 'node:buffer';
import { createSocket, type Socket } from 'node:dgram';
import { looksLikeRtcp, readRtpHeader, writeRtpHeader } from '../../../media-node/rtp/index.ts';
import type { BValue } from './bencode.ts';
import { browserClockRate, browserPayload, meters, pbxPayload, type CallPorts, type LoadCall, type LoadMode } from './load-call.ts';
import type { BareRelay, RelayPorts } from './bare-relay.ts';
import type { Rtpengine } from './rtpengine.ts';
import { sentAtOf, type StreamMeter } from './stream-meter.ts';

const OPUS = 111;

/** A relay that carries plain RTP between the generator's two sockets of a call. */
export interface PlainRelay {
  /** Sets the call up: the relay's ports facing each side, given the generator's. */
  open(callId: string, mode: LoadMode, generator: { readonly browser: number; readonly pbx: number }): Promise<RelayPorts>;
  close(callId: string): Promise<void>;
}

export function rtpengineRelay(engine: Rtpengine): PlainRelay {
  return {
    async open(callId, mode, generator) {
      const browserCodec = mode === 'transcoding' ? { pt: OPUS, rtpmap: 'opus/48000/2' } : { pt: 0, rtpmap: 'PCMU/8000' };
      const offered = await engine.command({
        command: 'offer',
        'call-id': callId,
        'from-tag': 'browser',
        sdp: plainSdp(generator.browser, browserCodec.pt, browserCodec.rtpmap),
        replace: ['origin', 'session-connection'],
        ICE: 'remove',
        'transport-protocol': 'RTP/AVP',
        ...(mode === 'transcoding' ? { codec: { mask: ['opus'], transcode: ['PCMU'] } } : {}),
      });
      const answered = await engine.command({
        command: 'answer',
        'call-id': callId,
        'from-tag': 'browser',
        'to-tag': 'pbx',
        sdp: plainSdp(generator.pbx, 0, 'PCMU/8000'),
        replace: ['origin', 'session-connection'],
        ICE: 'remove',
      });
      return { towardPbx: mediaPort(offered), towardBrowser: mediaPort(answered) };
    },
    async close(callId) {
      await engine.command({ command: 'delete', 'call-id': callId, 'from-tag': 'browser' });
    },
  };
}

/** The bare relay forwards whatever comes: pass-through only. */
export function bareRelay(relay: BareRelay): PlainRelay {
  return {
    open: (callId, mode) => {
      if (mode !== 'pass-through') return Promise.reject(new Error('the bare relay does not transcode'));
      return relay.open(callId);
    },
    close: (callId) => relay.close(callId),
  };
}

export class PlainRtpCall implements LoadCall {
  readonly mode: LoadMode;
  readonly atPbx: StreamMeter;
  readonly atBrowser: StreamMeter;
  readonly #relay: PlainRelay;
  readonly #callId: string;
  readonly #browser: Socket;
  readonly #pbx: Socket;
  /** The relay's ports facing each side. */
  #towardBrowser = 0;
  #towardPbx = 0;

  private constructor(relay: PlainRelay, callId: string, mode: LoadMode, browser: Socket, pbx: Socket) {
    this.#relay = relay;
    this.#callId = callId;
    this.mode = mode;
    const { atPbx, atBrowser } = meters(mode);
    this.atPbx = atPbx;
    this.atBrowser = atBrowser;
    this.#browser = browser;
    this.#pbx = pbx;
    const marked = mode === 'pass-through';
    const listen = (socket: Socket, meter: StreamMeter): void => {
      socket.on('message', (message) => {
        const now = performance.now();
        if (looksLikeRtcp(message)) return;
        const parsed = readRtpHeader(message);
        if (!parsed.ok) return;
        const { sequenceNumber, timestamp, payloadOffset, payloadLength } = parsed.value;
        meter.onPacket(sequenceNumber, timestamp, now, marked ? sentAtOf(message.subarray(payloadOffset, payloadOffset + payloadLength)) : undefined);
      });
    };
    listen(browser, atBrowser);
    listen(pbx, atPbx);
  }

  static async open(relay: PlainRelay, callId: string, mode: LoadMode): Promise<PlainRtpCall> {
    const [browser, pbx] = await Promise.all([bound(), bound()]);
    const call = new PlainRtpCall(relay, callId, mode, browser, pbx);
    try {
      const ports = await relay.open(callId, mode, { browser: browser.address().port, pbx: pbx.address().port });
      call.#towardBrowser = ports.towardBrowser;
      call.#towardPbx = ports.towardPbx;
    } catch (error) {
      await call.close();
      throw error;
    }
    return call;
  }

  sendFromBrowser(index: number, nowMs: number): void {
    const payload = browserPayload(this.mode, index, nowMs);
    const ticks = browserClockRate(this.mode) / 50;
    this.#browser.send(rtp(this.mode === 'transcoding' ? OPUS : 0, index, ticks, 0xb0, payload), this.#towardBrowser, '127.0.0.1');
  }

  sendFromPbx(index: number, nowMs: number): void {
    this.#pbx.send(rtp(0, index, 160, 0x5eed, pbxPayload(this.mode, index, nowMs)), this.#towardPbx, '127.0.0.1');
  }

  ports(): CallPorts {
    return {
      browser: { generator: this.#browser.address().port, relay: this.#towardBrowser },
      pbx: { generator: this.#pbx.address().port, relay: this.#towardPbx },
    };
  }

  async close(): Promise<void> {
    await this.#relay.close(this.#callId).catch(() => undefined);
    await Promise.all([this.#browser, this.#pbx].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  }
}

function rtp(payloadType: number, index: number, ticks: number, ssrc: number, payload: Uint8Array): Buffer {
  const packet = Buffer.allocUnsafe(12 + payload.length);
  writeRtpHeader(packet, { payloadType, sequenceNumber: (1000 + index) & 0xffff, timestamp: (ticks * index) >>> 0, marker: index === 0, ssrc });
  packet.set(payload, 12);
  return packet;
}

function plainSdp(port: number, payloadType: number, rtpmap: string): string {
  return [
    'v=0',
    `o=- ${Date.now()} 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP ${payloadType}`,
    `a=rtpmap:${payloadType} ${rtpmap}`,
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

function mediaPort(reply: Readonly<Record<string, BValue>>): number {
  const match = /m=audio (\d+)/.exec(String(reply['sdp']));
  if (match === null) throw new Error(`rtpengine answered no media port: ${JSON.stringify(reply)}`);
  return Number(match[1]);
}

function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket)));
}
