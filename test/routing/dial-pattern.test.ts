/**
 * Operator-written patterns: what a dial plan needs compiles, what could make matching slow is
 * refused with a reason, and checking never throws whatever the input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern, MAX_PATTERN_LENGTH } from '../../workers/routing/dial-pattern.ts';
import { propertyRuns } from '../support/arbitraries/property-runs.ts';

function refusal(source: string): string {
  const check = compilePattern(source, true);
  if (check.ok) throw new Error(`${source} was accepted`);
  return check.error;
}

describe('dial patterns', () => {
  it.each(['(\\+|00)49\\d{4,14}', '0[1-9]\\d+', '1\\d{3}', '\\+1(800|888)\\d{7}', '(00|\\+)?44\\d+', '[*#]\\d{2,3}#?', '(?:0)?(\\d{3})?\\d+'])(
    'accepts %s',
    (source) => {
      expect(compilePattern(source, true).ok).toBe(true);
    },
  );

  it.each(['(\\+|00)49900\\d*', '(\\+|00)449\\d*', '\\+1900\\d*', '(\\+|00)88[1-3]\\d*'])('accepts the deny pattern %s the README suggests', (source) => {
    expect(compilePattern(source, true).ok).toBe(true);
  });

  it('matches the whole number', () => {
    const check = compilePattern('49\\d+', true);
    expect(check.ok && check.regex.test('4930123')).toBe(true);
    expect(check.ok && check.regex.test('+4930123')).toBe(false);
  });

  it.each([
    ['(\\d+)+', 'nested quantifiers'],
    ['(a*)*b', 'nested quantifiers'],
    ['(0|00)+1', 'alternation'],
    ['((0|00))*1', 'alternation'],
    ['(\\d{2,5}){2,}', 'quantifier'],
  ])('refuses %s, whose matching can take exponential time', (source, word) => {
    expect(refusal(source)).toContain(word);
  });

  it('refuses patterns with too many ways to try a match', () => {
    expect(compilePattern('0\\d*\\d+', true).ok).toBe(true);
    expect(refusal('\\d*\\d*\\d*')).toContain('too many ways to match');
    expect(compilePattern('1?'.repeat(16), true).ok).toBe(true);
    expect(refusal('1?'.repeat(17))).toContain('too many ways to match');
    expect(refusal('(0|1|2|3|4|5|6|7|8|9)'.repeat(6))).toContain('too many ways to match');
  });

  it('refuses backreferences and lookaround', () => {
    expect(refusal('(\\d)\\1')).toContain('backreferences');
    expect(refusal('(?<d>\\d)\\k<d>')).toContain('backreferences');
    expect(refusal('(?=49)\\d+')).toContain('lookahead');
    expect(refusal('(?<!0)\\d+')).toContain('lookbehind');
  });

  it('refuses what does not compile, the empty pattern and overlong ones', () => {
    expect(refusal('(49')).toContain('not a valid regular expression');
    expect(refusal('')).toBe('must not be empty');
    expect(refusal('1'.repeat(MAX_PATTERN_LENGTH + 1))).toContain(`at most ${MAX_PATTERN_LENGTH}`);
  });

  it('keeps quantifiers inside character classes and escapes out of the nesting rule', () => {
    expect(compilePattern('([+*]\\d)?\\d+', true).ok).toBe(true);
    expect(compilePattern('(\\+\\d)+', true).ok).toBe(true);
    expect(compilePattern('(\\+\\d+)+', true).ok).toBe(false);
  });

  it('never throws, and accepts only what compiles on its own', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40, unit: fc.constantFrom(...'()[]{}|*+?\\d0123,<>=!:^$.ak'.split('')) }), (source) => {
        const check = compilePattern(source, true);
        if (check.ok) expect(() => new RegExp(source, 'u')).not.toThrow();
      }),
      { numRuns: propertyRuns(500) },
    );
  });
});
