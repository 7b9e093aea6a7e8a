/**
 * Checks on routing configuration that need what is already stored: caller-ID templates against
 * the domain's declared user attributes, and webhook secrets (write-only: a webhook without a
 * stored secret must be given one). Shape and pattern checks are the API's schemas
 * (`routing-api.ts`); these run in the Routing object, next to the state they read.
 */
import type { FieldError } from '../api/problem.ts';
import { BUILT_IN_VARIABLES, templateErrors } from './caller-id-template.ts';
import type { CallerIdTemplate, OutboundRule, RoutingSettings, Webhook, WebhookName } from './routing-config.ts';
import { WEBHOOK_NAMES } from './routing-config.ts';

/** A webhook as a PUT gives it: the secret may be left out to keep the stored one. */
export interface WebhookInput {
  readonly url: string;
  readonly secret?: string;
  readonly timeout_ms: number;
}

export type SettingsInput = Omit<RoutingSettings, 'webhooks'> & { readonly webhooks: Partial<Record<WebhookName, WebhookInput>> };

export function knownVariables(settings: Pick<RoutingSettings, 'user_attributes'>): string[] {
  return [...BUILT_IN_VARIABLES, ...settings.user_attributes];
}

/** Errors of a caller-ID template pair, with pointers under `pointer`. */
export function callerIdErrors(template: CallerIdTemplate, known: readonly string[], pointer: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ['display_name', 'user'] as const) {
    const text = template[field];
    if (text === undefined) continue;
    for (const detail of templateErrors(text, known)) errors.push({ pointer: `${pointer}/${field}`, detail });
  }
  return errors;
}

export function ruleErrors(rule: OutboundRule, settings: RoutingSettings): FieldError[] {
  return rule.caller_id === undefined ? [] : callerIdErrors(rule.caller_id, knownVariables(settings), '#/caller_id');
}

/** The settings to store (secrets merged from `stored`), or what is wrong with the input. */
export function mergeSettings(input: SettingsInput, stored: RoutingSettings, rules: readonly OutboundRule[]): { ok: true; settings: RoutingSettings } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const known = knownVariables(input);
  for (const [user, template] of Object.entries(input.user_caller_ids)) {
    errors.push(...callerIdErrors(template, known, `#/user_caller_ids/${escapePointer(user)}`));
  }
  for (const rule of rules) {
    if (rule.caller_id === undefined || callerIdErrors(rule.caller_id, known, '').length === 0) continue;
    errors.push({ pointer: '#/user_attributes', detail: `route ${rule.id}'s caller ID uses an attribute this list leaves out` });
  }
  const webhooks: Partial<Record<WebhookName, Webhook>> = {};
  for (const name of WEBHOOK_NAMES) {
    const hook = input.webhooks[name];
    if (hook === undefined) continue;
    const secret = hook.secret ?? stored.webhooks[name]?.secret;
    if (secret === undefined) errors.push({ pointer: `#/webhooks/${name}/secret`, detail: 'is required: no secret is stored for this webhook yet' });
    else webhooks[name] = { url: hook.url, secret, timeout_ms: hook.timeout_ms };
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, settings: { ...input, webhooks } };
}

// RFC 6901 §3: '~' is written '~0' and '/' is written '~1'.
function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}
