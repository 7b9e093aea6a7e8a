import { Buffer } from 'node:buffer';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  RTCRtpCodecParameters,
  RTCRtpReceiver,
  RTCRtpSender,
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpSenderInfo,
  RtcpSrPacket,
  RtpHeader,
  RtpPacket,
  type RtcpPacket,
} from 'werift';
import { BrowserRtcpReports, hasReportInternals, type RtcpTransport } from '../../../media-node/browser-leg/browser-rtcp-reports.ts';
import { compactNtp, ntpFromUnixMs, readRtcpCompound, type RtcpCompound } from '../../../media-node/rtp/index.ts';
import { waitFor } from '../support/udp.ts';

const OPUS = new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 });
const BROWSER_SSRC = 0x0b0b_0b0b;
const CNAME = 'media-node-leg';

/** What went out, as werift's SRTCP would have protected it: one compound per send. */
function capturingTransport(): RtcpTransport & { sent: Array<{ atMs: number; compound: RtcpCompound; types: number[] }> } {
  const sent: Array<{ atMs: number; compound: RtcpCompound; types: number[] }> = [];
  return {
    state: 'connected',
    sent,
    sendRtcp: async (packets: RtcpPacket[]) => {
      const wire = Buffer.concat(packets.map((packet) => packet.serialize()));
      const read = readRtcpCompound(wire);
      if (!read.ok) throw new Error(`not a valid compound: ${read.error}`);
      sent.push({ atMs: Date.now(), compound: read.value, types: packets.map((packet) => packet.type) });
    },
  };
}

/** werift's own sender and receiver for one audio stream, negotiated as a leg's would be. */
function weriftPair(transport: RtcpTransport): { sender: RTCRtpSender; receiver: RTCRtpReceiver } {
  const sender = new RTCRtpSender('audio');
  sender.prepareSend({ codecs: [OPUS], headerExtensions: [], rtcp: { cname: CNAME, ssrc: sender.ssrc, mux: true } });
  sender.dtlsTransport = transport as never;
  const receiver = new RTCRtpReceiver({ debug: {} } as never, 'audio', sender.ssrc);
  receiver.prepareReceive({ codecs: [OPUS], headerExtensions: [], encodings: [] });
  receiver.setDtlsTransport(transport as never);
  return { sender, receiver };
}

function browserRtp(receiver: RTCRtpReceiver, sequenceNumber: number, timestamp: number): void {
  receiver.handleRtpBySsrc(new RtpPacket(new RtpHeader({ payloadType: OPUS.payloadType, sequenceNumber, timestamp, ssrc: BROWSER_SSRC }), Buffer.from([0xf8, 1])), {});
}

/** What the node's SRTP notes on werift's sender per packet sent (`dtls-srtp-media.ts`). */
function nodeSent(sender: RTCRtpSender, packets: number, octets: number, timestamp: number): void {
  Object.assign(sender, { ntpTimestamp: ntpFromUnixMs(Date.now()), rtpTimestamp: timestamp, packetCount: packets, octetCount: octets });
}

async function settlesWithin(promise: Promise<unknown>, timeoutMs: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the browser leg’s RTCP reports', () => {
  it('recognises werift 0.25’s sender and receiver', () => {
    const { sender, receiver } = weriftPair(capturingTransport());
    expect(hasReportInternals(sender, receiver)).toBe(true);
    expect(hasReportInternals({} as RTCRtpSender, receiver)).toBe(false);
  });

  it('go out every 2.5-7.5 s, 5 s on average, the first within 1.25-3.75 s (RFC 3550 §6.2, §6.3.1)', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 24) });
    const transport = capturingTransport();
    const { sender, receiver } = weriftPair(transport);
    const started = Date.now();
    const reports = BrowserRtcpReports.start(sender, receiver, transport, (error) => {
      throw error;
    });
    vi.advanceTimersByTime(600_000);
    reports.stop();
    const times = transport.sent.map((send) => send.atMs);
    expect(times[0]! - started).toBeGreaterThanOrEqual(1250);
    expect(times[0]! - started).toBeLessThanOrEqual(3750);
    const gaps = times.slice(1).map((at, i) => at - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(2500);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(7500);
    // 600 s at 2.5-7.5 s apart; the mean of ~120 uniform gaps is 5 s give or take 0.13 s.
    expect(times.length).toBeGreaterThanOrEqual(80);
    expect(times.length).toBeLessThanOrEqual(240);
    const mean = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
    expect(mean).toBeGreaterThan(4250);
    expect(mean).toBeLessThan(5750);
    // Stopped: nothing more.
    vi.advanceTimersByTime(60_000);
    expect(transport.sent.map((send) => send.atMs)).toEqual(times);
  });

  it('are one RR with the CNAME while the leg has sent nothing, then one SR with a block per browser source and the CNAME', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 24) });
    const transport = capturingTransport();
    const { sender, receiver } = weriftPair(transport);
    const reports = BrowserRtcpReports.start(sender, receiver, transport, (error) => {
      throw error;
    });
    vi.advanceTimersByTime(3750);
    expect(transport.sent).toHaveLength(1);
    expect(transport.sent[0]?.types).toEqual([RtcpRrPacket.type, 202]);
    expect(transport.sent[0]?.compound.reports).toEqual([{ kind: 'receiver-report', ssrc: sender.ssrc, blocks: [] }]);

    // The browser: sequence numbers 65534, 65535, (0 lost), 1 across the wrap; then its SR.
    browserRtp(receiver, 65534, 0);
    browserRtp(receiver, 65535, 960);
    browserRtp(receiver, 1, 2880);
    const browserSrNtp = ntpFromUnixMs(Date.now());
    receiver.handleRtcpPacket(
      new RtcpSrPacket({ ssrc: BROWSER_SSRC, senderInfo: new RtcpSenderInfo({ ntpTimestamp: browserSrNtp, rtpTimestamp: 2880, packetCount: 3, octetCount: 6 }) }),
    );
    vi.advanceTimersByTime(250);
    // The node has sent 25 packets of 80 octets, the last 100 ms before the report.
    nodeSent(sender, 25, 2000, 48_000);
    const before = transport.sent.length;
    vi.advanceTimersByTime(100);
    while (transport.sent.length === before) vi.advanceTimersByTime(10);
    const sent = transport.sent.at(-1);
    const srArrived = (Date.UTC(2026, 10, 24) + 3750) / 1000;
    expect(sent?.types).toEqual([RtcpSrPacket.type, 202]);
    const report = sent?.compound.reports[0];
    expect(report?.kind).toBe('sender-report');
    expect(report?.ssrc).toBe(sender.ssrc);
    expect(report?.senderInfo).toMatchObject({ packetCount: 25, octetCount: 2000, ntpTimestamp: ntpFromUnixMs(sent?.atMs ?? 0) });
    // RFC 3550 §6.4.1: the RTP timestamp of the report's instant, 48 kHz on from the last packet.
    const sincePacketMs = (sent?.atMs ?? 0) - (Date.UTC(2026, 10, 24) + 3750 + 250);
    expect(report?.senderInfo?.rtpTimestamp).toBe(48_000 + Math.round(sincePacketMs * 48));
    expect(report?.blocks).toEqual([
      {
        ssrc: BROWSER_SSRC,
        fractionLost: 64,
        cumulativeLost: 1,
        // Extended: one cycle of 65536, then sequence number 1.
        highestSequence: 65537,
        jitter: expect.any(Number),
        lastSenderReport: compactNtp(browserSrNtp),
        delaySinceLastSenderReport: Math.floor(((sent?.atMs ?? 0) / 1000 - srArrived) * 65536),
      },
    ]);
    reports.stop();
  });

  it('let werift work out the round trip from the browser’s block about the node’s SR', () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 24) });
    const transport = capturingTransport();
    const { sender, receiver } = weriftPair(transport);
    const reports = BrowserRtcpReports.start(sender, receiver, transport, (error) => {
      throw error;
    });
    nodeSent(sender, 1, 80, 0);
    vi.advanceTimersByTime(3750);
    reports.stop();
    const sent = transport.sent[0];
    const sr = sent?.compound.reports[0];
    if (sent === undefined || sr?.senderInfo === undefined) throw new Error('no sender report');
    // The browser holds the SR 40 ms and its report arrives 30 ms after that: 70 ms - 40 ms.
    vi.setSystemTime(sent.atMs + 70);
    sender.handleRtcpPacket(
      new RtcpRrPacket({
        ssrc: BROWSER_SSRC,
        reports: [new RtcpReceiverInfo({ ssrc: sender.ssrc, lsr: compactNtp(sr.senderInfo.ntpTimestamp), dlsr: Math.round(0.04 * 65536) })],
      }),
    );
    expect((sender as unknown as { rtt?: number }).rtt).toBeCloseTo(0.03, 3);
  });

  it('end werift’s own report loops for good: no werift report once started, even after the packets that would start them again', async () => {
    const transport = capturingTransport();
    const { sender, receiver } = weriftPair(transport);
    // werift's loops running, as on a leg that carried RTP on werift's path (0.5-1.5 s each).
    const senderLoop = sender.runRtcp();
    const receiverLoop = receiver.runRtcp();
    browserRtp(receiver, 1, 0);
    await waitFor(
      () => transport.sent.some((send) => send.types[0] === RtcpRrPacket.type) && transport.sent.some((send) => send.types[0] === RtcpSrPacket.type),
      'werift’s RR and SR',
      10_000,
    );
    // The node's reports take over, then stop too: whatever comes now would be werift's.
    BrowserRtcpReports.start(sender, receiver, transport, (error) => {
      throw error;
    }).stop();
    // Ended, not paused: both loops return.
    await settlesWithin(Promise.all([senderLoop, receiverLoop]), 5000, 'werift’s loops to end');
    const sentBefore = transport.sent.length;
    browserRtp(receiver, 2, 960);
    void sender.runRtcp();
    void receiver.runRtcp();
    browserRtp(receiver, 3, 1920);
    // Four seconds: werift's two loops would have sent at least five reports between them.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(transport.sent.length - sentBefore).toBe(0);
  });
});
