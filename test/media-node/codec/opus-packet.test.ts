import { describe, expect, it } from 'vitest';
import { concealmentPacket, opusFrameCount, opusPacketSamples, twentyMillisecondToc } from '../../../media-node/codec/index.ts';

/** A TOC octet for configuration `config`, mono, frame count code `code` (RFC 6716 §3.1). */
const toc = (config: number, code = 0): number => (config << 3) | code;

describe('Opus packet framing (RFC 6716 §3.1, §3.2)', () => {
  it('gives the duration of a one-frame packet for SILK, hybrid and CELT configurations', () => {
    expect(opusPacketSamples(Uint8Array.of(toc(1), 0xaa), 48000)).toBe(960); // SILK NB 20 ms
    expect(opusPacketSamples(Uint8Array.of(toc(11), 0xaa), 8000)).toBe(480); // SILK WB 60 ms
    expect(opusPacketSamples(Uint8Array.of(toc(13), 0xaa), 48000)).toBe(960); // hybrid SWB 20 ms
    expect(opusPacketSamples(Uint8Array.of(toc(16), 0xaa), 48000)).toBe(120); // CELT NB 2.5 ms
    expect(opusPacketSamples(Uint8Array.of(toc(31), 0xaa), 8000)).toBe(160); // CELT FB 20 ms
  });

  it('counts two frames for codes 1 and 2 and reads the count octet for code 3', () => {
    expect(opusFrameCount(Uint8Array.of(toc(1, 1), 1, 2))).toBe(2);
    expect(opusFrameCount(Uint8Array.of(toc(1, 2), 1, 2, 3))).toBe(2);
    expect(opusFrameCount(Uint8Array.of(toc(1, 3), 3, 1, 2, 3))).toBe(3);
  });

  it('calls an empty or truncated packet, or one longer than 120 ms, undecodable', () => {
    expect(opusPacketSamples(new Uint8Array(0), 8000)).toBe(0);
    expect(opusPacketSamples(Uint8Array.of(toc(1, 3)), 8000)).toBe(0);
    expect(opusPacketSamples(Uint8Array.of(toc(3, 3), 3), 8000)).toBe(0); // 3 x 60 ms
  });

  it('conceals with a lone TOC of a 20 ms frame in the mode and bandwidth last heard', () => {
    expect(twentyMillisecondToc(toc(0))).toBe(toc(1)); // SILK NB 10 ms -> 20 ms
    expect(twentyMillisecondToc(toc(10, 3) | 4)).toBe(toc(9)); // SILK WB 40 ms stereo, code 3 -> mono code 0
    expect(twentyMillisecondToc(toc(14))).toBe(toc(15)); // hybrid FB
    expect(twentyMillisecondToc(toc(28))).toBe(toc(31)); // CELT FB 2.5 ms -> 20 ms
    expect([...concealmentPacket(toc(31, 1))]).toEqual([toc(31)]);
  });
});
