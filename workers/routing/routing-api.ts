/**
 * The routing resources of `/api/v1`, one sub-app (mounted at `/api/v1` by `workers/api/`):
 *
 *   GET    /routes                 the outbound rules, in the order they are tried
 *   GET    /routes/{id}            one rule
 *   PUT    /routes/{id}            create (201) or replace (200) a rule
 *   DELETE /routes/{id}            204
 *   POST   /routes/dry-run         { user, dialled, country?, colo?, attributes? } -> { plan, explanation, limit? }:
 *                                  the plan a real call would get and why (takes no slot, counts no attempt)
 *   GET    /inbound-mappings       the static inbound mappings
 *   GET/PUT/DELETE /inbound-mappings/{id}
 *   GET    /routing-settings       limits, deny patterns, caller-ID sources, trunk caller-ID
 *                                  verification, webhooks (their secrets never shown)
 *   PUT    /routing-settings       replace them; a webhook's `secret` may be left out to keep the stored one
 *
 * Snake_case like the pbx-links resource. Patterns are checked here (`dial-pattern.ts`); what
 * needs stored state (caller-ID template placeholders, stored secrets) by the Routing object.
 * Every error is a problem document naming the field.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { apiApp, jsonBody, jsonResponse, problems } from '../api/openapi.ts';
import { callerDomain, operatorAuth } from '../api/operator-auth.ts';
import { problemException, type FieldError } from '../api/problem.ts';
import { usernameSchema } from '../api/users.ts';
import { compilePattern } from './dial-pattern.ts';
import { DEFAULT_LIMITS, DEFAULT_SETTINGS, DEFAULT_WEBHOOK_TIMEOUT_MS } from './routing-config.ts';
import { MAX_DIALLED_LENGTH } from './outbound-planner.ts';
import { routingFor } from './routing.ts';

/** Ids of rules, mappings and PBX links: 1-64 letters, digits, ".", "_" or "-". */
const idSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');

// eslint-disable-next-line no-control-regex
const NO_CONTROL = /^[^\x00-\x1f\x7f]*$/;

const patternSchema = (anchored: boolean) =>
  z.string().superRefine((value, context) => {
    const check = compilePattern(value, anchored);
    if (!check.ok) context.addIssue({ code: 'custom', message: check.error });
  });

const sipUserPart = z.string().regex(/^[A-Za-z0-9._~!*'()&=+$,-]{1,64}$/, 'must be 1-64 characters a SIP URI user part takes unescaped');

const callerIdSchema = z
  .strictObject({
    display_name: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').regex(NO_CONTROL, 'must not contain control characters').optional(),
    user: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters').regex(NO_CONTROL, 'must not contain control characters'),
  })
  .openapi('CallerIdTemplate', { description: 'templates with {variable} placeholders over the user\'s attributes, `username` and `dialled`' });

const ruleInput = z
  .strictObject({
    priority: z.int('must be a whole number').min(0, 'must be 0-1000000').max(1_000_000, 'must be 0-1000000').default(100),
    pattern: patternSchema(true).openapi({ description: 'a regular expression the whole dialled number must match', example: '(\\+|00)49\\d{4,14}' }),
    rewrite: z
      .strictObject({
        strip: z.int('must be a whole number').min(0, 'must be 0-32').max(32, 'must be 0-32').optional(),
        prepend: z.string().regex(/^[0-9A-Za-z+*#]{1,32}$/, 'must be 1-32 digits, letters, "+", "*" or "#"').optional(),
        replace: z.strictObject({ pattern: patternSchema(false), with: z.string().max(64, 'must be at most 64 characters') }).optional(),
      })
      .optional(),
    conditions: z
      .strictObject({
        countries: z.array(z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code in capitals (DE)')).min(1, 'must not be empty').max(250).optional(),
        colos: z.array(z.string().regex(/^[A-Z]{3}$/, 'must be an edge location code in capitals (FRA)')).min(1, 'must not be empty').max(500).optional(),
        users: z.array(usernameSchema).min(1, 'must not be empty').max(1000, 'must list at most 1000 users').optional(),
        groups: z.array(z.string().regex(/^[^,\s][^,]{0,63}$/, 'must be 1-64 characters, no commas')).min(1, 'must not be empty').max(100).optional(),
      })
      .optional(),
    trunks: z.array(idSchema).min(1, 'must name at least one PBX link').max(16, 'must name at most 16 PBX links'),
    caller_id: callerIdSchema.optional(),
  })
  .openapi('PutRoute');

const ruleSchema = ruleInput.extend({ id: z.string() }).openapi('Route');

const mappingInput = z
  .strictObject({
    number: sipUserPart.optional().openapi({ description: 'the Request-URI user (a DID)' }),
    to_user: sipUserPart.optional().openapi({ description: 'the To URI\'s user' }),
    link: idSchema.optional().openapi({ description: 'only calls arriving on this PBX link' }),
    users: z.array(usernameSchema).min(1, 'must name at least one user').max(32, 'must name at most 32 users'),
  })
  .superRefine((value, context) => {
    if ((value.number === undefined) === (value.to_user === undefined)) {
      context.addIssue({ code: 'custom', path: ['number'], message: 'give exactly one of number and to_user' });
    }
  })
  .openapi('PutInboundMapping');

const mappingSchema = z
  .object({ id: z.string(), number: z.string().optional(), to_user: z.string().optional(), link: z.string().optional(), users: z.array(z.string()) })
  .openapi('InboundMapping');

const limit = (fallback: number | null) => z.int('must be a whole number or null').min(0, 'must not be negative').max(1_000_000, 'must be at most 1000000').nullable().default(fallback);

const limitsSchema = z.strictObject({
  user_concurrent_calls: limit(DEFAULT_LIMITS.user_concurrent_calls),
  domain_concurrent_calls: limit(DEFAULT_LIMITS.domain_concurrent_calls),
  user_attempts_per_minute: limit(DEFAULT_LIMITS.user_attempts_per_minute),
  domain_attempts_per_minute: limit(DEFAULT_LIMITS.domain_attempts_per_minute),
});

const webhookInput = z.strictObject({
  url: z
    .string()
    .max(2048, 'must be at most 2048 characters')
    .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'must be an http: or https: URL'),
  secret: z.string().min(16, 'must be at least 16 characters').max(256, 'must be at most 256 characters').optional().openapi({ writeOnly: true, description: 'HMAC-SHA-256 key; left out: keep the stored one' }),
  timeout_ms: z.int('must be a whole number of milliseconds').min(100, 'must be 100-10000').max(10_000, 'must be 100-10000').default(DEFAULT_WEBHOOK_TIMEOUT_MS),
});

const webhookView = z.object({ url: z.string(), timeout_ms: z.number(), secret_set: z.literal(true) });

const settingsInput = z
  .strictObject({
    limits: limitsSchema.default(DEFAULT_LIMITS),
    deny_patterns: z.array(patternSchema(true)).max(64, 'must list at most 64 patterns').default([]),
    user_attributes: z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a variable name (letters, digits, "_")'))
      .max(32, 'must list at most 32 attributes')
      .default([...DEFAULT_SETTINGS.user_attributes]),
    user_caller_ids: z.record(usernameSchema, callerIdSchema).default({}),
    trunks: z
      .record(
        idSchema,
        z.strictObject({
          require_verified_caller_id: z.boolean('must be true or false').default(false),
          verified_caller_ids: z.array(sipUserPart).max(1000, 'must list at most 1000 caller IDs').default([]),
        }),
      )
      .default({}),
    webhooks: z
      .strictObject({ routing: webhookInput.optional(), inbound: webhookInput.optional(), inbound_cancel: webhookInput.optional() })
      .default({}),
  })
  .openapi('PutRoutingSettings');

const settingsView = z
  .object({
    limits: z.object({
      user_concurrent_calls: z.number().nullable(),
      domain_concurrent_calls: z.number().nullable(),
      user_attempts_per_minute: z.number().nullable(),
      domain_attempts_per_minute: z.number().nullable(),
    }),
    deny_patterns: z.array(z.string()),
    user_attributes: z.array(z.string()),
    user_caller_ids: z.record(z.string(), z.object({ display_name: z.string().optional(), user: z.string() })),
    trunks: z.record(z.string(), z.object({ require_verified_caller_id: z.boolean(), verified_caller_ids: z.array(z.string()) })),
    webhooks: z.object({ routing: webhookView.optional(), inbound: webhookView.optional(), inbound_cancel: webhookView.optional() }),
  })
  .openapi('RoutingSettings');

const dryRunInput = z
  .strictObject({
    user: usernameSchema,
    dialled: z.string().min(1, 'must not be empty').max(MAX_DIALLED_LENGTH, `must be at most ${MAX_DIALLED_LENGTH} characters`),
    country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code in capitals (DE)').optional(),
    colo: z.string().regex(/^[A-Z]{3}$/, 'must be an edge location code in capitals (FRA)').optional(),
    attributes: z.record(z.string().max(64), z.string().max(256)).optional().openapi({ description: 'the user\'s attributes, for caller-ID templates and group conditions' }),
  })
  .openapi('DryRun');

const dryRunResult = z
  .object({
    plan: z.union([
      z.object({
        ok: z.literal(true),
        ruleId: z.string().optional(),
        attempts: z.array(z.object({ linkId: z.string(), number: z.string(), callerId: z.object({ displayName: z.string().optional(), user: z.string() }) })),
      }),
      z.object({ ok: z.literal(false), status: z.number(), reason: z.string() }),
    ]),
    explanation: z.object({
      rules: z.array(z.object({ id: z.string(), matched: z.boolean(), reason: z.string() })),
      trunks: z.array(z.object({ link_id: z.string(), used: z.boolean(), reason: z.string() })),
      notes: z.array(z.string()),
    }),
    limit: z.object({ status: z.number(), reason: z.string() }).optional().openapi({ description: 'the limit a real call would be refused by now' }),
  })
  .openapi('DryRunResult');

const idParams = z.object({ id: idSchema });

const listRoutes = createRoute({ operationId: 'listRoutes', method: 'get', path: '/routes', summary: 'List the outbound rules, in the order they are tried', responses: { 200: jsonResponse(z.object({ routes: z.array(ruleSchema) }), 'the rules') } });
const dryRun = createRoute({
  operationId: 'dryRunRoutes',
  method: 'post',
  path: '/routes/dry-run',
  summary: 'The outbound plan a call would get, and why (takes no slot, counts no attempt)',
  request: { body: jsonBody(dryRunInput) },
  responses: { 200: jsonResponse(dryRunResult, 'the plan and its explanation'), ...problems(400) },
});
const getRoute = createRoute({ operationId: 'getRoute', method: 'get', path: '/routes/{id}', summary: 'Show an outbound rule', request: { params: idParams }, responses: { 200: jsonResponse(ruleSchema, 'the rule'), ...problems(400, 404) } });
const putRoute = createRoute({
  operationId: 'putRoute',
  method: 'put',
  path: '/routes/{id}',
  summary: 'Create or replace an outbound rule',
  request: { params: idParams, body: jsonBody(ruleInput) },
  responses: { 200: jsonResponse(ruleSchema, 'replaced'), 201: jsonResponse(ruleSchema, 'created'), ...problems(400) },
});
const deleteRoute = createRoute({ operationId: 'deleteRoute', method: 'delete', path: '/routes/{id}', summary: 'Delete an outbound rule', request: { params: idParams }, responses: { 204: { description: 'deleted' }, ...problems(400, 404) } });

const listMappings = createRoute({ operationId: 'listInboundMappings', method: 'get', path: '/inbound-mappings', summary: 'List the inbound mappings', responses: { 200: jsonResponse(z.object({ mappings: z.array(mappingSchema) }), 'the mappings') } });
const getMapping = createRoute({ operationId: 'getInboundMapping', method: 'get', path: '/inbound-mappings/{id}', summary: 'Show an inbound mapping', request: { params: idParams }, responses: { 200: jsonResponse(mappingSchema, 'the mapping'), ...problems(400, 404) } });
const putMapping = createRoute({
  operationId: 'putInboundMapping',
  method: 'put',
  path: '/inbound-mappings/{id}',
  summary: 'Create or replace an inbound mapping (a number or To user to a user or ring group)',
  request: { params: idParams, body: jsonBody(mappingInput) },
  responses: { 200: jsonResponse(mappingSchema, 'replaced'), 201: jsonResponse(mappingSchema, 'created'), ...problems(400) },
});
const deleteMapping = createRoute({ operationId: 'deleteInboundMapping', method: 'delete', path: '/inbound-mappings/{id}', summary: 'Delete an inbound mapping', request: { params: idParams }, responses: { 204: { description: 'deleted' }, ...problems(400, 404) } });

const getSettings = createRoute({ operationId: 'getRoutingSettings', method: 'get', path: '/routing-settings', summary: 'Show the routing settings (never the webhook secrets)', responses: { 200: jsonResponse(settingsView, 'the settings') } });
const putSettings = createRoute({
  operationId: 'putRoutingSettings',
  method: 'put',
  path: '/routing-settings',
  summary: 'Replace the routing settings',
  request: { body: jsonBody(settingsInput) },
  responses: { 200: jsonResponse(settingsView, 'the settings now'), ...problems(400) },
});

export const routing = apiApp();

for (const path of ['/routes', '/routes/*', '/inbound-mappings', '/inbound-mappings/*', '/routing-settings']) routing.use(path, operatorAuth());

routing.openapi(listRoutes, async (c) => {
  const rules = await routingFor(c.env, callerDomain(c)).listRules();
  return c.json({ routes: plain(rules) }, 200);
});

routing.openapi(dryRun, async (c) => {
  const input = c.req.valid('json');
  const result = await routingFor(c.env, callerDomain(c)).dryRun({
    callId: 'dry-run',
    user: input.user,
    dialled: input.dialled,
    ...(input.attributes === undefined ? {} : { userAttributes: input.attributes }),
    ...(input.country === undefined ? {} : { country: input.country }),
    ...(input.colo === undefined ? {} : { colo: input.colo }),
  });
  return c.json(plain(result), 200);
});

routing.openapi(getRoute, async (c) => {
  const { id } = c.req.valid('param');
  const rule = await routingFor(c.env, callerDomain(c)).getRule(id);
  if (rule === undefined) throw notFound('Route', id);
  return c.json(plain(rule), 200);
});

routing.openapi(putRoute, async (c) => {
  const { id } = c.req.valid('param');
  const saved = await routingFor(c.env, callerDomain(c)).putRule({ ...c.req.valid('json'), id });
  if (!saved.ok) throw invalid(saved.errors);
  if (saved.created) c.header('Location', `/api/v1/routes/${encodeURIComponent(id)}`);
  return saved.created ? c.json(plain(saved.value), 201) : c.json(plain(saved.value), 200);
});

routing.openapi(deleteRoute, async (c) => {
  const { id } = c.req.valid('param');
  if (!(await routingFor(c.env, callerDomain(c)).deleteRule(id))) throw notFound('Route', id);
  return c.body(null, 204);
});

routing.openapi(listMappings, async (c) => c.json({ mappings: plain(await routingFor(c.env, callerDomain(c)).listMappings()) }, 200));

routing.openapi(getMapping, async (c) => {
  const { id } = c.req.valid('param');
  const mapping = await routingFor(c.env, callerDomain(c)).getMapping(id);
  if (mapping === undefined) throw notFound('Inbound mapping', id);
  return c.json(plain(mapping), 200);
});

routing.openapi(putMapping, async (c) => {
  const { id } = c.req.valid('param');
  const mapping = { ...c.req.valid('json'), id };
  const { created } = await routingFor(c.env, callerDomain(c)).putMapping(mapping);
  if (created) c.header('Location', `/api/v1/inbound-mappings/${encodeURIComponent(id)}`);
  return created ? c.json(mapping, 201) : c.json(mapping, 200);
});

routing.openapi(deleteMapping, async (c) => {
  const { id } = c.req.valid('param');
  if (!(await routingFor(c.env, callerDomain(c)).deleteMapping(id))) throw notFound('Inbound mapping', id);
  return c.body(null, 204);
});

routing.openapi(getSettings, async (c) => c.json(plain(await routingFor(c.env, callerDomain(c)).getSettings()), 200));

routing.openapi(putSettings, async (c) => {
  const saved = await routingFor(c.env, callerDomain(c)).putSettings(c.req.valid('json'));
  if (!saved.ok) throw invalid(saved.errors);
  return c.json(plain(saved.value), 200);
});

/** The routing types are deeply readonly; the response schemas' inferred types are not. Same JSON. */
type Plain<T> = T extends readonly (infer U)[] ? Plain<U>[] : T extends object ? { -readonly [K in keyof T]: Plain<T[K]> } : T;

function plain<T>(value: T): Plain<T> {
  return value as Plain<T>;
}

function notFound(what: string, id: string): Error {
  return problemException({ status: 404, title: `${what} not found`, detail: `there is no ${what.toLowerCase()} "${id}"` });
}

function invalid(errors: readonly FieldError[]): Error {
  const detail = errors.map((error) => `${error.pointer?.slice(2) ?? ''}: ${error.detail}`).join('; ');
  return problemException({ status: 400, title: 'Invalid request', detail, errors });
}
