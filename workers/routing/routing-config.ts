/**
 * What an operator configures for a domain's routing, as stored (plain JSON) and as the API shows
 * it (snake_case, like the pbx-links resource): outbound rules, inbound mappings and the domain's
 * routing settings (toll-fraud limits, deny patterns, caller-ID sources, trunk caller-ID
 * verification, webhooks). Secrets are stored here and removed by `settingsView`.
 */
import type { NumberRewrite } from './number-rewrite.ts';

export interface CallerIdTemplate {
  readonly display_name?: string;
  readonly user: string;
}

export interface RuleConditions {
  /** ISO 3166 codes (`request.cf.country`); the rule applies when the caller's is one of them. */
  readonly countries?: readonly string[];
  /** Edge locations (`request.cf.colo`, IATA codes). */
  readonly colos?: readonly string[];
  readonly users?: readonly string[];
  /** Values of the user's `group` attribute (a comma-separated list of groups). */
  readonly groups?: readonly string[];
}

export interface OutboundRule {
  readonly id: string;
  /** Lower first; equal priorities in id order. */
  readonly priority: number;
  /** Matched against the whole dialled number (`dial-pattern.ts`). */
  readonly pattern: string;
  readonly rewrite?: NumberRewrite;
  readonly conditions?: RuleConditions;
  /** PbxLink ids, tried in this order. */
  readonly trunks: readonly string[];
  readonly caller_id?: CallerIdTemplate;
}

export interface InboundMapping {
  readonly id: string;
  /** The Request-URI user (a DID) this mapping answers for; or */
  readonly number?: string;
  /** the To URI's user. */
  readonly to_user?: string;
  /** When set, only calls arriving on this link. */
  readonly link?: string;
  /** One user, or a ring group rung in parallel. */
  readonly users: readonly string[];
}

/** A limit; null is "no limit". */
export interface Limits {
  readonly user_concurrent_calls: number | null;
  readonly domain_concurrent_calls: number | null;
  readonly user_attempts_per_minute: number | null;
  readonly domain_attempts_per_minute: number | null;
}

export interface TrunkCallerIdPolicy {
  readonly require_verified_caller_id: boolean;
  /** Caller-ID user parts the trunk's provider has verified. */
  readonly verified_caller_ids: readonly string[];
}

export interface Webhook {
  readonly url: string;
  readonly secret: string;
  readonly timeout_ms: number;
}

export type WebhookName = 'routing' | 'inbound' | 'inbound_cancel';

export const WEBHOOK_NAMES: readonly WebhookName[] = ['routing', 'inbound', 'inbound_cancel'];

export interface RoutingSettings {
  readonly limits: Limits;
  readonly deny_patterns: readonly string[];
  /** The user attributes caller-ID templates may name, besides `username` and `dialled`. */
  readonly user_attributes: readonly string[];
  /** Per-user caller ID; takes precedence over the matched rule's. */
  readonly user_caller_ids: Readonly<Record<string, CallerIdTemplate>>;
  readonly trunks: Readonly<Record<string, TrunkCallerIdPolicy>>;
  readonly webhooks: Readonly<Partial<Record<WebhookName, Webhook>>>;
}

export const DEFAULT_LIMITS: Limits = {
  user_concurrent_calls: 4,
  domain_concurrent_calls: 100,
  user_attempts_per_minute: 20,
  domain_attempts_per_minute: 300,
};

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 2000;

export const DEFAULT_SETTINGS: RoutingSettings = {
  limits: DEFAULT_LIMITS,
  deny_patterns: [],
  user_attributes: ['display_name', 'did', 'extension', 'group'],
  user_caller_ids: {},
  trunks: {},
  webhooks: {},
};

export interface WebhookView {
  readonly url: string;
  readonly timeout_ms: number;
  readonly secret_set: true;
}

export type RoutingSettingsView = Omit<RoutingSettings, 'webhooks'> & { readonly webhooks: Partial<Record<WebhookName, WebhookView>> };

/** The settings without the webhook secrets (write-only). */
export function settingsView(settings: RoutingSettings): RoutingSettingsView {
  const webhooks: Partial<Record<WebhookName, WebhookView>> = {};
  for (const name of WEBHOOK_NAMES) {
    const hook = settings.webhooks[name];
    if (hook !== undefined) webhooks[name] = { url: hook.url, timeout_ms: hook.timeout_ms, secret_set: true };
  }
  return { ...settings, webhooks };
}
