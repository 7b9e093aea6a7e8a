import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REPLAY_WINDOW, ReplayWindow } from '../../../media-node/srtp/replay-window.ts';
import { propertyRuns } from '../../support/arbitraries/property-runs.ts';

const RUNS = propertyRuns(500);

/** RFC 3711 §3.3.2 said plainly: every index received, and the highest. */
class ReplayModel {
  highest: number;
  readonly #seen = new Set<number>();

  constructor(index: number) {
    this.highest = index;
    this.#seen.add(index);
  }

  replayed(index: number): boolean {
    return index <= this.highest && (this.highest - index >= REPLAY_WINDOW || this.#seen.has(index));
  }

  note(index: number): void {
    this.#seen.add(index);
    this.highest = Math.max(this.highest, index);
  }
}

/** Moves from the previous index: mostly near it (late, repeated, slightly ahead), sometimes far ahead. */
const stepArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -(REPLAY_WINDOW + 8), max: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 70 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 33 }) },
);

describe('the SRTP replay window (RFC 3711 §3.3.2) without BigInt', () => {
  it('refuses exactly the indexes received before or older than the window, over 48-bit indexes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 2 ** 40 }), fc.array(stepArb, { minLength: 1, maxLength: 300 }), (first, steps) => {
        const window = new ReplayWindow(first);
        const model = new ReplayModel(first);
        let index = first;
        for (const step of steps) {
          index = Math.max(0, index + step);
          const replayed = model.replayed(index);
          expect(window.replayed(index)).toBe(replayed);
          if (!replayed) {
            window.note(index);
            model.note(index);
          }
          expect(window.highest).toBe(model.highest);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps the 64 indexes below the highest: the 64th back is refused, the 63rd back accepted once', () => {
    const window = new ReplayWindow(1000);
    window.note(1100);
    expect(window.replayed(1100 - REPLAY_WINDOW)).toBe(true);
    expect(window.replayed(1100 - REPLAY_WINDOW + 1)).toBe(false);
    window.note(1100 - REPLAY_WINDOW + 1);
    expect(window.replayed(1100 - REPLAY_WINDOW + 1)).toBe(true);
    // Sliding by 32 and by 33 moves bits across the two words of the bitmap.
    window.note(1132);
    expect(window.replayed(1100)).toBe(true);
    window.note(1165);
    expect(window.replayed(1132)).toBe(true);
    expect(window.replayed(1133)).toBe(false);
  });
});
