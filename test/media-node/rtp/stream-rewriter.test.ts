import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtpStreamRewriter, addSequence, addTimestamp, sequenceDelta, timestampDelta, type RewrittenPacket, type SourcePacket } from '../../../media-node/rtp/index.ts';

const LEG = { ssrc: 0xcafe, firstSequenceNumber: 1000, firstTimestamp: 50_000, clockRate: 8000 };

/** A source sending 20 ms G.711 packets: packet `n` of it, arriving at `start + 20 n` ms. */
function packet(ssrc: number, firstSeq: number, firstTs: number, n: number): SourcePacket {
  return { ssrc, sequenceNumber: addSequence(firstSeq, n), timestamp: addTimestamp(firstTs, 160 * n), marker: false };
}

function sent(result: ReturnType<RtpStreamRewriter['rewrite']>): RewrittenPacket {
  if (result.action !== 'send') throw new Error(`expected the packet to be sent, it was dropped: ${result.reason}`);
  return result;
}

describe('one outgoing RTP stream per leg', () => {
  it('starts at the leg’s own SSRC, sequence number and timestamp, with the marker bit', () => {
    const rewriter = new RtpStreamRewriter(LEG);
    expect(rewriter.rewrite(packet(7, 300, 9000, 0), 0)).toEqual({
      action: 'send',
      ssrc: 0xcafe,
      sequenceNumber: 1000,
      timestamp: 50_000,
      marker: true,
      newSource: true,
    });
  });

  it('keeps a source’s spacing: loss stays visible as a gap, and reordering as reordering', () => {
    const rewriter = new RtpStreamRewriter(LEG);
    const order = [0, 1, 3, 2, 4, 7];
    const out = order.map((n) => sent(rewriter.rewrite(packet(7, 300, 9000, n), n * 20)));
    expect(out.map((p) => p.sequenceNumber)).toEqual([1000, 1001, 1003, 1002, 1004, 1007]);
    expect(out.map((p) => p.timestamp - 50_000)).toEqual([0, 160, 480, 320, 640, 1120]);
    expect(out.map((p) => p.marker)).toEqual([true, false, false, false, false, false]);
  });

  it('continues without a jump when the SSRC changes, advancing time by the wall-clock gap', () => {
    const rewriter = new RtpStreamRewriter(LEG);
    for (let n = 0; n < 5; n++) rewriter.rewrite(packet(7, 300, 9000, n), n * 20);
    // The old source's last packet left at 80 ms; the new one starts 100 ms later with other counters.
    const first = sent(rewriter.rewrite(packet(8, 40_000, 123_456, 0), 180));
    const second = sent(rewriter.rewrite(packet(8, 40_000, 123_456, 1), 200));
    expect([first.sequenceNumber, second.sequenceNumber]).toEqual([1005, 1006]);
    expect([first.timestamp - 50_000, second.timestamp - 50_000]).toEqual([640 + 800, 640 + 960]);
    expect([first.marker, first.newSource, second.newSource]).toEqual([true, true, false]);
    expect(first.ssrc).toBe(0xcafe);
  });

  it('advances at least one frame at a source change, even when the packets come back to back', () => {
    const rewriter = new RtpStreamRewriter(LEG);
    rewriter.rewrite(packet(7, 300, 9000, 0), 0);
    expect(sent(rewriter.rewrite(packet(8, 1, 1, 0), 0)).timestamp - 50_000).toBe(160);
  });

  it('treats the next packet as a new source after a re-INVITE, even with the same SSRC', () => {
    const rewriter = new RtpStreamRewriter(LEG);
    for (let n = 0; n < 3; n++) rewriter.rewrite(packet(7, 300, 9000, n), n * 20);
    rewriter.restart();
    const next = sent(rewriter.rewrite(packet(7, 5, 777, 0), 60));
    expect([next.sequenceNumber, next.timestamp - 50_000, next.newSource]).toEqual([1003, 480, true]);
  });

  it('takes a sequence jump beyond RFC 3550’s MAX_DROPOUT as a restarted sender', () => {
    const rewriter = new RtpStreamRewriter(LEG);
    rewriter.rewrite(packet(7, 300, 9000, 0), 0);
    const jumped = sent(rewriter.rewrite(packet(7, 300 + 5000, 9000 + 160, 0), 20));
    expect([jumped.sequenceNumber, jumped.newSource]).toEqual([1001, true]);
  });

  it('drops a straggler older than the first packet of its source, whose number is already taken', () => {
    const rewriter = new RtpStreamRewriter(LEG);
    rewriter.rewrite(packet(7, 300, 9000, 0), 0);
    rewriter.rewrite(packet(8, 40_000, 0, 1), 20);
    expect(rewriter.rewrite(packet(8, 40_000, 0, 0), 25)).toEqual({ action: 'drop', reason: 'before-source-start' });
  });

  it('follows a source across its sequence number and timestamp wrap-around', () => {
    const rewriter = new RtpStreamRewriter({ ...LEG, firstSequenceNumber: 65534, firstTimestamp: 0xffff_ff00 });
    const out = [0, 1, 2, 3].map((n) => sent(rewriter.rewrite(packet(7, 65535, 0xffff_ffa0, n), n * 20)));
    expect(out.map((p) => p.sequenceNumber)).toEqual([65534, 65535, 0, 1]);
    expect(out.map((p) => p.timestamp)).toEqual([0xffff_ff00, 0xffff_ffa0, 0x40, 0xe0]);
  });

  it('never jumps: over any run of sources, each in order, numbers step by one and time moves forward', () => {
    // A source reusing the previous SSRC is told apart by a re-INVITE (restart), as in a real call;
    // without one, its packets would be duplicates of the previous source's, relayed as such.
    const source = fc.record({
      ssrc: fc.integer({ min: 0, max: 3 }),
      firstSeq: fc.integer({ min: 0, max: 0xffff }),
      firstTs: fc.integer({ min: 0, max: 0xffff_ffff }),
      packets: fc.integer({ min: 1, max: 40 }),
      gapMs: fc.integer({ min: 0, max: 2000 }),
      restart: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(source, { minLength: 1, maxLength: 8 }), (sources) => {
        const rewriter = new RtpStreamRewriter(LEG);
        const out: RewrittenPacket[] = [];
        let now = 0;
        let previousSsrc: number | undefined;
        for (const s of sources) {
          if (s.restart || s.ssrc === previousSsrc) rewriter.restart();
          previousSsrc = s.ssrc;
          now += s.gapMs;
          for (let n = 0; n < s.packets; n++) out.push(sent(rewriter.rewrite(packet(s.ssrc, s.firstSeq, s.firstTs, n), (now += 20))));
        }
        for (let i = 1; i < out.length; i++) {
          const previous = out[i - 1] as RewrittenPacket;
          const current = out[i] as RewrittenPacket;
          expect(sequenceDelta(current.sequenceNumber, previous.sequenceNumber)).toBe(1);
          expect(timestampDelta(current.timestamp, previous.timestamp)).toBeGreaterThanOrEqual(160);
        }
      }),
      { numRuns: 300 },
    );
  });
});
