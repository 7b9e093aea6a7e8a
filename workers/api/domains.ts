/**
 * `/api/v1/domains`: the SIP domains (tenants) this edge serves (`workers/domains/`). Each has its
 * own users, PBX links, routes, tokens and call records; every other route of the API acts on the
 * domain of the caller's token.
 *
 *   GET    /domains         the installation token: every domain; a domain's token: its own
 *   GET    /domains/:name   one domain (a domain's token: its own only)
 *   POST   /domains         installation token only: {name, display_name?, aliases?, retention?}
 *                           201 with the domain and its first operator token (`operator_token`,
 *                           shown this once), so that the tenant is handed over in one step
 *   PATCH  /domains/:name   the installation token: any field; the domain's own token:
 *                           display_name and retention (aliases decide where SIP traffic goes)
 *   DELETE /domains/:name   installation token only; never SIPEDGE_DOMAIN, and only once the
 *                           domain has no users, PBX links, routes or inbound mappings left (409
 *                           says how many of each)
 *
 * The installation token is the SIPEDGE_OPERATOR_TOKEN secret; it acts on SIPEDGE_DOMAIN like a
 * domain token does and is the only one that creates and deletes domains. Names and aliases are
 * kept as `domainKey` makes them (lower case, no port, no trailing dot) and unique across the edge.
 * The retention bounds the domain's call records (pushed to its Directory) and its users' traces
 * (read by the SIP side from the record). Snake_case like the other configuration resources.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { directoryOf } from '../directory/directory.ts';
import type { TokenView } from '../directory/token-store.ts';
import { DEFAULT_RETENTION, domainKey, isDomainName, RETENTION_LIMITS, type DomainRecord, type DomainRetention } from '../domains/domain-record.ts';
import { domainRegistry, type PutResult } from '../domains/domain-registry.ts';
import { forgetServedDomains } from '../domains/served-domains.ts';
import { DEFAULT_SETTINGS } from '../routing/routing-config.ts';
import { routingFor } from '../routing/routing.ts';
import { newToken, secretDigest } from './api-token.ts';
import { apiApp, jsonBody, jsonResponse, problems } from './openapi.ts';
import { installationAuth, operatorAuth, requireInstallation, type Principal } from './operator-auth.ts';
import { problemException } from './problem.ts';

const MAX_ALIASES = 20;

const hostSchema = z
  .string()
  .max(253, 'must be at most 253 characters')
  .refine((text) => isDomainName(domainKey(text)), 'must be a host name or an IPv4 address (letters, digits, "-" and ".")');

const retentionField = (key: keyof DomainRetention, what: string) => {
  const [min, max] = RETENTION_LIMITS[key];
  return z
    .int('must be a whole number')
    .min(min, `must be ${min}-${max}`)
    .max(max, `must be ${min}-${max}`)
    .optional()
    .openapi({ description: `${what} (${min}-${max}; ${DEFAULT_RETENTION[key]} by default)` });
};

const retentionInput = z
  .strictObject({
    call_records: retentionField('callRecords', 'call detail records kept, the newest'),
    call_record_days: retentionField('callRecordDays', 'days a call detail record is kept'),
    trace_records: retentionField('traceRecords', "SIP messages kept in each user's trace"),
    trace_kib: retentionField('traceKiB', "KiB kept in each user's trace"),
    trace_hours: retentionField('traceHours', "hours a user's trace keeps a message"),
  })
  .openapi('DomainRetentionInput', { description: 'what is left out keeps its current (or default) value' });

const displayNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters');

const aliasesSchema = z
  .array(hostSchema)
  .max(MAX_ALIASES, `must list at most ${MAX_ALIASES} aliases`)
  .openapi({ description: 'other host names phones use for the domain (a REGISTER Request-URI or To host), unique across the edge', example: ['sip.example.com'] });

const createDomainSchema = z
  .strictObject({
    name: hostSchema.openapi({ description: 'the SIP domain: the host of its users\' AORs and the realm of their digest challenges', example: 'tenant.example.com' }),
    display_name: displayNameSchema.optional(),
    aliases: aliasesSchema.optional(),
    retention: retentionInput.optional(),
  })
  .openapi('CreateDomain');

const patchDomainSchema = z
  .strictObject({
    display_name: displayNameSchema.optional(),
    aliases: aliasesSchema.optional().openapi({ description: 'installation token only: replaces the aliases' }),
    retention: retentionInput.optional(),
  })
  .openapi('PatchDomain');

const retentionView = z
  .object({ call_records: z.int(), call_record_days: z.int(), trace_records: z.int(), trace_kib: z.int(), trace_hours: z.int() })
  .openapi('DomainRetention');

const domainViewSchema = z
  .object({
    name: z.string(),
    display_name: z.string().optional(),
    aliases: z.array(z.string()),
    retention: retentionView,
    created_at: z.string().nullable().openapi({ description: 'null for the installation\'s own domain until something is set on it' }),
    installation: z.boolean().openapi({ description: 'SIPEDGE_DOMAIN: its token is the SIPEDGE_OPERATOR_TOKEN secret; it cannot be deleted' }),
  })
  .openapi('Domain');

const createdDomainSchema = domainViewSchema
  .extend({
    operator_token: z
      .object({ id: z.string(), name: z.string(), token: z.string().openapi({ description: 'the bearer token; shown only in this answer' }) })
      .openapi({ description: "the domain's first operator token, to hand to the tenant" }),
  })
  .openapi('CreatedDomain');

type DomainView = z.infer<typeof domainViewSchema>;

function domainView(record: DomainRecord): DomainView {
  const { retention } = record;
  return {
    name: record.name,
    ...(record.displayName === undefined ? {} : { display_name: record.displayName }),
    aliases: [...record.aliases],
    retention: {
      call_records: retention.callRecords,
      call_record_days: retention.callRecordDays,
      trace_records: retention.traceRecords,
      trace_kib: retention.traceKiB,
      trace_hours: retention.traceHours,
    },
    created_at: record.createdAt > 0 ? new Date(record.createdAt).toISOString() : null,
    installation: record.installation,
  };
}

function retentionOf(input: z.infer<typeof retentionInput> | undefined): Partial<DomainRetention> {
  if (input === undefined) return {};
  const pairs: [keyof DomainRetention, number | undefined][] = [
    ['callRecords', input.call_records],
    ['callRecordDays', input.call_record_days],
    ['traceRecords', input.trace_records],
    ['traceKiB', input.trace_kib],
    ['traceHours', input.trace_hours],
  ];
  return Object.fromEntries(pairs.filter(([, value]) => value !== undefined));
}

/** Aliases as kept; none may be the domain's own name. */
function aliasKeys(name: string, aliases: readonly string[]): string[] {
  const keys = aliases.map(domainKey);
  const own = keys.indexOf(name);
  if (own >= 0) {
    const detail = 'is the domain\'s own name, not an alias';
    throw problemException({ status: 400, title: 'Invalid request', detail: `aliases.${own}: ${detail}`, errors: [{ pointer: `#/aliases/${own}`, detail }] });
  }
  return [...new Set(keys)];
}

function conflict(result: Extract<PutResult, { ok: false }>): Error {
  return problemException({ status: 409, title: 'Name taken', detail: `"${result.conflict}" is already a name or alias of the domain "${result.owner}"` });
}

function notFound(name: string): Error {
  return problemException({ status: 404, title: 'Domain not found', detail: `this edge serves no domain "${name}"` });
}

/** The caller may see this domain: the installation token any, a domain's token its own. */
function visible(principal: Principal, name: string): boolean {
  return principal.installation || domainKey(principal.domain) === name;
}

const nameParams = z.object({ name: hostSchema.openapi({ example: 'tenant.example.com' }) });

const listDomains = createRoute({
  operationId: 'listDomains',
  method: 'get',
  path: '/',
  summary: 'List the domains (a domain token: its own)',
  responses: { 200: jsonResponse(z.object({ domains: z.array(domainViewSchema) }).openapi('DomainList'), 'SIPEDGE_DOMAIN first, then by name') },
});

const getDomain = createRoute({
  operationId: 'getDomain',
  method: 'get',
  path: '/{name}',
  summary: 'Show a domain',
  request: { params: nameParams },
  responses: { 200: jsonResponse(domainViewSchema, 'the domain'), ...problems(400, 404) },
});

const createDomain = createRoute({
  operationId: 'createDomain',
  method: 'post',
  path: '/',
  summary: 'Create a domain and its first operator token (installation token only)',
  middleware: [installationAuth('creating a domain')],
  request: { body: jsonBody(createDomainSchema) },
  responses: { 201: jsonResponse(createdDomainSchema, 'created; operator_token is shown this once'), ...problems(400, 409, 415, 500) },
});

const patchDomain = createRoute({
  operationId: 'patchDomain',
  method: 'patch',
  path: '/{name}',
  summary: "Change a domain's display name, retention or (installation token only) aliases",
  request: { params: nameParams, body: jsonBody(patchDomainSchema) },
  responses: { 200: jsonResponse(domainViewSchema, 'the domain now'), ...problems(400, 404, 409, 415) },
});

const deleteDomain = createRoute({
  operationId: 'deleteDomain',
  method: 'delete',
  path: '/{name}',
  summary: 'Delete a domain without users, PBX links, routes or inbound mappings (installation token only)',
  middleware: [installationAuth('deleting a domain')],
  request: { params: nameParams },
  responses: { 204: { description: 'deleted: its tokens open nothing any more' }, ...problems(400, 404, 409) },
});

export const domains = apiApp();

domains.use('*', operatorAuth());

domains.openapi(listDomains, async (c) => {
  const principal = c.get('principal');
  const records = await domainRegistry(c.env).list();
  return c.json({ domains: records.filter((record) => visible(principal, record.name)).map(domainView) }, 200);
});

domains.openapi(getDomain, async (c) => {
  const name = domainKey(c.req.valid('param').name);
  const record = visible(c.get('principal'), name) ? await domainRegistry(c.env).get(name) : null;
  if (record === null) throw notFound(name);
  return c.json(domainView(record), 200);
});

domains.openapi(createDomain, async (c) => {
  const input = c.req.valid('json');
  const name = domainKey(input.name);
  const registry = domainRegistry(c.env);
  const existing = await registry.lookup(name);
  if (existing !== null) {
    throw problemException({ status: 409, title: 'Domain exists', detail: existing.name === name ? `the domain "${name}" exists; change it with PATCH /api/v1/domains/${name}` : `"${name}" is already an alias of the domain "${existing.name}"` });
  }
  const result = await registry.put({
    name,
    ...(input.display_name === undefined ? {} : { displayName: input.display_name }),
    aliases: aliasKeys(name, input.aliases ?? []),
    retention: retentionOf(input.retention),
  });
  forgetServedDomains();
  if (!result.ok) throw conflict(result);
  const { record } = result;
  // A domain of this name may have lived before, another tenant's: its Directory forgets that
  // life's tokens and calls, and both its Directory and its Routing that life's settings (ICE
  // servers with their TURN credentials; webhooks with their secrets, limits, caller IDs).
  const directory = directoryOf(c.env, record.name);
  await directory.openDomain(record.retention);
  await directory.setProvisioningSettings({ iceServers: [] });
  const reset = await routingFor(c.env, record.name).putSettings(DEFAULT_SETTINGS);
  if (!reset.ok) throw new Error(`the routing settings of "${record.name}" could not be reset: ${reset.errors.map((error) => error.detail).join('; ')}`);
  const created = newToken(record.name);
  const token: TokenView = { id: created.id, kind: 'operator', name: 'first operator token', createdAt: Date.now() };
  await directory.createToken(token, await secretDigest(created.secret));
  c.header('Location', `/api/v1/domains/${encodeURIComponent(record.name)}`);
  return c.json({ ...domainView(record), operator_token: { id: token.id, name: token.name, token: created.token } }, 201);
});

domains.openapi(patchDomain, async (c) => {
  const principal = c.get('principal');
  const name = domainKey(c.req.valid('param').name);
  const input = c.req.valid('json');
  const registry = domainRegistry(c.env);
  const existing = visible(principal, name) ? await registry.get(name) : null;
  if (existing === null) throw notFound(name);
  if (input.aliases !== undefined) requireInstallation(principal, 'changing aliases (they decide which domain SIP traffic reaches)');
  const result = await registry.put({
    name,
    ...(input.display_name === undefined ? {} : { displayName: input.display_name }),
    ...(input.aliases === undefined ? {} : { aliases: aliasKeys(name, input.aliases) }),
    retention: retentionOf(input.retention),
  });
  forgetServedDomains();
  if (!result.ok) throw conflict(result);
  await directoryOf(c.env, name === domainKey(c.env.SIPEDGE_DOMAIN) ? c.env.SIPEDGE_DOMAIN : name).setRetention(result.record.retention);
  return c.json(domainView(result.record), 200);
});

domains.openapi(deleteDomain, async (c) => {
  const name = domainKey(c.req.valid('param').name);
  if (name === domainKey(c.env.SIPEDGE_DOMAIN)) {
    throw problemException({ status: 409, title: 'Installation domain', detail: `"${name}" is SIPEDGE_DOMAIN, the installation's own domain; it is always served and cannot be deleted` });
  }
  const registry = domainRegistry(c.env);
  if ((await registry.get(name)) === null) throw notFound(name);
  const routing = routingFor(c.env, name);
  const [users, links, routes, mappings] = await Promise.all([directoryOf(c.env, name).countUsers(), routing.listLinks(), routing.listRules(), routing.listMappings()]);
  const left = [
    [users, 'user'],
    [links.length, 'PBX link'],
    [routes.length, 'route'],
    [mappings.length, 'inbound mapping'],
  ] as const;
  const held = left.filter(([count]) => count > 0).map(([count, what]) => `${count} ${what}${count === 1 ? '' : 's'}`);
  if (held.length > 0) {
    throw problemException({
      status: 409,
      title: 'Domain in use',
      detail: `the domain "${name}" still has ${held.length > 1 ? `${held.slice(0, -1).join(', ')} and ${held.at(-1)}` : held[0]}; delete them first, so that nothing is left without a domain`,
    });
  }
  await registry.remove(name);
  forgetServedDomains();
  return c.body(null, 204);
});
