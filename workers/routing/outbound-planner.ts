/**
 * The outbound plan: which trunks a call is offered to, in which order, with which number and
 * caller ID, and why. Pure over the configuration; the one outside call (the routing webhook) is
 * passed in as a `TrunkChooser`, so the same code serves real calls and the API's dry run.
 *
 *  1. The dialled number must be 1-64 characters (484 otherwise) and match no deny pattern (403).
 *  2. Rules by priority: the first whose pattern matches the whole dialled number, whose
 *     conditions all hold (any listed value of each) and whose rewriting leaves a number, wins.
 *     None matches: 404 "No route". No rules at all: every link that can terminate, in id order,
 *     number unchanged.
 *     (A rule whose rewriting leaves no number, or one over 64 characters, does not match.)
 *  3. The rule's trunks in order, skipping links the registry does not know or that cannot
 *     terminate (503 when none is left); the rewritten number must match no deny pattern (403).
 *  4. The routing webhook, when configured, orders (or narrows) the candidates; when it fails the
 *     rule's own order stands. An empty `trunks` reply refuses the call (403).
 *  5. Caller ID: the user's own template, else the rule's, else the username; a template whose
 *     variables the user lacks, or whose result is not a valid SIP user part, falls through.
 *  6. A trunk that requires a verified caller ID is skipped when the caller ID is not on its list
 *     (403 "Caller ID not verified" when that leaves none).
 */
import type { CallerId, OutboundPlan, OutboundRequest, TrunkAttempt } from './routing-contract.ts';
import { BUILT_IN_VARIABLES, renderTemplate } from './caller-id-template.ts';
import { MAX_SUBJECT_LENGTH, patternOf } from './dial-pattern.ts';
import { rewriteNumber } from './number-rewrite.ts';
import type { CallerIdTemplate, OutboundRule, RoutingSettings, RuleConditions } from './routing-config.ts';

export const MAX_DIALLED_LENGTH = MAX_SUBJECT_LENGTH;

/** What the registry knows of a PbxLink. */
export interface LinkEntry {
  readonly id: string;
  readonly can_terminate: boolean;
}

export interface PlanContext {
  readonly rules: readonly OutboundRule[];
  readonly links: ReadonlyMap<string, LinkEntry>;
  readonly settings: RoutingSettings;
}

export interface Candidate {
  readonly link_id: string;
  readonly number: string;
}

export interface ChooserInput {
  readonly request: OutboundRequest;
  readonly ruleId?: string;
  readonly candidates: readonly Candidate[];
}

/** The routing webhook's answer: link ids in the order to try, or why it gave none. */
export type TrunkChoice = { readonly ok: true; readonly trunks: readonly string[] } | { readonly ok: false; readonly reason: string };

export type TrunkChooser = (input: ChooserInput) => Promise<TrunkChoice>;

export interface RuleStep {
  readonly id: string;
  readonly matched: boolean;
  readonly reason: string;
}

export interface TrunkStep {
  readonly link_id: string;
  readonly used: boolean;
  readonly reason: string;
}

export interface PlanExplanation {
  readonly rules: RuleStep[];
  readonly trunks: TrunkStep[];
  readonly notes: string[];
}

export interface ExplainedPlan {
  readonly plan: OutboundPlan;
  readonly explanation: PlanExplanation;
}

const SIP_USER_PART = /^[A-Za-z0-9._~!*'()&=+$,-]{1,64}$/;

/** Rules in the order they are tried. */
export function sortRules(rules: readonly OutboundRule[]): OutboundRule[] {
  return [...rules].sort((a, b) => a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export async function planOutbound(request: OutboundRequest, context: PlanContext, chooser?: TrunkChooser): Promise<ExplainedPlan> {
  const explanation: PlanExplanation = { rules: [], trunks: [], notes: [] };
  const refuse = (status: number, reason: string): ExplainedPlan => {
    explanation.notes.push(`refused: ${status} ${reason}`);
    return { plan: { ok: false, status, reason }, explanation };
  };
  const { dialled } = request;
  if (dialled.length === 0 || dialled.length > MAX_DIALLED_LENGTH) return refuse(484, 'Address Incomplete');
  const denied = deniedBy(dialled, context.settings.deny_patterns);
  if (denied !== undefined) {
    explanation.notes.push(`dialled number ${dialled} matches deny pattern ${denied}`);
    return refuse(403, 'Destination not allowed');
  }

  let ruleId: string | undefined;
  let ruleCallerId: CallerIdTemplate | undefined;
  let wanted: { link_id: string; number: string }[];
  if (context.rules.length === 0) {
    explanation.notes.push('no outbound rules: every link that can terminate, in id order, number unchanged');
    wanted = [...context.links.keys()].sort().map((id) => ({ link_id: id, number: dialled }));
  } else {
    const match = firstMatchingRule(request, sortRules(context.rules), explanation);
    if (match === undefined) return refuse(404, 'No route');
    ruleId = match.rule.id;
    ruleCallerId = match.rule.caller_id;
    wanted = match.rule.trunks.map((id) => ({ link_id: id, number: match.number }));
    if (match.number !== dialled) explanation.notes.push(`number rewritten to ${match.number}`);
    const deniedRewritten = deniedBy(match.number, context.settings.deny_patterns);
    if (deniedRewritten !== undefined) {
      explanation.notes.push(`rewritten number ${match.number} matches deny pattern ${deniedRewritten}`);
      return refuse(403, 'Destination not allowed');
    }
  }

  let candidates: Candidate[] = [];
  for (const trunk of wanted) {
    const link = context.links.get(trunk.link_id);
    if (link === undefined) explanation.trunks.push({ link_id: trunk.link_id, used: false, reason: 'not a known PBX link' });
    else if (!link.can_terminate) explanation.trunks.push({ link_id: trunk.link_id, used: false, reason: 'cannot terminate calls' });
    else candidates.push(trunk);
  }
  if (candidates.length === 0) return refuse(503, ruleId === undefined ? 'No trunk available' : `No trunk available for route ${ruleId}`);

  if (chooser !== undefined) {
    const choice = await chooser({ request, ...(ruleId === undefined ? {} : { ruleId }), candidates });
    if (!choice.ok) {
      explanation.notes.push(`routing webhook failed (${choice.reason}): the rule's own trunk order is used`);
    } else if (choice.trunks.length === 0) {
      return refuse(403, 'Refused by the routing webhook');
    } else {
      const chosen = orderByChoice(candidates, choice.trunks, explanation);
      if (chosen.length === 0) {
        explanation.notes.push('routing webhook chose no candidate trunk: the rule\'s own trunk order is used');
      } else {
        for (const candidate of candidates) {
          if (!chosen.includes(candidate)) explanation.trunks.push({ link_id: candidate.link_id, used: false, reason: 'not chosen by the routing webhook' });
        }
        explanation.notes.push(`routing webhook chose ${chosen.map((c) => c.link_id).join(', ')}`);
        candidates = chosen;
      }
    }
  }

  const callerId = chooseCallerId(request, context.settings, ruleCallerId, explanation);
  const attempts: TrunkAttempt[] = [];
  for (const candidate of candidates) {
    const policy = context.settings.trunks[candidate.link_id];
    if (policy?.require_verified_caller_id === true && !policy.verified_caller_ids.includes(callerId.user)) {
      explanation.trunks.push({ link_id: candidate.link_id, used: false, reason: `requires a verified caller ID and ${callerId.user} is not on its list` });
      continue;
    }
    explanation.trunks.push({ link_id: candidate.link_id, used: true, reason: `attempt ${attempts.length + 1}` });
    attempts.push({ linkId: candidate.link_id, number: candidate.number, callerId });
  }
  if (attempts.length === 0) return refuse(403, 'Caller ID not verified');
  return { plan: { ok: true, ...(ruleId === undefined ? {} : { ruleId }), attempts }, explanation };
}

/** The deny pattern `number` matches, if any. */
export function deniedBy(number: string, patterns: readonly string[]): string | undefined {
  return patterns.find((pattern) => patternOf(pattern, true).test(number));
}

function firstMatchingRule(request: OutboundRequest, rules: readonly OutboundRule[], explanation: PlanExplanation): { rule: OutboundRule; number: string } | undefined {
  for (const rule of rules) {
    if (!patternOf(rule.pattern, true).test(request.dialled)) {
      explanation.rules.push({ id: rule.id, matched: false, reason: `pattern ${rule.pattern} does not match ${request.dialled}` });
      continue;
    }
    const unmet = unmetCondition(request, rule.conditions);
    if (unmet !== undefined) {
      explanation.rules.push({ id: rule.id, matched: false, reason: unmet });
      continue;
    }
    const number = rewriteNumber(request.dialled, rule.rewrite);
    if (number.length === 0 || number.length > MAX_SUBJECT_LENGTH) {
      explanation.rules.push({ id: rule.id, matched: false, reason: number.length === 0 ? 'rewriting leaves no number' : `rewriting makes a number longer than ${MAX_SUBJECT_LENGTH} characters` });
      continue;
    }
    explanation.rules.push({ id: rule.id, matched: true, reason: `pattern ${rule.pattern} matches${rule.conditions === undefined ? '' : ' and its conditions hold'}` });
    return { rule, number };
  }
  return undefined;
}

/** Why the conditions do not hold, or undefined when they all do. */
function unmetCondition(request: OutboundRequest, conditions: RuleConditions | undefined): string | undefined {
  if (conditions === undefined) return undefined;
  const { countries, colos, users, groups } = conditions;
  if (countries !== undefined && (request.country === undefined || !countries.includes(request.country.toUpperCase()))) {
    return `caller's country ${request.country ?? '(unknown)'} is not one of ${countries.join(', ')}`;
  }
  if (colos !== undefined && (request.colo === undefined || !colos.includes(request.colo.toUpperCase()))) {
    return `edge location ${request.colo ?? '(unknown)'} is not one of ${colos.join(', ')}`;
  }
  if (users !== undefined && !users.includes(request.user)) return `user ${request.user} is not one of ${users.join(', ')}`;
  if (groups !== undefined) {
    const own = (request.userAttributes?.['group'] ?? '').split(',').map((group) => group.trim()).filter((group) => group.length > 0);
    if (!own.some((group) => groups.includes(group))) return `user's groups (${own.join(', ') || 'none'}) include none of ${groups.join(', ')}`;
  }
  return undefined;
}

function orderByChoice(candidates: readonly Candidate[], chosen: readonly string[], explanation: PlanExplanation): Candidate[] {
  const out: Candidate[] = [];
  for (const id of chosen) {
    const candidate = candidates.find((c) => c.link_id === id);
    if (candidate === undefined) explanation.notes.push(`routing webhook named ${id}, which is not a candidate: ignored`);
    else if (!out.includes(candidate)) out.push(candidate);
  }
  return out;
}

function chooseCallerId(request: OutboundRequest, settings: RoutingSettings, ruleCallerId: CallerIdTemplate | undefined, explanation: PlanExplanation): CallerId {
  const variables: Record<string, string> = { ...request.userAttributes, [BUILT_IN_VARIABLES[0]]: request.user, [BUILT_IN_VARIABLES[1]]: request.dialled };
  const sources: [string, CallerIdTemplate | undefined][] = [
    [`user ${request.user}'s caller ID`, settings.user_caller_ids[request.user]],
    ['the route\'s caller ID', ruleCallerId],
  ];
  for (const [name, template] of sources) {
    if (template === undefined) continue;
    const user = renderTemplate(template.user, variables);
    const display = template.display_name === undefined ? undefined : renderTemplate(template.display_name, variables);
    const missing = !user.ok ? user.missing : display !== undefined && !display.ok ? display.missing : undefined;
    if (missing !== undefined) {
      explanation.notes.push(`${name} not used: the user has no ${missing} attribute`);
      continue;
    }
    if (!user.ok || !SIP_USER_PART.test(user.text)) {
      explanation.notes.push(`${name} not used: ${JSON.stringify(user.ok ? user.text : '')} is not a valid SIP user part`);
      continue;
    }
    explanation.notes.push(`caller ID from ${name}: ${user.text}`);
    const displayName = display?.ok === true && display.text.trim().length > 0 ? display.text : undefined;
    return { user: user.text, ...(displayName === undefined ? {} : { displayName }) };
  }
  return { user: request.user };
}
