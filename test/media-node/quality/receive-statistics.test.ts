import { describe, expect, it } from 'vitest';
import { ReceiveStatistics } from '../../../media-node/quality/index.ts';
import { addSequence, addTimestamp, compactNtp, ntpFromUnixMs } from '../../../media-node/rtp/index.ts';

/** Packet `n` of a 20 ms PCMU stream starting at `firstSeq`, arriving on time plus `lateMs`. */
function receive(stats: ReceiveStatistics, n: number, firstSeq = 100, lateMs = 0, firstTs = 8000): boolean {
  return stats.onPacket({ sequenceNumber: addSequence(firstSeq, n), timestamp: addTimestamp(firstTs, 160 * n), payloadLength: 160 }, 20 * n + lateMs);
}

describe('receiver statistics for one stream (RFC 3550 Appendix A)', () => {
  it('believes a source only after two packets in sequence, and counts from the second (A.1 probation)', () => {
    const stats = new ReceiveStatistics(8000);
    expect(receive(stats, 0)).toBe(false);
    expect(receive(stats, 1)).toBe(true);
    expect(receive(stats, 2)).toBe(true);
    expect(stats.snapshot()).toMatchObject({ packets: 2, expected: 2, lost: 0, octets: 320, refused: 1 });
  });

  it('counts the packets that never came as lost, and the share lost since the last report (A.3)', () => {
    const stats = new ReceiveStatistics(8000);
    for (let n = 0; n <= 100; n++) if (![10, 20, 30, 40, 50].includes(n)) receive(stats, n);
    const first = stats.reportBlock(0xabc, 2100);
    expect(first).toMatchObject({ ssrc: 0xabc, cumulativeLost: 5, fractionLost: Math.floor((5 * 256) / 100), highestSequence: 200 });
    expect(stats.snapshot().lossPercent).toBeCloseTo(5, 5);
    for (let n = 101; n <= 150; n++) receive(stats, n);
    expect(stats.reportBlock(0xabc, 3100)).toMatchObject({ cumulativeLost: 5, fractionLost: 0, highestSequence: 250 });
  });

  it('counts duplicates as received, so cumulative loss can go negative, as RFC 3550 allows', () => {
    const stats = new ReceiveStatistics(8000);
    for (let n = 0; n < 10; n++) receive(stats, n);
    receive(stats, 5);
    receive(stats, 6);
    expect(stats.reportBlock(1, 300).cumulativeLost).toBe(-2);
  });

  it('extends the highest sequence number with a cycle count across the wrap', () => {
    const stats = new ReceiveStatistics(8000);
    for (let n = 0; n < 20; n++) receive(stats, n, 65530);
    expect(stats.reportBlock(1, 400)).toMatchObject({ highestSequence: 65536 + 13, cumulativeLost: 0 });
  });

  it('takes a jump past MAX_DROPOUT as a restart only once the next packet follows it', () => {
    const stats = new ReceiveStatistics(8000);
    for (let n = 0; n < 5; n++) receive(stats, n);
    expect(stats.onPacket({ sequenceNumber: 20_000, timestamp: 0, payloadLength: 160 }, 100)).toBe(false);
    expect(stats.onPacket({ sequenceNumber: 20_001, timestamp: 160, payloadLength: 160 }, 120)).toBe(true);
    expect(stats.snapshot()).toMatchObject({ packets: 1, expected: 1 });
  });

  it('measures no jitter when packets keep their spacing, even across the timestamp wrap', () => {
    const stats = new ReceiveStatistics(8000);
    for (let n = 0; n < 50; n++) receive(stats, n, 100, 7, 0xffff_f000);
    expect(stats.snapshot().jitterMs).toBe(0);
  });

  it('converges on 10 ms of jitter when arrivals alternate between on time and 10 ms late (A.8)', () => {
    const stats = new ReceiveStatistics(8000);
    for (let n = 0; n < 300; n++) receive(stats, n, 100, n % 2 === 0 ? 0 : 10);
    expect(stats.snapshot().jitterMs).toBeCloseTo(10, 3);
    expect(stats.reportBlock(1, 6000).jitter).toBe(79); // just under 80 timestamp units at 8 kHz
  });

  it('echoes the last sender report heard and how long ago, for the sender’s round trip (§6.4.1)', () => {
    const stats = new ReceiveStatistics(8000);
    const ntp = ntpFromUnixMs(1_790_000_000_000);
    stats.onSenderReport(ntp, 1000);
    expect(stats.reportBlock(1, 1250)).toMatchObject({ lastSenderReport: compactNtp(ntp), delaySinceLastSenderReport: 16384 });
  });

  it('reports no sender report before one is heard', () => {
    expect(new ReceiveStatistics(8000).reportBlock(1, 0)).toMatchObject({ lastSenderReport: 0, delaySinceLastSenderReport: 0 });
  });
});
