/**
 * Number rewriting on an outbound rule: what the trunk is sent as the Request-URI user. Three
 * steps, always in this order: strip the first `strip` characters, prepend `prepend`, then replace
 * the first match of `replace.pattern` (a checked pattern, `dial-pattern.ts`) with `replace.with`
 * (`$1`, `$<name>` as in `String.prototype.replace`).
 *
 * `rewriteNumber` never throws: stripping more characters than there are leaves an empty string,
 * which the planner refuses as "no number" for that rule.
 */
import { patternOf } from './dial-pattern.ts';

export interface NumberRewrite {
  readonly strip?: number;
  readonly prepend?: string;
  readonly replace?: { readonly pattern: string; readonly with: string };
}

export function rewriteNumber(number: string, rewrite: NumberRewrite | undefined): string {
  if (rewrite === undefined) return number;
  let out = number.slice(Math.max(0, rewrite.strip ?? 0));
  if (rewrite.prepend !== undefined) out = rewrite.prepend + out;
  if (rewrite.replace !== undefined) out = out.replace(patternOf(rewrite.replace.pattern, false), rewrite.replace.with);
  return out;
}
