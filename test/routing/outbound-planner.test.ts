/**
 * The outbound plan: rule order and conditions, rewriting, trunk skipping, deny patterns, the
 * routing webhook's choice and its fallback, caller-ID sources and verification; each plan comes
 * with an explanation a person can read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type OutboundRule, type RoutingSettings } from '../../workers/routing/routing-config.ts';
import { planOutbound, type LinkEntry, type PlanContext, type TrunkChooser } from '../../workers/routing/outbound-planner.ts';
import type { OutboundRequest } from '../../workers/routing/routing-contract.ts';
import { propertyRuns } from '../support/arbitraries/property-runs.ts';

function links(...entries: [string, boolean][]): Map<string, LinkEntry> {
  return new Map(entries.map(([id, can_terminate]) => [id, { id, can_terminate }]));
}

function context(rules: OutboundRule[], settings: Partial<RoutingSettings> = {}, linkMap = links(['trunk-a', true], ['trunk-b', true], ['pbx', false])): PlanContext {
  return { rules, links: linkMap, settings: { ...DEFAULT_SETTINGS, ...settings } };
}

const call = (dialled: string, extra: Partial<OutboundRequest> = {}): OutboundRequest => ({ callId: 'c1', user: 'alice', dialled, ...extra });

const germany: OutboundRule = { id: 'de', priority: 10, pattern: '00(49\\d+)', rewrite: { replace: { pattern: '^00', with: '+' } }, trunks: ['trunk-b', 'trunk-a'] };
const anything: OutboundRule = { id: 'any', priority: 90, pattern: '\\+?\\d+', trunks: ['trunk-a'] };

describe('outbound plan without rules', () => {
  it('offers every link that can terminate, in id order, number unchanged, the username as caller ID', async () => {
    const { plan, explanation } = await planOutbound(call('+4930123'), context([]));
    expect(plan).toEqual({
      ok: true,
      attempts: [
        { linkId: 'trunk-a', number: '+4930123', callerId: { user: 'alice' } },
        { linkId: 'trunk-b', number: '+4930123', callerId: { user: 'alice' } },
      ],
    });
    expect(explanation.trunks).toContainEqual({ link_id: 'pbx', used: false, reason: 'cannot terminate calls' });
  });

  it('answers 503 when no link can terminate', async () => {
    const { plan } = await planOutbound(call('123'), context([], {}, links(['pbx', false])));
    expect(plan).toEqual({ ok: false, status: 503, reason: 'No trunk available' });
  });
});

describe('outbound rules', () => {
  it('takes the first matching rule by priority, rewrites, and explains each rule', async () => {
    const { plan, explanation } = await planOutbound(call('0049301234'), context([anything, germany]));
    expect(plan).toEqual({
      ok: true,
      ruleId: 'de',
      attempts: [
        { linkId: 'trunk-b', number: '+49301234', callerId: { user: 'alice' } },
        { linkId: 'trunk-a', number: '+49301234', callerId: { user: 'alice' } },
      ],
    });
    expect(explanation.rules).toEqual([{ id: 'de', matched: true, reason: 'pattern 00(49\\d+) matches' }]);
    expect(explanation.notes).toContain('number rewritten to +49301234');
  });

  it('falls through to the next rule, saying why the first did not match', async () => {
    const { plan, explanation } = await planOutbound(call('0033123'), context([germany, anything]));
    expect(plan.ok && plan.ruleId).toBe('any');
    expect(explanation.rules[0]).toEqual({ id: 'de', matched: false, reason: 'pattern 00(49\\d+) does not match 0033123' });
  });

  it('answers 404 No route when no rule matches', async () => {
    const { plan } = await planOutbound(call('abc'), context([germany]));
    expect(plan).toEqual({ ok: false, status: 404, reason: 'No route' });
  });

  it('applies conditions on country, edge location, user and group', async () => {
    const rule: OutboundRule = { ...anything, id: 'sales-de', priority: 1, conditions: { countries: ['DE'], colos: ['FRA'], groups: ['sales'] }, trunks: ['trunk-b'] };
    const rules = [rule, anything];
    const sales = { country: 'de', colo: 'FRA', userAttributes: { group: 'support, sales' } };
    expect((await planOutbound(call('123', sales), context(rules))).plan).toMatchObject({ ruleId: 'sales-de' });
    const abroad = await planOutbound(call('123', { ...sales, country: 'FR' }), context(rules));
    expect(abroad.plan).toMatchObject({ ruleId: 'any' });
    expect(abroad.explanation.rules[0]?.reason).toBe("caller's country FR is not one of DE");
    const support = await planOutbound(call('123', { ...sales, userAttributes: { group: 'support' } }), context(rules));
    expect(support.explanation.rules[0]?.reason).toBe("user's groups (support) include none of sales");
    const users = await planOutbound(call('123', { user: 'bob' }), context([{ ...rule, conditions: { users: ['alice'] } }, anything]));
    expect(users.explanation.rules[0]?.reason).toBe('user bob is not one of alice');
  });

  it('skips trunks that are unknown or cannot terminate, and says so', async () => {
    const rule: OutboundRule = { ...anything, trunks: ['gone', 'pbx', 'trunk-a'] };
    const { plan, explanation } = await planOutbound(call('123'), context([rule]));
    expect(plan.ok && plan.attempts.map((a) => a.linkId)).toEqual(['trunk-a']);
    expect(explanation.trunks.slice(0, 2)).toEqual([
      { link_id: 'gone', used: false, reason: 'not a known PBX link' },
      { link_id: 'pbx', used: false, reason: 'cannot terminate calls' },
    ]);
  });

  it('treats a rule whose rewriting leaves no number as not matching', async () => {
    const rule: OutboundRule = { ...anything, id: 'short', priority: 1, rewrite: { strip: 5 } };
    const { plan, explanation } = await planOutbound(call('123'), context([rule, anything]));
    expect(plan).toMatchObject({ ruleId: 'any' });
    expect(explanation.rules[0]).toEqual({ id: 'short', matched: false, reason: 'rewriting leaves no number' });
  });

  it('refuses an overlong number with 484', async () => {
    expect((await planOutbound(call('1'.repeat(65)), context([]))).plan).toEqual({ ok: false, status: 484, reason: 'Address Incomplete' });
  });
});

describe('deny patterns', () => {
  const settings = { deny_patterns: ['(\\+|00)4990\\d*', '\\+881\\d*'] };

  it('refuses a denied dialled number with 403 Destination not allowed', async () => {
    const { plan, explanation } = await planOutbound(call('+4990012345'), context([], settings));
    expect(plan).toEqual({ ok: false, status: 403, reason: 'Destination not allowed' });
    expect(explanation.notes[0]).toBe('dialled number +4990012345 matches deny pattern (\\+|00)4990\\d*');
  });

  it('refuses when the rewritten number is denied', async () => {
    const rule: OutboundRule = { ...anything, rewrite: { prepend: '+881' } };
    expect((await planOutbound(call('123'), context([rule], settings))).plan).toEqual({ ok: false, status: 403, reason: 'Destination not allowed' });
  });

  it('lets other numbers through', async () => {
    expect((await planOutbound(call('+4930123'), context([], settings))).plan.ok).toBe(true);
  });
});

describe('the routing webhook', () => {
  const order = (trunks: string[]): TrunkChooser => async () => ({ ok: true, trunks });

  it('orders the candidates as it answers', async () => {
    const { plan, explanation } = await planOutbound(call('0049301'), context([germany]), order(['trunk-a']));
    expect(plan.ok && plan.attempts.map((a) => a.linkId)).toEqual(['trunk-a']);
    expect(explanation.trunks).toContainEqual({ link_id: 'trunk-b', used: false, reason: 'not chosen by the routing webhook' });
  });

  it('gets the candidates with their rewritten numbers', async () => {
    let seen: unknown;
    await planOutbound(call('0049301'), context([germany]), async (input) => {
      seen = input.candidates;
      return { ok: true, trunks: ['trunk-b'] };
    });
    expect(seen).toEqual([{ link_id: 'trunk-b', number: '+49301' }, { link_id: 'trunk-a', number: '+49301' }]);
  });

  it('falls back to the rule\'s order when it fails, and says so', async () => {
    const { plan, explanation } = await planOutbound(call('0049301'), context([germany]), async () => ({ ok: false, reason: 'no answer within 2000 ms' }));
    expect(plan.ok && plan.attempts.map((a) => a.linkId)).toEqual(['trunk-b', 'trunk-a']);
    expect(explanation.notes).toContain("routing webhook failed (no answer within 2000 ms): the rule's own trunk order is used");
  });

  it('ignores trunks that are not candidates; falls back when none is', async () => {
    const { plan, explanation } = await planOutbound(call('0049301'), context([germany]), order(['pbx']));
    expect(plan.ok && plan.attempts.map((a) => a.linkId)).toEqual(['trunk-b', 'trunk-a']);
    expect(explanation.notes).toContain('routing webhook named pbx, which is not a candidate: ignored');
  });

  it('refuses the call with an empty answer', async () => {
    expect((await planOutbound(call('0049301'), context([germany]), order([]))).plan).toEqual({ ok: false, status: 403, reason: 'Refused by the routing webhook' });
  });
});

describe('caller ID', () => {
  const routeCallerId: OutboundRule = { ...anything, caller_id: { display_name: '{display_name} (Sales)', user: '+4930555{extension}' } };

  it('comes from the route\'s templates over the user\'s attributes', async () => {
    const { plan } = await planOutbound(call('123', { userAttributes: { display_name: 'Alice', extension: '17' } }), context([routeCallerId]));
    expect(plan.ok && plan.attempts[0]?.callerId).toEqual({ displayName: 'Alice (Sales)', user: '+493055517' });
  });

  it('prefers the user\'s own caller ID', async () => {
    const settings = { user_caller_ids: { alice: { user: '+49301000' } } };
    const { plan } = await planOutbound(call('123', { userAttributes: { extension: '17' } }), context([routeCallerId], settings));
    expect(plan.ok && plan.attempts[0]?.callerId).toEqual({ user: '+49301000' });
  });

  it('falls back to the username when the user lacks an attribute, and says which', async () => {
    const { plan, explanation } = await planOutbound(call('123', { userAttributes: { display_name: 'Alice' } }), context([routeCallerId]));
    expect(plan.ok && plan.attempts[0]?.callerId).toEqual({ user: 'alice' });
    expect(explanation.notes).toContain("the route's caller ID not used: the user has no extension attribute");
  });

  it('skips a trunk that requires a verified caller ID the caller does not have', async () => {
    const settings = { trunks: { 'trunk-a': { require_verified_caller_id: true, verified_caller_ids: ['+49301000'] } } };
    const rule: OutboundRule = { ...anything, trunks: ['trunk-a', 'trunk-b'] };
    const { plan, explanation } = await planOutbound(call('123'), context([rule], settings));
    expect(plan.ok && plan.attempts.map((a) => a.linkId)).toEqual(['trunk-b']);
    expect(explanation.trunks[0]).toEqual({ link_id: 'trunk-a', used: false, reason: 'requires a verified caller ID and alice is not on its list' });
    const only = await planOutbound(call('123'), context([{ ...rule, trunks: ['trunk-a'] }], settings));
    expect(only.plan).toEqual({ ok: false, status: 403, reason: 'Caller ID not verified' });
    const verified = await planOutbound(call('123'), context([{ ...rule, trunks: ['trunk-a'] }], { ...settings, user_caller_ids: { alice: { user: '+49301000' } } }));
    expect(verified.plan.ok).toBe(true);
  });
});

describe('plans for any dialled number', () => {
  it('never throw, and every attempt uses a link that can terminate', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 70, unit: fc.constantFrom(...'0123456789+*#'.split('')) }), async (dialled) => {
        const { plan } = await planOutbound(call(dialled), context([germany, anything], { deny_patterns: ['\\+881\\d*'] }));
        if (plan.ok) for (const attempt of plan.attempts) expect(['trunk-a', 'trunk-b']).toContain(attempt.linkId);
        else expect([403, 404, 484, 503]).toContain(plan.status);
      }),
      { numRuns: propertyRuns(300) },
    );
  });
});
