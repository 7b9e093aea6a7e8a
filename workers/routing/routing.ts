/**
 * Routing: one Durable Object per SIP domain (named by the domain, binding ROUTING). It holds the
 * domain's outbound rules, inbound mappings, routing settings, the registry of PBX links, and the
 * toll-fraud ledger, and answers the call path's questions (`routing-contract.ts`) and the API's.
 *
 * Thin by design (STYLE.md): the plan is `outbound-planner.ts`, the limits `fraud-guard.ts`, the
 * static inbound steps `inbound-router.ts`, the webhooks `routing-webhook.ts`. `clock` and
 * `fetcher` are fields so tests can replace them with `runInDurableObject`.
 */
import { DurableObject } from 'cloudflare:workers';
import { systemClock, type Clock } from '../../shared/clock/index.ts';
import type { FieldError } from '../api/problem.ts';
import { createLogger, type Logger } from '../logger.ts';
import { aorForUser } from '../sip/address-of-record.ts';
import { attemptRefusal, concurrencyRefusal, takeSlot, type Refusal } from './fraud-guard.ts';
import { findMapping, uriUser } from './inbound-router.ts';
import { planOutbound, sortRules, type ExplainedPlan, type TrunkChooser } from './outbound-planner.ts';
import { settingsView, type InboundMapping, type OutboundRule, type RoutingSettings, type RoutingSettingsView } from './routing-config.ts';
import type { InboundRequest, InboundTarget, LinkSummary, OutboundPlan, OutboundRequest, RoutingRpc } from './routing-contract.ts';
import { RoutingStore } from './routing-store.ts';
import { mergeSettings, ruleErrors, type SettingsInput } from './routing-validation.ts';
import { callWebhook, inboundReply, routingReply, type Fetcher } from './routing-webhook.ts';

/** A username of the domain, as `workers/api/users.ts` accepts it. */
const USERNAME = /^[A-Za-z0-9+][A-Za-z0-9._+-]{0,63}$/;

/** The domain's Routing object. */
export function routingFor(env: Env, domain: string = env.SIPEDGE_DOMAIN): DurableObjectStub<Routing> {
  return env.ROUTING.get(env.ROUTING.idFromName(domain.toLowerCase()));
}

export type Saved<T> = { readonly ok: true; readonly created: boolean; readonly value: T } | { readonly ok: false; readonly errors: FieldError[] };

export interface DryRunResult extends ExplainedPlan {
  /** The limit a real call would be refused by now, if any (the plan itself ignores limits). */
  readonly limit?: Refusal;
}

export class Routing extends DurableObject<Env> implements RoutingRpc {
  clock: Clock = systemClock;
  fetcher: Fetcher = (request) => fetch(request);
  readonly store: RoutingStore;
  readonly #log: Logger;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new RoutingStore(ctx.storage.sql);
    this.#log = createLogger({ object: 'Routing' });
  }

  /** The domain this object routes for: its name (`routingFor`). */
  get #domain(): string {
    return this.ctx.id.name ?? this.env.SIPEDGE_DOMAIN;
  }

  // --- the call path ---

  async planOutbound(request: OutboundRequest): Promise<OutboundPlan> {
    const settings = this.store.settings();
    const limited = attemptRefusal(this.store, settings.limits, request.user, this.clock.now());
    if (limited !== undefined) return this.#refused(request, limited);
    this.store.recordAttempt(request.user, this.clock.now());
    const { plan } = await this.#plan(request, settings);
    if (!plan.ok) return this.#refused(request, plan);
    // No await between the check and the slot: nothing else runs in between.
    const busy = concurrencyRefusal(this.store, settings.limits, request.user, request.callId, this.clock.now());
    if (busy !== undefined) return this.#refused(request, busy);
    takeSlot(this.store, request.user, request.callId, this.clock.now());
    return plan;
  }

  async releaseOutbound(callId: string): Promise<void> {
    this.store.releaseSlot(callId);
  }

  async routeInbound(request: InboundRequest): Promise<InboundTarget> {
    const mapping = findMapping(request, this.store.mappings());
    if (mapping !== undefined) return { ok: true, users: mapping.users };
    const hook = this.store.settings().webhooks.inbound;
    if (hook !== undefined) {
      const reply = await callWebhook(hook, inboundBody(request), inboundReply, this.fetcher, this.clock.now());
      if (reply.ok) {
        const users = (reply.value?.users ?? []).filter((user) => USERNAME.test(user));
        if (users.length > 0) return { ok: true, users };
        this.#log.info('routing.inbound_webhook_empty', { linkId: request.linkId, requestUri: request.requestUri });
      } else {
        this.#log.warn('routing.inbound_webhook_failed', { linkId: request.linkId, reason: reply.reason });
      }
    }
    const user = uriUser(request.requestUri);
    if (user !== undefined && USERNAME.test(user)) {
      const account = await this.env.SIP_USER.get(this.env.SIP_USER.idFromName(aorForUser(user, this.#domain))).getAccount();
      if (account !== undefined) return { ok: true, users: [user] };
    }
    this.#log.info('routing.inbound_not_found', { linkId: request.linkId, requestUri: request.requestUri });
    return { ok: false, status: 404, reason: 'Not Found' };
  }

  async inboundCancelled(request: InboundRequest): Promise<void> {
    const hook = this.store.settings().webhooks.inbound_cancel;
    if (hook === undefined) return;
    this.ctx.waitUntil(
      callWebhook(hook, inboundBody(request), undefined, this.fetcher, this.clock.now()).then((result) => {
        if (!result.ok) this.#log.warn('routing.inbound_cancel_webhook_failed', { linkId: request.linkId, reason: result.reason });
      }),
    );
  }

  async linkChanged(id: string, link: LinkSummary | undefined): Promise<void> {
    if (link === undefined) this.store.deleteLink(id);
    else this.store.putLink(id, link.can_terminate);
  }

  async listLinks(): Promise<readonly string[]> {
    return [...this.store.links().keys()];
  }

  // --- the API ---

  /** The plan a real call would get, and why; takes no slot and counts no attempt. */
  async dryRun(request: OutboundRequest): Promise<DryRunResult> {
    const settings = this.store.settings();
    const explained = await this.#plan(request, settings);
    const now = this.clock.now();
    const limit = attemptRefusal(this.store, settings.limits, request.user, now) ?? concurrencyRefusal(this.store, settings.limits, request.user, request.callId, now);
    return limit === undefined ? explained : { ...explained, limit };
  }

  /** In the order they are tried. */
  listRules(): OutboundRule[] {
    return sortRules(this.store.rules());
  }

  getRule(id: string): OutboundRule | undefined {
    return this.store.rules().find((rule) => rule.id === id);
  }

  putRule(rule: OutboundRule): Saved<OutboundRule> {
    const errors = ruleErrors(rule, this.store.settings());
    if (errors.length > 0) return { ok: false, errors };
    return { ok: true, created: this.store.putRule(rule), value: rule };
  }

  deleteRule(id: string): boolean {
    return this.store.deleteRule(id);
  }

  listMappings(): InboundMapping[] {
    return this.store.mappings();
  }

  getMapping(id: string): InboundMapping | undefined {
    return this.store.mappings().find((mapping) => mapping.id === id);
  }

  putMapping(mapping: InboundMapping): { created: boolean } {
    return { created: this.store.putMapping(mapping) };
  }

  deleteMapping(id: string): boolean {
    return this.store.deleteMapping(id);
  }

  getSettings(): RoutingSettingsView {
    return settingsView(this.store.settings());
  }

  putSettings(input: SettingsInput): Saved<RoutingSettingsView> {
    const merged = mergeSettings(input, this.store.settings(), this.store.rules());
    if (!merged.ok) return merged;
    this.store.putSettings(merged.settings);
    return { ok: true, created: false, value: settingsView(merged.settings) };
  }

  // --- internals ---

  #plan(request: OutboundRequest, settings: RoutingSettings): Promise<ExplainedPlan> {
    return planOutbound(request, { rules: this.store.rules(), links: this.store.links(), settings }, this.#chooser(settings));
  }

  #chooser(settings: RoutingSettings): TrunkChooser | undefined {
    const hook = settings.webhooks.routing;
    if (hook === undefined) return undefined;
    return async ({ request, ruleId, candidates }) => {
      const body = {
        caller: request.user,
        dialled: request.dialled,
        user: {
          username: request.user,
          attributes: request.userAttributes ?? {},
          ...(request.country === undefined ? {} : { country: request.country }),
          ...(request.colo === undefined ? {} : { colo: request.colo }),
        },
        rule: ruleId ?? null,
        candidates,
      };
      const reply = await callWebhook(hook, body, routingReply, this.fetcher, this.clock.now());
      if (!reply.ok) {
        this.#log.warn('routing.webhook_failed', { callId: request.callId, reason: reply.reason });
        return reply;
      }
      return { ok: true, trunks: reply.value?.trunks ?? [] };
    };
  }

  #refused(request: OutboundRequest, refusal: Refusal): OutboundPlan {
    this.#log.warn('routing.outbound_refused', { callId: request.callId, user: request.user, dialled: request.dialled, status: refusal.status, reason: refusal.reason });
    return { ok: false, status: refusal.status, reason: refusal.reason };
  }
}

function inboundBody(request: InboundRequest) {
  return { link: request.linkId, request_uri: request.requestUri, from: request.from, to: request.to, headers: request.headers, sdp: request.sdp ?? null };
}
