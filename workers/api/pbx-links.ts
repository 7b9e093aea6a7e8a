/**
 * `/api/v1/pbx-links`: the PBXes and SIP trunks the edge connects to, one PbxLink object each.
 *
 *   GET    /pbx-links      the links the domain's Routing registry knows, each with its registration state
 *   PUT    /pbx-links/:id  create (201) or replace (200); the body below
 *   GET    /pbx-links/:id  the configuration (never the password) and the registration status
 *   DELETE /pbx-links/:id  204; a registered link first unregisters (expires=0)
 *
 * Field names are those of Asterisk's res_pjsip outbound registration where one exists, with its
 * defaults (`link-config.ts`), so the whole resource is written in snake_case. `password` is
 * write-only: leave it out of a PUT to keep the stored one, send null to remove it.
 *
 * Asterisk options sipedge does not implement are refused (422) with a message naming them,
 * never ignored; so are the transports that are not available yet.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { isHost, parseParams, parseUri, SipSyntaxError } from '../../shared/grammar/index.ts';
import { ASTERISK_DEFAULTS, defaultPort, KNOWN_TRANSPORTS, type PbxLinkConfig, type PbxTransport } from '../pbx/link-config.ts';
import { routingFor } from '../routing/routing.ts';
import { problemException, type FieldError } from './problem.ts';
import { usernameSchema } from './users.ts';
import { parseBody, parseParameter, readJson } from './validation.ts';

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
  // Asterisk options sipedge refuses; accepted by the schema so that the refusal can say why.
  security_negotiation: z.unknown().optional(),
  security_mechanisms: z.unknown().optional(),
  outbound_auth: z.unknown().optional(),
});

type PutLinkInput = z.infer<typeof putLinkSchema>;

/** Options that are valid for Asterisk but that sipedge does not do: each refusal says what to do instead. */
function refusals(input: PutLinkInput): FieldError[] {
  const errors: FieldError[] = [];
  if (input.transport === 'udp') {
    errors.push({ pointer: '#/transport', detail: 'udp is not available yet: Workers have no UDP, and the media node\'s SIP/UDP gateway that will carry it is not built yet; use tcp or tls' });
  } else if (input.transport === 'wss') {
    errors.push({ pointer: '#/transport', detail: 'wss (WebSocket registration mode) is not available yet; use tcp or tls' });
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
  if (typeof input.password === 'string' && input.username === undefined && input.auth_id === undefined) {
    errors.push({ pointer: '#/auth_id', detail: 'a password needs a digest username: set username or auth_id' });
  }
  return errors;
}

function toConfig(id: string, input: PutLinkInput): PbxLinkConfig {
  const transport = input.transport as PbxTransport;
  const { password: _password, security_negotiation: _sn, security_mechanisms: _sm, outbound_auth: _oa, port, client_uri, server_uri, ...rest } = input;
  return {
    ...rest,
    id,
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

function linkStub(env: Env, id: string) {
  return env.PBX_LINK.get(env.PBX_LINK.idFromName(id));
}

export const pbxLinks = new Hono<{ Bindings: Env }>();

pbxLinks.put('/:id', async (c) => {
  const id = parseParameter(linkIdSchema, 'id', c.req.param('id'));
  const input = parseBody(putLinkSchema, await readJson(c.req.raw));
  const invalid = crossFieldErrors(input);
  if (invalid.length > 0) {
    throw problemException({ status: 400, title: 'Invalid request', detail: describe(invalid), errors: invalid });
  }
  const refused = refusals(input);
  if (refused.length > 0) {
    throw problemException({ status: 422, title: 'Not available in sipedge', detail: describe(refused), errors: refused });
  }
  const { created, view } = await linkStub(c.env, id).putLink(toConfig(id, input), input.password);
  // The routing registry follows (outbound plans use only links it knows); a failure here is a 500, and the PUT can be repeated.
  await routingFor(c.env).linkChanged(id, { can_terminate: input.can_terminate });
  if (created) c.header('Location', `/api/v1/pbx-links/${encodeURIComponent(id)}`);
  return c.json(view, created ? 201 : 200);
});

pbxLinks.get('/', async (c) => {
  const ids = await routingFor(c.env).listLinks();
  const views = await Promise.all(ids.map(async (id) => ({ id, view: await linkStub(c.env, id).getLink() })));
  return c.json({ links: views.flatMap(({ id, view }) => (view === undefined ? [] : [{ id, status: view.registration.state }])) });
});

pbxLinks.get('/:id', async (c) => {
  const id = parseParameter(linkIdSchema, 'id', c.req.param('id'));
  const view = await linkStub(c.env, id).getLink();
  if (view === undefined) throw notFound(id);
  return c.json(view);
});

pbxLinks.delete('/:id', async (c) => {
  const id = parseParameter(linkIdSchema, 'id', c.req.param('id'));
  const existed = await linkStub(c.env, id).deleteLink();
  await routingFor(c.env).linkChanged(id, undefined);
  if (!existed) throw notFound(id);
  return c.body(null, 204);
});

function describe(errors: readonly FieldError[]): string {
  return errors.map((error) => `${error.pointer?.slice(2) ?? ''}: ${error.detail}`).join('; ');
}

function notFound(id: string): Error {
  return problemException({ status: 404, title: 'PBX link not found', detail: `there is no PBX link "${id}"` });
}
