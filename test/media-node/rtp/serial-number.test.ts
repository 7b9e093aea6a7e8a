import { describe, expect, it } from 'vitest';
import { addSequence, addTimestamp, sequenceDelta, timestampDelta } from '../../../media-node/rtp/index.ts';

describe('serial-number arithmetic on RTP counters (RFC 1982)', () => {
  it('sees a sequence number just past the wrap as newer', () => {
    expect(sequenceDelta(2, 65534)).toBe(4);
    expect(sequenceDelta(65534, 2)).toBe(-4);
    expect(sequenceDelta(100, 100)).toBe(0);
  });

  it('sees a timestamp just past the 32-bit wrap as later', () => {
    expect(timestampDelta(100, 0xffff_ff00)).toBe(356);
    expect(timestampDelta(0xffff_ff00, 100)).toBe(-356);
  });

  it('wraps when adding', () => {
    expect(addSequence(65535, 1)).toBe(0);
    expect(addSequence(0, -1)).toBe(65535);
    expect(addTimestamp(0xffff_ffff, 161)).toBe(160);
    expect(addTimestamp(0, -160)).toBe(0xffff_ff60);
  });
});
