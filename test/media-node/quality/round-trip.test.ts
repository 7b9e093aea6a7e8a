import { describe, expect, it } from 'vitest';
import { ReceiveStatistics, RoundTripTracker, roundTripMs } from '../../../media-node/quality/index.ts';
import { buildReceiverReport, buildSenderReport, compactNtpFromUnixMs, ntpFromUnixMs, readRtcpCompound } from '../../../media-node/rtp/index.ts';

const T0 = 1_790_000_000_000;

describe('round-trip time from RTCP (RFC 3550 §6.4.1)', () => {
  it('measures 80 ms when a report arrives 180 ms after our SR and the far end held it 100 ms', () => {
    const block = { lastSenderReport: compactNtpFromUnixMs(T0), delaySinceLastSenderReport: Math.round(0.1 * 65536) };
    expect(roundTripMs(block, T0 + 180)).toBeCloseTo(80, 0);
  });

  it('cannot tell before the far end has heard a sender report (LSR 0)', () => {
    expect(roundTripMs({ lastSenderReport: 0, delaySinceLastSenderReport: 0 }, T0)).toBeUndefined();
  });

  it('measures across the wrap of the 32-bit compact NTP clock', () => {
    // A Unix time whose compact NTP is 0xffff_f000: the compact clock wraps 62.5 ms later.
    const beforeWrap = T0 - (((compactNtpFromUnixMs(T0) - 0xffff_f000) >>> 0) / 65536) * 1000;
    const block = { lastSenderReport: compactNtpFromUnixMs(beforeWrap), delaySinceLastSenderReport: 0 };
    expect(block.lastSenderReport).toBeGreaterThan(0xffff_e000);
    expect(roundTripMs(block, beforeWrap + 125)).toBeCloseTo(125, 0);
  });

  it('measures through real SR and RR packets: ours out, the PBX’s report back', () => {
    // Our sender report leaves at T0 and reaches the PBX 40 ms later.
    const sr = readRtcpCompound(buildSenderReport(0x1111, { ntpTimestamp: ntpFromUnixMs(T0), rtpTimestamp: 0, packetCount: 50, octetCount: 8000 }, [], 'us'));
    if (!sr.ok) throw new Error(sr.error);
    const atPbx = new ReceiveStatistics(8000);
    atPbx.onSenderReport((sr.value.reports[0]?.senderInfo as { ntpTimestamp: bigint }).ntpTimestamp, 40);
    // The PBX reports 100 ms later; the report takes 40 ms back.
    const rr = readRtcpCompound(buildReceiverReport(0x2222, [atPbx.reportBlock(0x1111, 140)], 'pbx'));
    if (!rr.ok) throw new Error(rr.error);
    const tracker = new RoundTripTracker();
    expect(tracker.onReportBlock(rr.value.reports[0]?.blocks[0] as never, T0 + 180)).toBeCloseTo(80, 0);
    expect([tracker.latestMs, tracker.leastMs, tracker.meanMs].map((v) => Math.round(v ?? -1))).toEqual([80, 80, 80]);
  });
});
