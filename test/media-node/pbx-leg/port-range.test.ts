import { describe, expect, it } from 'vitest';
import { PortRange } from '../../../media-node/pbx-leg/index.ts';

describe('the media port range', () => {
  it('hands out even RTP ports, leaving the odd port above each for RTCP', () => {
    const range = new PortRange(40001, 40010);
    expect([range.take(), range.take(), range.take(), range.take()]).toEqual([40002, 40004, 40006, 40008]);
    expect(range.capacity).toBe(4);
  });

  it('goes round the range instead of reusing a just-released port, and says when all are taken', () => {
    const range = new PortRange(40000, 40005);
    const [a, b, c] = [range.take(), range.take(), range.take()];
    expect([a, b, c]).toEqual([40000, 40002, 40004]);
    expect(range.take()).toBeUndefined();
    range.release(40002);
    range.release(40000);
    expect([range.take(), range.take(), range.available]).toEqual([40000, 40002, 0]);
  });

  it('refuses a range without a single even/odd pair or outside unprivileged ports', () => {
    expect(() => new PortRange(40001, 40002)).toThrow(RangeError);
    expect(() => new PortRange(80, 90)).toThrow(RangeError);
    expect(() => new PortRange(65534, 65536)).toThrow(RangeError);
  });
});
