import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JitterBuffer, type JitterBufferOptions, type Playout, type PushOutcome } from '../../../media-node/jitter/index.ts';
import { addSequence, addTimestamp } from '../../../media-node/rtp/index.ts';

const OPUS: JitterBufferOptions = { clockRate: 48000 };

/** Packet `n` of a browser's 20 ms Opus stream; its payload names it. */
function packet(n: number, firstSeq = 1000, firstTs = 96_000) {
  return { sequenceNumber: addSequence(firstSeq, n), timestamp: addTimestamp(firstTs, 960 * n), payload: Uint8Array.of(n & 0xff, n >> 8) };
}

interface Arrival {
  readonly n: number;
  readonly at: number;
  readonly firstSeq?: number;
  readonly firstTs?: number;
}

interface Step {
  readonly at: number;
  readonly playout: Playout;
}

/**
 * Drives the buffer as the media node would: arrivals up to each tick time are pushed first, then
 * the tick runs; ticks every 20 ms from 0 to `untilMs`.
 */
function simulate(buffer: JitterBuffer, arrivals: readonly Arrival[], untilMs: number): { steps: Step[]; outcomes: PushOutcome[]; byPacket: Map<number, PushOutcome> } {
  const pending = [...arrivals].sort((a, b) => a.at - b.at);
  const steps: Step[] = [];
  const outcomes: PushOutcome[] = [];
  const byPacket = new Map<number, PushOutcome>();
  for (let now = 0; now <= untilMs; now += 20) {
    while (pending.length > 0 && (pending[0] as Arrival).at <= now) {
      const arrival = pending.shift() as Arrival;
      const outcome = buffer.push(packet(arrival.n, arrival.firstSeq, arrival.firstTs), arrival.at);
      outcomes.push(outcome);
      byPacket.set(arrival.n, outcome);
    }
    steps.push({ at: now, playout: buffer.tick(now) });
  }
  return { steps, outcomes, byPacket };
}

/** A compact transcript: packet numbers played, '~' concealed (missing), '+' stretched, '.' idle. */
function transcript(steps: readonly Step[]): string[] {
  return steps.map(({ playout }) => {
    if (playout.kind === 'idle') return '.';
    if (playout.kind === 'conceal') return playout.reason === 'missing' ? '~' : '+';
    return String((playout.packet.payload[0] as number) | ((playout.packet.payload[1] as number) << 8));
  });
}

/** The transcript without idle ticks and without the concealment that follows the stream's end. */
function heard(steps: readonly Step[]): string[] {
  const text = transcript(steps).filter((s) => s !== '.');
  while (text[text.length - 1] === '~') text.pop();
  return text;
}

/** Steady arrivals: packet n at 20 n + offset ms, for n in [from, to). */
function steady(from: number, to: number, offset = 5, jitter: (n: number) => number = () => 0): Arrival[] {
  return Array.from({ length: to - from }, (_, i) => ({ n: from + i, at: 20 * (from + i) + offset + jitter(from + i) }));
}

describe('the jitter buffer on a steady stream', () => {
  it('waits the initial delay, then plays one packet per tick in order', () => {
    const { steps } = simulate(new JitterBuffer(OPUS), steady(0, 6), 160);
    // Packet 0 arrives at 5 ms; 40 ms of delay puts its playout at the tick of 40 ms. After the last
    // packet, the next tick conceals: the buffer cannot yet tell a loss from the end of the stream.
    expect(transcript(steps)).toEqual(['.', '.', '0', '1', '2', '3', '4', '5', '~']);
  });

  it('puts reordered packets back in order', () => {
    const arrivals = steady(0, 8).map((a) => (a.n === 3 ? { ...a, at: 78 } : a.n === 4 ? { ...a, at: 76 } : a));
    const { steps } = simulate(new JitterBuffer(OPUS), arrivals, 200);
    expect(heard(steps)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
  });

  it('drops a duplicate whether it is still queued or already played', () => {
    const arrivals = [...steady(0, 6), { n: 3, at: 66 }, { n: 1, at: 86 }];
    const buffer = new JitterBuffer(OPUS);
    const { steps, outcomes } = simulate(buffer, arrivals, 200);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(2);
    expect(heard(steps)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(buffer.counters.duplicates).toBe(2);
  });

  it('names a lost packet as missing, so the decoder conceals it, and plays on after it', () => {
    const buffer = new JitterBuffer(OPUS);
    const { steps } = simulate(buffer, steady(0, 8).filter((a) => a.n !== 4), 220);
    expect(heard(steps)).toEqual(['0', '1', '2', '3', '~', '5', '6', '7']);
    expect(buffer.counters).toMatchObject({ played: 7, late: 0 });
  });

  it('follows the sequence number and timestamp across their wrap-around', () => {
    const arrivals = steady(0, 6).map((a) => ({ ...a, firstSeq: 65533, firstTs: 0xffff_f000 }));
    const { steps } = simulate(new JitterBuffer(OPUS), arrivals, 160);
    expect(heard(steps)).toEqual(['0', '1', '2', '3', '4', '5']);
  });
});

describe('the jitter buffer adapting its delay', () => {
  it('drops a packet that comes after its slot, then grows the delay by as many frames as it was late', () => {
    const buffer = new JitterBuffer(OPUS);
    // Packet 5 is held up 75 ms: due at the tick of 140 ms, it arrives at 180 ms, two frames late.
    const arrivals = steady(0, 20).map((a) => (a.n === 5 ? { ...a, at: a.at + 75 } : a));
    const { steps, outcomes } = simulate(buffer, arrivals, 500);
    expect(outcomes.filter((o) => o === 'late')).toHaveLength(1);
    expect(buffer.delayMs).toBe(80);
    // 5 is concealed when due (140 ms); it turns up at 180 ms, two frames late, just before that
    // tick, so playout stretches by two frames there and then carries on from 7.
    expect(heard(steps)).toEqual(['0', '1', '2', '3', '4', '~', '6', '+', '+', '7', '8', '9', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19']);
  });

  it('after growing, stops losing packets to the same jitter', () => {
    const buffer = new JitterBuffer(OPUS);
    // Every tenth packet is held up 50 ms; the first such misses its slot by one frame.
    const { byPacket } = simulate(buffer, steady(0, 200, 5, (n) => (n % 10 === 9 ? 50 : 0)), 4200);
    expect([...byPacket].filter(([, outcome]) => outcome === 'late').map(([n]) => n)).toEqual([9]);
    expect(buffer.delayMs).toBe(60);
  });

  it('shrinks one frame per calm window, down to the safety margin and never below the minimum', () => {
    const buffer = new JitterBuffer({ ...OPUS, initialDelayMs: 200, shrinkWindow: 50 });
    const { steps } = simulate(buffer, steady(0, 600), 12_100);
    // Steady arrivals 5 ms after each tick: a lead of one frame is the safety margin, so 40 ms.
    expect(buffer.delayMs).toBe(40);
    const played = transcript(steps).filter((s) => s !== '.' && s !== '~' && s !== '+').map(Number);
    expect(played).toEqual([...played].sort((a, b) => a - b));
    expect(buffer.counters.late).toBe(0);
    expect(buffer.counters.skipped).toBe(8);
  });

  it.each([
    [20, 40],
    [60, 60],
    [120, 100],
  ])('on a network with up to %i ms of uniform jitter, loses under 0.1%% late and settles at %i ms', (jitterMs, settledMs) => {
    let seed = 42;
    const random = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const buffer = new JitterBuffer(OPUS);
    simulate(buffer, steady(0, 3000, 5, () => random() * jitterMs), 60_000);
    expect(buffer.counters.late).toBeLessThanOrEqual(3);
    expect(buffer.delayMs).toBe(settledMs);
  });

  it('caps growth at the maximum delay however late a packet is', () => {
    const buffer = new JitterBuffer({ ...OPUS, maxDelayMs: 100 });
    const arrivals = steady(0, 30).map((a) => (a.n === 5 ? { ...a, at: a.at + 400 } : a));
    simulate(buffer, arrivals, 800);
    expect(buffer.delayMs).toBe(100);
  });

  it('never holds more than the maximum delay of audio: a burst beyond it drops the oldest', () => {
    const buffer = new JitterBuffer({ ...OPUS, maxDelayMs: 100 });
    // 20 packets arrive at once: at most 100 ms of them (five frames) may wait.
    for (let n = 0; n < 20; n++) buffer.push(packet(n), 0);
    expect(buffer.size).toBe(5);
    expect(buffer.counters.skipped).toBe(15);
  });
});

describe('the jitter buffer when the stream stops or changes', () => {
  it('conceals through a short gap, goes idle when the sender pauses, and re-buffers when it resumes', () => {
    const buffer = new JitterBuffer(OPUS);
    const arrivals = [...steady(0, 5), ...steady(30, 35)];
    const { steps } = simulate(buffer, arrivals, 1000);
    const text = transcript(steps).join(' ');
    // Packet 4 arrives at 85 ms: frames are concealed until 200 ms have passed without an arrival
    // (the tick of 300 ms), then idle; packet 30 arrives at 605 ms and plays at the first tick 30 ms or more later.
    expect(text).toBe(
      '. . 0 1 2 3 4 ~ ~ ~ ~ ~ ~ ~ ~ . . . . . . . . . . . . . . . . . 30 31 32 33 34 ~ ~ ~ ~ ~ ~ ~ ~ . . . . . .',
    );
    expect(buffer.state).toBe('buffering');
  });

  it('starts over when the sequence number jumps beyond RFC 3550’s MAX_DROPOUT', () => {
    const buffer = new JitterBuffer(OPUS);
    const arrivals = [...steady(0, 4), ...steady(4, 8).map((a) => ({ ...a, firstSeq: 20_000 }))];
    const { steps, outcomes } = simulate(buffer, arrivals, 240);
    expect(outcomes).toEqual(['queued', 'queued', 'queued', 'queued', 'restarted', 'queued', 'queued', 'queued']);
    // Packet 3 of the old stream was still waiting when 4 restarted the buffer: it is dropped.
    expect(heard(steps)).toEqual(['0', '1', '2', '4', '5', '6', '7']);
    expect(buffer.counters).toMatchObject({ restarts: 1, skipped: 1 });
  });

  it('forgets everything on reset, as after an SSRC change', () => {
    const buffer = new JitterBuffer(OPUS);
    buffer.push(packet(0), 0);
    buffer.push(packet(1), 20);
    buffer.reset();
    expect([buffer.size, buffer.state]).toEqual([0, 'buffering']);
    expect(buffer.push(packet(1), 40)).toBe('queued');
  });
});

describe('the jitter buffer under any arrival pattern', () => {
  it('plays each packet at most once, in order, and accounts for every packet pushed', () => {
    const arrival = fc.record({ n: fc.integer({ min: 0, max: 120 }), jitter: fc.integer({ min: 0, max: 300 }) });
    fc.assert(
      fc.property(fc.array(arrival, { maxLength: 200 }), (raw) => {
        const buffer = new JitterBuffer(OPUS);
        const { steps, outcomes } = simulate(
          buffer,
          raw.map(({ n, jitter }) => ({ n, at: 20 * n + jitter })),
          20 * 140 + 400,
        );
        const played = steps.flatMap(({ playout }) => (playout.kind === 'play' ? [playout.packet.sequenceNumber - 1000] : []));
        for (let i = 1; i < played.length; i++) expect(played[i] as number).toBeGreaterThan(played[i - 1] as number);
        const c = buffer.counters;
        expect(c.pushed).toBe(outcomes.length);
        expect(c.played + c.late + c.duplicates + c.skipped + buffer.size).toBe(c.pushed);
        expect(buffer.delayMs).toBeLessThanOrEqual(200);
      }),
      { numRuns: 200 },
    );
  });
});
