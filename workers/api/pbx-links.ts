/**
 * `/api/v1/pbx-links`: the PBXes and SIP trunks the edge connects to, one PbxLink object each.
 *
 *   GET    /pbx-links      the links the domain's Routing registry knows, each with its registration state
 *   PUT    /pbx-links/:id  create (201) or replace (200); the body below
 *   GET    /pbx-links/:id  the configuration (never the password) and the registration status
 *   GET    /pbx-links/:id/trace?callId=&since=&limit=&format=json|text|pcap  the link's own SIP
 *          trace (every message on its flows to the PBX, credentials redacted), oldest first
 *   GET    /pbx-links/:id/latency  SIP transaction response times toward the PBX: the latest
 *          samples and p50/p95/max over them, overall and per method (`pbx/link-latency.ts`)
 *   DELETE /pbx-links/:id  204; a registered link first unregisters (expires=0)
 *
 * Field names are those of Asterisk's res_pjsip outbound registration where one exists, with its
 * defaults (`link-config.ts`), so the whole resource is written in snake_case. `password` is
 * write-only: leave it out of a PUT to keep the stored one, send null to remove it.
 *
 * Asterisk options sipedge does not implement are refused (422) with a message naming them,
 * never ignored; so is `udp` on an edge without media nodes to carry it.
 *
 * Links are the caller's domain's (`link-owner.ts`): the configuration records its `domain`, ids
 * stay unique across the edge (a PUT of an id another domain uses is a 409), and another domain's
 * link is answered as absent (404).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { isHost, parseParams, parseUri, SipSyntaxError } from '../../shared/grammar/index.ts';
import { ASTERISK_DEFAULTS, defaultPort, KNOWN_TRANSPORTS, type PbxLinkConfig, type PbxTransport } from '../pbx/link-config.ts';
import { routingFor } from '../routing/routing.ts';
import { domainKey } from '../domains/domain-record.ts';
import { domainOfLink, linkOf, linkStub } from './link-owner.ts';
import { callerDomain } from './operator-auth.ts';
import { problemException, type FieldError } from './problem.ts';
import { apiApp, jsonBody, jsonResponse, problems } from './openapi.ts';
import { traceAnswer, traceQuerySchema, traceResponses, usernameSchema } from './users.ts';

/** A link id: what the operator calls the PBX or trunk (`main-pbx`, `trunk.eu-1`). */
const linkIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');

/** RFC 3261 §20.19 delta-seconds: at most 2**32-1. */
const MAX_DELTA_SECONDS = 4_294_967_295;

const seconds = (min: number) =>
  z.int('must be a whole number of seconds').min(min, `must be at least ${min}`).max(MAX_DELTA_SECONDS, `must be at most ${MAX_DELTA_SECONDS}`);

// eslint-disable-next-line no-control-regex
const printable = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`).regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters');

/** A URI user part that needs no escaping (RFC 3261 §25.1 `unreserved` and most of `user-unreserved`). */
const sipUserSchema = z.string().regex(/^[A-Za-z0-9._~!*'()&=+$,-]{1,64}$/, 'must be 1-64 characters a SIP URI user part takes unescaped');

function isSipUri(text: string): boolean {
  try {
    const uri = parseUri(text);
    return uri.kind === 'sip' && uri.host.length > 0;
  } catch (error) {
    if (error instanceof SipSyntaxError) return false;
    throw error;
  }
}

const sipUriSchema = z.string().max(256, 'must be at most 256 characters').refine(isSipUri, 'must be a sip: or sips: URI with a host');

function isHeaderParams(text: string): boolean {
  try {
    return parseParams(text).length > 0;
  } catch (error) {
    if (error instanceof SipSyntaxError) return false;
    throw error;
  }
}

const putLinkSchema = z.strictObject({
  host: z.string().max(253, 'must be at most 253 characters').refine(isHost, 'must be a hostname, an IPv4 address or an IPv6 address in brackets'),
  port: z.int('must be a port number').min(1, 'must be 1-65535').max(65535, 'must be 1-65535').optional(),
  transport: z.enum(KNOWN_TRANSPORTS, `must be one of ${KNOWN_TRANSPORTS.join(', ')}`),
  register: z.boolean('must be true or false').default(true),
  can_terminate: z.boolean('must be true or false').default(true),
  username: sipUserSchema.optional(),
  password: z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters').nullable().optional(),
  auth_id: printable(128).regex(/^[^"\\]*$/, 'must not contain " or \\').optional(),
  outbound_proxy: sipUriSchema.optional(),
  client_uri: sipUriSchema.optional(),
  server_uri: sipUriSchema.optional(),
  contact_user: sipUserSchema.default(ASTERISK_DEFAULTS.contact_user),
  contact_header_params: z.string().max(256, 'must be at most 256 characters').refine(isHeaderParams, 'must be header parameters such as ;name=value').optional(),
  expiration: seconds(1).default(ASTERISK_DEFAULTS.expiration),
  max_retries: z.int('must be a whole number').min(0, 'must not be negative').max(MAX_DELTA_SECONDS, `must be at most ${MAX_DELTA_SECONDS}`).default(ASTERISK_DEFAULTS.max_retries),
  retry_interval: seconds(0).default(ASTERISK_DEFAULTS.retry_interval),
  forbidden_retry_interval: seconds(0).default(ASTERISK_DEFAULTS.forbidden_retry_interval),
  fatal_retry_interval: seconds(0).default(ASTERISK_DEFAULTS.fatal_retry_interval),
  auth_rejection_permanent: z.boolean('must be true or false').default(ASTERISK_DEFAULTS.auth_rejection_permanent),
  max_random_initial_delay: seconds(0).default(ASTERISK_DEFAULTS.max_random_initial_delay),
  line: z.boolean('must be true or false').default(ASTERISK_DEFAULTS.line),
  endpoint: usernameSchema.optional(),
  support_path: z.boolean('must be true or false').default(ASTERISK_DEFAULTS.support_path),
  support_outbound: z.boolean('must be true or false').default(ASTERISK_DEFAULTS.support_outbound),
  user_agent: printable(128).optional(),
  ws_path: z
    .string()
    .max(256, 'must be at most 256 characters')
    .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, 'must be a URL path starting with /')
    .optional()
    .openapi({ description: 'transport wss only: the path of the WebSocket URL (`/ws` for Asterisk); `/` when left out' }),
  qualify_frequency: z
    .int('must be a whole number of seconds')
    .min(0, 'must be 0-86400')
    .max(86_400, 'must be 0-86400')
    .default(ASTERISK_DEFAULTS.qualify_frequency)
    .openapi({ description: "Asterisk's qualify_frequency: seconds between OPTIONS requests to the PBX, sent only when the link timed no other transaction for that long; 0 for none" }),
  // Asterisk options sipedge refuses; accepted by the schema so that the refusal can say why.
  security_negotiation: z.unknown().optional(),
  security_mechanisms: z.unknown().optional(),
  outbound_auth: z.unknown().optional(),
});

type PutLinkInput = z.infer<typeof putLinkSchema>;

/** The secret media nodes' control APIs are signed with (at least 32 characters, as `media-nodes.ts` requires). */
function mediaSecretSet(env: Env): boolean {
  const secret: unknown = env.SIPEDGE_MEDIA_SECRET;
  return typeof secret === 'string' && secret.length >= 32;
}

/** Options that are valid for Asterisk but that sipedge does not do: each refusal says what to do instead. */
function refusals(input: PutLinkInput, env: Env): FieldError[] {
  const errors: FieldError[] = [];
  if (input.transport === 'udp' && !mediaSecretSet(env)) {
    errors.push({ pointer: '#/transport', detail: 'udp goes through a media node\'s SIP/UDP gateway (Workers have no UDP), and this edge has no SIPEDGE_MEDIA_SECRET to reach media nodes with; set it, or use tcp, tls or wss' });
  }
  if (input.security_negotiation !== undefined && input.security_negotiation !== 'no') {
    errors.push({
      pointer: '#/security_negotiation',
      detail: `security_negotiation=${JSON.stringify(input.security_negotiation)} is not implemented by sipedge (RFC 3329 security agreement, mediasec); leave it out or set it to "no"`,
    });
  }
  if (input.security_mechanisms !== undefined) {
    errors.push({ pointer: '#/security_mechanisms', detail: 'security_mechanisms is not implemented by sipedge (it belongs to security_negotiation=mediasec); leave it out' });
  }
  if (input.outbound_auth !== undefined) {
    errors.push({ pointer: '#/outbound_auth', detail: 'sipedge takes the credentials inline: set username, password and (when the digest username differs) auth_id' });
  }
  return errors;
}

/** Rules between fields, as 400s naming the field to fix. */
function crossFieldErrors(input: PutLinkInput): FieldError[] {
  const errors: FieldError[] = [];
  if (input.register && input.username === undefined && input.client_uri === undefined) {
    errors.push({ pointer: '#/username', detail: 'is required to register, unless client_uri is given' });
  }
  if (input.ws_path !== undefined && input.transport !== 'wss') {
    errors.push({ pointer: '#/ws_path', detail: 'is for transport wss only' });
  }
  if (typeof input.password === 'string' && input.username === undefined && input.auth_id === undefined) {
    errors.push({ pointer: '#/auth_id', detail: 'a password needs a digest username: set username or auth_id' });
  }
  return errors;
}

function toConfig(id: string, domain: string, input: PutLinkInput): PbxLinkConfig {
  const transport = input.transport as PbxTransport;
  const { password: _password, security_negotiation: _sn, security_mechanisms: _sm, outbound_auth: _oa, port, client_uri, server_uri, ...rest } = input;
  return {
    ...rest,
    id,
    domain,
    transport,
    port: port ?? defaultPort(transport),
    // Asterisk requires both; these defaults are what a PBX or trunk expects most often.
    client_uri: client_uri ?? `sip:${input.username ?? ''}@${input.host}`,
    server_uri: server_uri ?? `sip:${input.host}`,
    ...(input.contact_header_params === undefined
      ? {}
      : { contact_header_params: input.contact_header_params.startsWith(';') ? input.contact_header_params : `;${input.contact_header_params}` }),
  };
}

const linkParams = z.object({ id: linkIdSchema });

const registrationSchema = z.object({
  state: z.enum(['unregistered', 'registering', 'registered', 'retrying', 'rejected', 'failed', 'unregistering']),
  expires_at: z.string().optional().openapi({ description: 'when the binding expires (ISO 8601), while registered' }),
  next_attempt_at: z.string().optional().openapi({ description: 'the next REGISTER (ISO 8601), while retrying' }),
  retries: z.int(),
  last_status: z.string().optional().openapi({ description: 'the status line of the last final response, e.g. `401 Unauthorized`' }),
  detail: z.string().optional(),
  contact: z.string().optional().openapi({ description: 'the Contact the link registers' }),
  connection: z.enum(['connecting', 'open', 'closed']),
  recent: z.array(z.object({ at: z.string(), status_line: z.string(), detail: z.string().optional(), state: z.string() })).readonly().openapi({ description: 'the latest outcomes, newest last' }),
});

const linkViewSchema = z
  .looseObject({
    id: z.string(),
    domain: z.string().openapi({ description: 'the SIP domain (tenant) the link belongs to' }),
    host: z.string(),
    port: z.int(),
    transport: z.enum(KNOWN_TRANSPORTS),
    register: z.boolean(),
    can_terminate: z.boolean(),
    password_set: z.boolean(),
    registration: registrationSchema,
  })
  .openapi('PbxLink', { description: 'the configuration (every field of PutPbxLink but the password) and the registration status' });

const linkListSchema = z.object({ links: z.array(z.object({ id: z.string(), status: registrationSchema.shape.state })) }).openapi('PbxLinkList');

const listLinks = createRoute({
  operationId: 'listPbxLinks',
  method: 'get',
  path: '/',
  summary: 'List the PBX links, each with its registration state',
  responses: { 200: jsonResponse(linkListSchema, 'the links the Routing registry knows') },
});

const putLink = createRoute({
  operationId: 'putPbxLink',
  method: 'put',
  path: '/{id}',
  summary: 'Create or replace a PBX link',
  request: { params: linkParams, body: jsonBody(putLinkSchema.openapi('PutPbxLink')) },
  responses: {
    200: jsonResponse(linkViewSchema, 'replaced'),
    201: jsonResponse(linkViewSchema, 'created'),
    ...problems(400, 409, 415, 422),
  },
});

const getLink = createRoute({
  operationId: 'getPbxLink',
  method: 'get',
  path: '/{id}',
  summary: 'Show a PBX link (never its password) and its registration',
  request: { params: linkParams },
  responses: { 200: jsonResponse(linkViewSchema, 'the link'), ...problems(400, 404) },
});

const getLinkTrace = createRoute({
  operationId: 'getPbxLinkTrace',
  method: 'get',
  path: '/{id}/trace',
  summary: "The PBX link's own SIP trace (every message on its flows to the PBX)",
  request: { params: linkParams, query: traceQuerySchema },
  responses: { ...traceResponses, ...problems(400, 404) },
});

const summarySchema = z.object({
  count: z.int().openapi({ description: 'responses timed' }),
  p50_ms: z.number().nullable(),
  p95_ms: z.number().nullable(),
  max_ms: z.number().nullable(),
  timeouts: z.int().openapi({ description: 'requests without a response within 32 s (64*T1)' }),
});

const latencySchema = z
  .object({
    window: z.int().openapi({ description: 'how many samples the link keeps; the summaries are over them' }),
    summary: summarySchema,
    methods: z.record(z.string(), summarySchema).openapi({ description: 'the same figures per request method' }),
    qualify_frequency: z.int(),
    samples: z
      .array(z.object({ at: z.string(), method: z.string(), status: z.int().nullable(), ms: z.number().nullable() }))
      .readonly()
      .openapi({ description: 'oldest first; status and ms are null for a timeout' }),
  })
  .openapi('PbxLinkLatency', { description: 'time from each request the link sent to its first response (provisional or final)' });

const getLinkLatency = createRoute({
  operationId: 'getPbxLinkLatency',
  method: 'get',
  path: '/{id}/latency',
  summary: "The PBX link's SIP transaction response times",
  request: { params: linkParams },
  responses: { 200: jsonResponse(latencySchema, 'the samples and their summary'), ...problems(400, 404) },
});

const deleteLink = createRoute({
  operationId: 'deletePbxLink',
  method: 'delete',
  path: '/{id}',
  summary: 'Delete a PBX link; a registered link first unregisters',
  request: { params: linkParams },
  responses: { 204: { description: 'deleted' }, ...problems(400, 404) },
});

export const pbxLinks = apiApp();

pbxLinks.openapi(putLink, async (c) => {
  const { id } = c.req.valid('param');
  const input = c.req.valid('json');
  const invalid = crossFieldErrors(input);
  if (invalid.length > 0) {
    throw problemException({ status: 400, title: 'Invalid request', detail: describe(invalid), errors: invalid });
  }
  const refused = refusals(input, c.env);
  if (refused.length > 0) {
    throw problemException({ status: 422, title: 'Not available in sipedge', detail: describe(refused), errors: refused });
  }
  const domain = callerDomain(c);
  const stub = linkStub(c.env, id);
  const existing = await stub.getLink();
  if (existing !== undefined && domainKey(domainOfLink(c.env, existing)) !== domainKey(domain)) {
    throw problemException({ status: 409, title: 'PBX link id taken', detail: `PBX link ids are unique across the edge and "${id}" is taken by another domain's link; choose another id` });
  }
  const { created, view } = await stub.putLink(toConfig(id, domain, input), input.password);
  if (view === undefined) throw notFound(id);
  // The routing registry follows (outbound plans use only links it knows); a failure here is a 500, and the PUT can be repeated.
  await routingFor(c.env, domain).linkChanged(id, { can_terminate: input.can_terminate });
  if (created) c.header('Location', `/api/v1/pbx-links/${encodeURIComponent(id)}`);
  const shown = { ...view, domain };
  return created ? c.json(shown, 201) : c.json(shown, 200);
});

pbxLinks.openapi(listLinks, async (c) => {
  const domain = callerDomain(c);
  const ids = await routingFor(c.env, domain).listLinks();
  const views = await Promise.all(ids.map(async (id) => ({ id, view: await linkOf(c.env, domain, id) })));
  return c.json({ links: views.flatMap(({ id, view }) => (view === undefined ? [] : [{ id, status: view.registration.state }])) }, 200);
});

pbxLinks.openapi(getLink, async (c) => {
  const { id } = c.req.valid('param');
  const view = await linkOf(c.env, callerDomain(c), id);
  if (view === undefined) throw notFound(id);
  return c.json({ ...view, domain: domainOfLink(c.env, view) }, 200);
});

pbxLinks.openapi(getLinkTrace, async (c) => {
  const { id } = c.req.valid('param');
  const { format, ...query } = c.req.valid('query');
  if ((await linkOf(c.env, callerDomain(c), id)) === undefined) throw notFound(id);
  const records = await linkStub(c.env, id).readTrace(query);
  if (records === undefined) throw notFound(id);
  return traceAnswer(records, format, `pbx-link-${id}`);
});

pbxLinks.openapi(getLinkLatency, async (c) => {
  const { id } = c.req.valid('param');
  if ((await linkOf(c.env, callerDomain(c), id)) === undefined) throw notFound(id);
  const latency = await linkStub(c.env, id).readLatency();
  if (latency === undefined) throw notFound(id);
  return c.json(latency, 200);
});

pbxLinks.openapi(deleteLink, async (c) => {
  const { id } = c.req.valid('param');
  const domain = callerDomain(c);
  const stub = linkStub(c.env, id);
  const existing = await stub.getLink();
  if (existing !== undefined && domainKey(domainOfLink(c.env, existing)) !== domainKey(domain)) throw notFound(id);
  const existed = await stub.deleteLink();
  await routingFor(c.env, domain).linkChanged(id, undefined);
  if (!existed) throw notFound(id);
  return c.body(null, 204);
});

function describe(errors: readonly FieldError[]): string {
  return errors.map((error) => `${error.pointer?.slice(2) ?? ''}: ${error.detail}`).join('; ');
}

function notFound(id: string): Error {
  return problemException({ status: 404, title: 'PBX link not found', detail: `there is no PBX link "${id}"` });
}
