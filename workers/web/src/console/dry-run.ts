/**
 * The route dry-run's answer (`POST /api/v1/routes/dry-run`) in words: the trunks a call would try
 * and with what number and caller ID, or why it would be refused, then each rule and trunk with
 * the reason it was or was not used.
 */
import { el } from '../common/dom.ts';

export interface DryRunResult {
  readonly plan:
    | { readonly ok: true; readonly ruleId?: string; readonly attempts: readonly { readonly linkId: string; readonly number: string; readonly callerId: { readonly displayName?: string; readonly user: string } }[] }
    | { readonly ok: false; readonly status: number; readonly reason: string };
  readonly explanation: {
    readonly rules: readonly { readonly id: string; readonly matched: boolean; readonly reason: string }[];
    readonly trunks: readonly { readonly link_id: string; readonly used: boolean; readonly reason: string }[];
    readonly notes: readonly string[];
  };
  readonly limit?: { readonly status: number; readonly reason: string };
}

export function renderDryRun(result: DryRunResult): HTMLElement {
  const { plan, explanation } = result;
  const verdict = plan.ok
    ? el('p', {}, el('strong', {}, `Would try ${plan.attempts.length} trunk${plan.attempts.length === 1 ? '' : 's'}`), plan.ruleId === undefined ? '' : ` (rule ${plan.ruleId})`)
    : el('p', {}, el('strong', {}, `Refused: ${plan.status} ${plan.reason}`));
  const attempts = plan.ok
    ? el('ol', {}, ...plan.attempts.map((attempt) => el('li', {}, `${attempt.linkId}: dial ${attempt.number}, caller ID ${attempt.callerId.displayName === undefined ? '' : `"${attempt.callerId.displayName}" `}${attempt.callerId.user}`)))
    : undefined;
  const limit = result.limit === undefined ? undefined : el('p', { class: 'error' }, `A real call would be refused now: ${result.limit.status} ${result.limit.reason}`);
  const reasons = el(
    'ul',
    {},
    ...explanation.rules.map((rule) => el('li', {}, `${rule.matched ? '✓' : '✗'} rule ${rule.id}: ${rule.reason}`)),
    ...explanation.trunks.map((trunk) => el('li', {}, `${trunk.used ? '✓' : '✗'} trunk ${trunk.link_id}: ${trunk.reason}`)),
    ...explanation.notes.map((note) => el('li', {}, note)),
  );
  return el('div', {}, verdict, attempts, limit, reasons);
}
