/**
 * Dial patterns and the other operator-written regular expressions of routing (number rewriting,
 * destination deny patterns): JavaScript `RegExp` source, checked when it is configured so that no
 * pattern can make matching slow.
 *
 * JavaScript regular expressions backtrack, and there is no timeout on `RegExp.exec`. Instead of a
 * timeout, patterns are held to constructs whose matching stays cheap on the short strings routing
 * matches (numbers of at most 64 characters: longer ones are refused before any pattern runs):
 * - at most 256 characters, compiled with the `u` flag (strict syntax);
 * - no backreferences (`\1`, `\k<name>`) and no lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`);
 * - a group repeated more than once (`*`, `+`, `{n,}`, `{n,m}` with m > 1) must contain neither a
 *   quantifier nor an alternation: `(\d+)*` and `(0|00)+` are refused, `(00|\+)?49\d+` is fine;
 * - at most 100,000 ways to try a match: the product of each quantifier's possible repeat counts
 *   (65 for `*` on a 64-character number, 2 for `?`) and each alternation's branches. Two
 *   open-ended quantifiers (`0\d*\d+`) pass; three (`\d*\d*\d*`, polynomial backtracking) do not.
 *
 * A dial pattern matches the whole number (it is anchored as `^(?:pattern)$`).
 */

export const MAX_PATTERN_LENGTH = 256;
/** The longest number a pattern is matched against. */
export const MAX_SUBJECT_LENGTH = 64;
/** The bound on the ways to try a match (see above). */
export const MAX_MATCH_WAYS = 100_000;

const TOO_MANY_WAYS = `allows too many ways to match (more than ${MAX_MATCH_WAYS.toLocaleString('en')}): use fewer open-ended quantifiers or alternatives`;

export type PatternCheck = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly error: string };

/** Compiles `source` after the safety checks above; `anchored` makes it match whole strings. */
export function compilePattern(source: string, anchored: boolean): PatternCheck {
  if (source.length === 0) return { ok: false, error: 'must not be empty' };
  if (source.length > MAX_PATTERN_LENGTH) return { ok: false, error: `must be at most ${MAX_PATTERN_LENGTH} characters` };
  let regex: RegExp;
  try {
    // Compiled alone first: `0?)(` is invalid alone but would compile inside the anchoring group.
    regex = new RegExp(source, 'u');
    if (anchored) regex = new RegExp(`^(?:${source})$`, 'u');
  } catch (error) {
    return { ok: false, error: `is not a valid regular expression (${error instanceof Error ? error.message : String(error)})` };
  }
  const unsafe = unsafeConstruct(source);
  if (unsafe !== undefined) return { ok: false, error: unsafe };
  return { ok: true, regex };
}

/** The compiled pattern; for sources already checked when they were configured. */
export function patternOf(source: string, anchored: boolean): RegExp {
  const check = compilePattern(source, anchored);
  if (!check.ok) throw new Error(`invalid stored pattern ${JSON.stringify(source)}: ${check.error}`);
  return check.regex;
}

interface GroupScan {
  hasQuantifier: boolean;
  /** Alternatives so far in this group: 1 + the `|`s at its level. */
  branches: number;
  /** Alternations anywhere inside (this group's own, or a nested group's). */
  hasAlternation: boolean;
}

/** Why `source` (a pattern that compiles) is refused, or undefined when matching it stays cheap. */
function unsafeConstruct(source: string): string | undefined {
  const stack: GroupScan[] = [{ hasQuantifier: false, branches: 1, hasAlternation: false }];
  // An upper bound on the ways a match can be tried (see MAX_MATCH_WAYS).
  let ways = 1;
  let i = 0;
  while (i < source.length) {
    const char = source[i] as string;
    if (char === '\\') {
      const next = source[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'must not use backreferences';
      i += 2;
    } else if (char === '[') {
      i = endOfClass(source, i);
    } else if (char === '(') {
      if (/^\(\?<?[=!]/.test(source.slice(i, i + 4))) return 'must not use lookahead or lookbehind';
      stack.push({ hasQuantifier: false, branches: 1, hasAlternation: false });
      i += 1;
      continue;
    } else if (char === '|') {
      const group = stack.at(-1) as GroupScan;
      group.branches += 1;
      group.hasAlternation = true;
      i += 1;
      continue;
    } else if (char === ')') {
      const group = stack.pop() as GroupScan;
      const parent = stack.at(-1) as GroupScan;
      ways *= group.branches;
      i += 1;
      const quantifier = quantifierAt(source, i);
      if (quantifier !== undefined) {
        if (quantifier.repeats && (group.hasQuantifier || group.hasAlternation)) {
          return 'must not repeat a group that itself contains a quantifier or an alternation (nested quantifiers can take exponential time)';
        }
        parent.hasQuantifier = true;
        ways *= quantifier.counts;
        i += quantifier.length;
      }
      if (group.hasQuantifier) parent.hasQuantifier = true;
      if (group.hasAlternation) parent.hasAlternation = true;
      if (ways > MAX_MATCH_WAYS) return TOO_MANY_WAYS;
      continue;
    } else {
      i += 1;
    }
    // After an atom: its quantifier, if any.
    const quantifier = quantifierAt(source, i);
    if (quantifier !== undefined) {
      (stack.at(-1) as GroupScan).hasQuantifier = true;
      ways *= quantifier.counts;
      i += quantifier.length;
      if (ways > MAX_MATCH_WAYS) return TOO_MANY_WAYS;
    }
  }
  ways *= (stack[0] as GroupScan).branches;
  return ways > MAX_MATCH_WAYS ? TOO_MANY_WAYS : undefined;
}

/** The index just past the character class that opens at `start`. */
function endOfClass(source: string, start: number): number {
  let i = start + 1;
  while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
  return i + 1;
}

/**
 * The quantifier at `at` (with a lazy `?`): whether it can repeat more than once, and how many
 * repeat counts it allows on a number of at most MAX_SUBJECT_LENGTH characters.
 */
function quantifierAt(source: string, at: number): { length: number; repeats: boolean; counts: number } | undefined {
  const char = source[at];
  let length: number;
  let min: number;
  let max: number;
  if (char === '*' || char === '+' || char === '?') {
    length = 1;
    min = char === '+' ? 1 : 0;
    max = char === '?' ? 1 : Infinity;
  } else if (char === '{') {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(at));
    if (match === null) return undefined;
    length = match[0].length;
    min = Number(match[1]);
    max = match[2] === undefined ? min : match[3] === '' ? Infinity : Number(match[3]);
  } else {
    return undefined;
  }
  if (source[at + length] === '?') length += 1;
  const counts = Math.max(1, Math.min(max, MAX_SUBJECT_LENGTH) - Math.min(min, MAX_SUBJECT_LENGTH) + 1);
  return { length, repeats: max > 1, counts };
}
