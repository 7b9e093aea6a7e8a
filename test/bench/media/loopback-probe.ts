/**
 * The floor under the pass-through latency: two UDP sockets of the generator sending marked
 * packets straight to each other at the same pace, during the same window. What the relay adds is
 * the difference between going through it and this, measured side by side on the same event loop.
 */
import { Buffer } from 'node:buffer';
import { createSocket, type Socket } from 'node:dgram';
import { readRtpHeader, writeRtpHeader } from '../../../media-node/rtp/index.ts';
import { meters, pbxPayload, type LoadCall } from './load-call.ts';
import { sentAtOf, type StreamMeter } from './stream-meter.ts';

export class LoopbackProbe implements LoadCall {
  readonly mode = 'pass-through' as const;
  readonly atPbx: StreamMeter;
  readonly atBrowser: StreamMeter;
  readonly #a: Socket;
  readonly #b: Socket;

  private constructor(a: Socket, b: Socket) {
    // Pass-through meters: 8 kHz PCMU both ways.
    const { atPbx, atBrowser } = meters('pass-through');
    this.atPbx = atPbx;
    this.atBrowser = atBrowser;
    this.#a = a;
    this.#b = b;
    const listen = (socket: Socket, meter: StreamMeter): void => {
      socket.on('message', (message) => {
        const now = performance.now();
        const parsed = readRtpHeader(message);
        if (!parsed.ok) return;
        const { sequenceNumber, timestamp, payloadOffset, payloadLength } = parsed.value;
        meter.onPacket(sequenceNumber, timestamp, now, sentAtOf(message.subarray(payloadOffset, payloadOffset + payloadLength)));
      });
    };
    listen(b, this.atPbx);
    listen(a, this.atBrowser);
  }

  static async open(): Promise<LoopbackProbe> {
    const bind = (): Promise<Socket> => {
      const socket = createSocket('udp4');
      return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve(socket)));
    };
    return new LoopbackProbe(await bind(), await bind());
  }

  sendFromBrowser(index: number, nowMs: number): void {
    this.#a.send(packet(index, nowMs), this.#b.address().port, '127.0.0.1');
  }

  sendFromPbx(index: number, nowMs: number): void {
    this.#b.send(packet(index, nowMs), this.#a.address().port, '127.0.0.1');
  }

  ports(): undefined {
    return undefined;
  }

  async close(): Promise<void> {
    await Promise.all([this.#a, this.#b].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
  }
}

function packet(index: number, nowMs: number): Buffer {
  const out = Buffer.allocUnsafe(172);
  writeRtpHeader(out, { payloadType: 0, sequenceNumber: index & 0xffff, timestamp: (160 * index) >>> 0, marker: false, ssrc: 7 });
  out.set(pbxPayload('pass-through', index, nowMs), 12);
  return out;
}
