import { describe, expect, it } from 'vitest';
import {
  CODEC_IMPAIRMENTS,
  ReceiveStatistics,
  delayImpairment,
  directionQuality,
  effectiveEquipmentImpairment,
  estimateMos,
  mosFromRating,
  rating,
} from '../../../media-node/quality/index.ts';

const G711 = CODEC_IMPAIRMENTS.pcmu;

describe('the E-model (ITU-T G.107), simplified', () => {
  it('rates a perfect G.711 call at R 93.2, MOS 4.41', () => {
    expect(rating({ codec: G711, packetLossPercent: 0, oneWayDelayMs: 0 })).toBeCloseTo(93.2, 5);
    expect(estimateMos({ codec: G711, packetLossPercent: 0, oneWayDelayMs: 0 })).toBeCloseTo(4.41, 2);
  });

  it('maps R to MOS by G.107 Annex B, clamped to 1 and 4.5', () => {
    expect(mosFromRating(50)).toBeCloseTo(2.575, 3);
    expect(mosFromRating(-3)).toBe(1);
    expect(mosFromRating(120)).toBe(4.5);
  });

  it('charges delay gently up to 177.3 ms and steeply beyond', () => {
    expect(delayImpairment(150)).toBeCloseTo(3.6, 5);
    expect(delayImpairment(300)).toBeCloseTo(7.2 + 0.11 * 122.7, 5);
  });

  it('charges loss through the codec’s robustness: 1% costs G.711 with concealment 3.64, without 16.3', () => {
    expect(effectiveEquipmentImpairment(G711, 1)).toBeCloseTo(95 / 26.1, 5);
    expect(effectiveEquipmentImpairment(CODEC_IMPAIRMENTS.pcmuWithoutConcealment, 1)).toBeCloseTo(95 / 5.3, 5);
  });

  it('rates bursty loss worse than random loss at the same rate', () => {
    const random = estimateMos({ codec: G711, packetLossPercent: 5, oneWayDelayMs: 60 });
    const bursty = estimateMos({ codec: G711, packetLossPercent: 5, oneWayDelayMs: 60, burstRatio: 2 });
    expect(bursty).toBeLessThan(random);
  });

  it('falls as loss or delay grows', () => {
    const mos = (loss: number, delay: number) => estimateMos({ codec: G711, packetLossPercent: loss, oneWayDelayMs: delay });
    expect(mos(0, 50)).toBeGreaterThan(mos(1, 50));
    expect(mos(1, 50)).toBeGreaterThan(mos(5, 50));
    expect(mos(1, 50)).toBeGreaterThan(mos(1, 250));
  });
});

describe('the quality figures of one direction', () => {
  it('combines the receiver’s counts, the round trip and the delay budget into a MOS', () => {
    const stats = new ReceiveStatistics(8000);
    for (let n = 0; n <= 100; n++) if (n !== 50) stats.onPacket({ sequenceNumber: n, timestamp: 160 * n, payloadLength: 160 }, 20 * n);
    const quality = directionQuality(stats.snapshot(), G711, { roundTripMs: 100, jitterBufferMs: 40 });
    expect(quality).toMatchObject({ packets: 99, expected: 100, lost: 1, roundTripMs: 100, oneWayDelayMs: 50 + 40 + 20 });
    expect(quality.mos).toBeCloseTo(estimateMos({ codec: G711, packetLossPercent: 1, oneWayDelayMs: 110 }), 10);
    expect(quality.mos).toBeGreaterThan(4);
    expect(quality.mos).toBeLessThan(4.3);
  });
});
