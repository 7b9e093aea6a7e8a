/** Number rewriting: strip, then prepend, then replace; never throws on any number. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rewriteNumber } from '../../workers/routing/number-rewrite.ts';
import { propertyRuns } from '../support/arbitraries/property-runs.ts';

describe('number rewriting', () => {
  it('leaves the number alone without a rewrite', () => {
    expect(rewriteNumber('0301234', undefined)).toBe('0301234');
  });

  it('strips leading digits, then prepends', () => {
    expect(rewriteNumber('00493012345', { strip: 2, prepend: '+' })).toBe('+493012345');
    expect(rewriteNumber('0301234', { strip: 1, prepend: '+49' })).toBe('+49301234');
  });

  it('replaces the first match, with groups', () => {
    expect(rewriteNumber('0049301234', { replace: { pattern: '^00(\\d+)$', with: '+$1' } })).toBe('+49301234');
    expect(rewriteNumber('9#0301234', { strip: 2, replace: { pattern: '^0', with: '+49' } })).toBe('+49301234');
  });

  it('leaves an empty number when told to strip more than there is', () => {
    expect(rewriteNumber('12', { strip: 5 })).toBe('');
  });

  it('never throws on any digit string', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 64, unit: fc.constantFrom(...'0123456789+*#'.split('')) }),
        fc.nat(32),
        fc.string({ maxLength: 8, unit: fc.constantFrom(...'0123456789+'.split('')) }),
        (number, strip, prepend) => {
          const out = rewriteNumber(number, { strip, prepend, replace: { pattern: '^(00|\\+)?(\\d*)$', with: '+$2' } });
          expect(typeof out).toBe('string');
        },
      ),
      { numRuns: propertyRuns(500) },
    );
  });
});
