import { describe, expect, it } from 'vitest';
import { CODEC_IMPAIRMENTS, QualitySeries, ReceiveStatistics } from '../../../media-node/quality/index.ts';

/** Feeds `count` packets 20 ms apart from `startMs`, skipping the sequence numbers in `lost`. */
function feed(receive: ReceiveStatistics, from: number, count: number, startMs: number, lost: ReadonlySet<number> = new Set()): void {
  for (let seq = from; seq < from + count; seq++) {
    if (lost.has(seq)) continue;
    receive.onPacket({ sequenceNumber: seq, timestamp: seq * 160, payloadLength: 160 }, startMs + (seq - from) * 20);
  }
}

const PCMU = CODEC_IMPAIRMENTS.pcmu;

describe('the quality series of one direction', () => {
  it('samples what arrived in each interval, not since the call began', () => {
    const receive = new ReceiveStatistics(8000);
    const series = new QualitySeries(0, 5000);
    feed(receive, 1, 250, 0);
    const clean = series.sample(receive.snapshot(), PCMU, { roundTripMs: undefined }, 5000);
    // One packet in ten lost in the second interval.
    feed(receive, 251, 250, 5000, new Set(Array.from({ length: 25 }, (_, i) => 255 + i * 10)));
    const lossy = series.sample(receive.snapshot(), PCMU, { roundTripMs: 80 }, 10_000);
    expect(clean).toMatchObject({ t: 5, lost: 0, lossPercent: 0, roundTripMs: null });
    expect(clean.packets).toBeGreaterThan(240);
    expect(lossy).toMatchObject({ t: 10, packets: 225, lost: 25, lossPercent: 10, roundTripMs: 80 });
    expect(clean.mos).toBeGreaterThan(4.3);
    expect(lossy.mos).toBeLessThan(clean.mos as number);
    expect(lossy.mos).toBeGreaterThan(2.5);
  });

  it('says there was no media in an interval (hold) rather than inventing a MOS for it', () => {
    const receive = new ReceiveStatistics(8000);
    const series = new QualitySeries(0, 5000);
    feed(receive, 1, 100, 0);
    series.sample(receive.snapshot(), PCMU, { roundTripMs: undefined }, 5000);
    const held = series.sample(receive.snapshot(), PCMU, { roundTripMs: undefined }, 10_000);
    expect(held).toMatchObject({ packets: 0, lost: 0, lossPercent: 0, mos: null });
  });

  it('keeps only the newest samples, oldest dropped first', () => {
    const receive = new ReceiveStatistics(8000);
    const series = new QualitySeries(0, 1000, 3);
    for (let i = 1; i <= 5; i++) series.sample(receive.snapshot(), PCMU, { roundTripMs: undefined }, i * 1000);
    expect(series.samples().map((sample) => sample.t)).toEqual([3, 4, 5]);
    expect(series.elapsedMs(5400)).toBe(400);
  });
});
