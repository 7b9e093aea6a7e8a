import { describe, expect, it } from 'vitest';
import { PayloadTypeMap, type RtpFormat } from '../../../media-node/rtp/index.ts';

/** A browser's offer (Chrome's numbering) and an Asterisk-like PBX answer. */
const BROWSER: RtpFormat[] = [
  { payloadType: 111, encodingName: 'opus', clockRate: 48000, channels: 2 },
  { payloadType: 0, encodingName: 'PCMU', clockRate: 8000 },
  { payloadType: 8, encodingName: 'PCMA', clockRate: 8000 },
  { payloadType: 110, encodingName: 'telephone-event', clockRate: 48000 },
  { payloadType: 126, encodingName: 'telephone-event', clockRate: 8000 },
];
const PBX: RtpFormat[] = [
  { payloadType: 0, encodingName: 'PCMU', clockRate: 8000 },
  { payloadType: 101, encodingName: 'TELEPHONE-EVENT', clockRate: 8000, channels: 1 },
];

describe('payload type remapping between legs', () => {
  it('maps the PBX’s telephone-event 101 to the browser’s 126 at the same 8 kHz clock, and back', () => {
    expect(PayloadTypeMap.matching(PBX, BROWSER).map(101)).toBe(126);
    expect(PayloadTypeMap.matching(BROWSER, PBX).map(126)).toBe(101);
  });

  it('passes a static payload type the other leg also negotiated', () => {
    expect(PayloadTypeMap.matching(PBX, BROWSER).map(0)).toBe(0);
  });

  it('has no partner for formats the other leg lacks, including events at another clock rate', () => {
    const toPbx = PayloadTypeMap.matching(BROWSER, PBX);
    expect([toPbx.map(111), toPbx.map(8), toPbx.map(110), toPbx.map(96)]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('takes explicit pairs and refuses numbers outside 0-127', () => {
    const map = new PayloadTypeMap([[101, 126]]);
    expect(map.map(101)).toBe(126);
    expect(() => map.set(128, 0)).toThrow(RangeError);
    expect(() => map.set(0, -1)).toThrow(RangeError);
  });
});
