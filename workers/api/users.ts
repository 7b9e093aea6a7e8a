/**
 * `/api/v1/users`: the edge's SIP users. One sub-app per resource (STYLE.md); schemas sit next to
 * the routes that use them and make the OpenAPI document (`openapi.ts`).
 *
 *   GET    /users?limit=&cursor=&q=  the users, by username, paged (from the domain's Directory)
 *   PUT    /users/:username  {"password": "...", "displayName": "...", "pbx": {...}}  create (201) or replace (200)
 *   GET    /users/:username  the user, without secrets
 *   DELETE /users/:username  204; the user's bindings, self-service tokens and PBX credentials go with it
 *   GET    /users/:username/pbx-registration  the user's proxy registration to its PBX (`user-pbx.ts`)
 *   GET    /users/:username/trace?callId=&since=&limit=&format=json|text|pcap  the user's SIP trace
 *          (`workers/trace/`), oldest first
 *   GET    /users/:username/registrations/log?since=&limit=  each REGISTER and its answer, oldest
 *          first, read from that trace (`workers/trace/register-log.ts`)
 *
 * The password is turned into HA1s here and goes no further (RFC 7616 §3.4.2). The optional `pbx`
 * member (`{link, username, password, auth_id?}`: the user's PBX credentials for proxy
 * registration) goes to that PbxLink, which alone keeps the PBX password; a PUT without it removes
 * them. `registration_mode: "websocket"` relays the user's sockets to the PBX instead
 * (`user-registration-mode.ts`): `pbx` then names a `wss` link and carries no password.
 *
 * Users are the caller's domain's (`callerDomain`): a token of another domain finds none of them.
 * A user lives in its SipUser object; the domain's Directory lists it. The two are written one
 * after the other (SipUser first), not atomically: when the Directory write fails after the
 * SipUser write succeeded, the answer is a 500 saying so, and the listing is wrong until it heals:
 * a PUT is idempotent and can be sent again, and every GET of a user puts the listing right (a
 * user found is listed, a user not found is unlisted). The same holds for a failed DELETE.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { directoryOf } from '../directory/directory.ts';
import { aorForUser } from '../sip/address-of-record.ts';
import { registerLog } from '../trace/register-log.ts';
import { DEFAULT_TRACE_POLICY } from '../trace/sip-trace.ts';
import { traceText } from '../trace/trace-text.ts';
import { tracePcap } from '../trace/trace-pcap.ts';
import type { TraceRecord } from '../trace/trace-record.ts';
import { accountFromPassword, viewOf, type AccountView } from '../user/account.ts';
import { base64url, fromBase64url } from './api-token.ts';
import { apiApp, jsonBody, jsonResponse, problems } from './openapi.ts';
import { callerDomain, operatorAuth } from './operator-auth.ts';
import { problemException } from './problem.ts';
import { pbxCredentialsSchema, pbxRegistrationSchema, readPbxRegistration, readUserPbx, releasePbxCredentials, storePbxCredentials, userPbxViewSchema } from './user-pbx.ts';
import { checkRegistrationMode, registrationModeSchema } from './user-registration-mode.ts';

/**
 * A SIP user part (RFC 3261 §25.1 `user`) kept to what every client and PBX takes unescaped:
 * letters, digits and `. _ - +`, starting with a letter, digit or `+` (E.164 numbers).
 */
export const usernameSchema = z
  .string()
  .regex(/^[A-Za-z0-9+][A-Za-z0-9._+-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_", "-" or "+", not starting with ".", "_" or "-"')
  .openapi({ example: 'alice' });

export const putUserSchema = z
  .strictObject({
    password: z.string().min(8, 'must be at least 8 characters').max(128, 'must be at most 128 characters').openapi({ writeOnly: true }),
    displayName: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(128, 'must be at most 128 characters')
      // eslint-disable-next-line no-control-regex
      .regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters')
      .optional(),
    pbx: pbxCredentialsSchema.optional().openapi({ description: 'PBX credentials: a PBX link registers the user there while the user is registered at the edge' }),
    registration_mode: registrationModeSchema.optional(),
  })
  .openapi('PutUser');

export const userViewSchema = z
  .object({ username: z.string(), aor: z.string().openapi({ example: 'alice@example.com' }), displayName: z.string().optional(), pbx: userPbxViewSchema.optional(), registration_mode: registrationModeSchema.optional().openapi({ description: 'websocket when the user is relayed; left out in proxy mode' }) })
  .openapi('User');

const userParams = z.object({ username: usernameSchema });

const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int('must be a whole number').min(1, 'must be 1-500').max(500, 'must be 1-500').default(100),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be the cursor of a previous page')
    .optional()
    .openapi({ description: 'the `next` of the previous page' }),
  q: z.string().max(64, 'must be at most 64 characters').optional().openapi({ description: 'only usernames starting with this' }),
});

const userListSchema = z
  .object({
    users: z.array(z.object({ username: z.string(), displayName: z.string().optional() })),
    next: z.string().optional().openapi({ description: 'the cursor of the next page; absent on the last page' }),
  })
  .openapi('UserList');

export const traceFormats = ['json', 'text', 'pcap'] as const;

export const traceQuerySchema = z.strictObject({
  callId: z.string().min(1).max(256).optional().openapi({ description: 'only this call (Call-ID)' }),
  since: z.coerce.number().int().nonnegative().optional().openapi({ description: 'only messages at or after this time (ms since the epoch)' }),
  limit: z.coerce.number().int().min(1).max(2000).optional().openapi({ description: 'the newest this many messages (default 200)' }),
  format: z.enum(traceFormats, `must be one of ${traceFormats.join(', ')}`).default('json'),
});

const traceRecordSchema = z
  .object({
    at: z.number().openapi({ description: 'ms since the epoch' }),
    direction: z.enum(['in', 'out']),
    transport: z.string(),
    flow: z.string(),
    remote: z.string().optional(),
    callId: z.string().optional(),
    summary: z.string(),
    message: z.string().openapi({ description: 'the SIP message, digest credentials redacted' }),
    bytes: z.number(),
  })
  .openapi('TraceRecord');

/** The trace answers of `/users/{username}/trace` and `/me/trace`. */
export const traceResponses = {
  200: {
    description: 'the trace: JSON records, a text listing (format=text), or a capture file (format=pcap)',
    content: {
      'application/json': { schema: z.object({ records: z.array(traceRecordSchema) }) },
      'text/plain': { schema: z.string() },
      'application/vnd.tcpdump.pcap': { schema: z.string().openapi({ format: 'binary' }) },
    },
  },
};

export const registerLogQuerySchema = z.strictObject({
  since: z.coerce.number().int().nonnegative().optional().openapi({ description: 'only REGISTERs at or after this time (ms since the epoch)' }),
  limit: z.coerce.number().int().min(1).max(2000).default(200).openapi({ description: 'the newest this many REGISTERs' }),
});

export const registerLogSchema = z
  .object({
    entries: z.array(
      z.object({
        at: z.number().openapi({ description: 'ms since the epoch' }),
        status: z.int().optional().openapi({ description: 'the final response; absent when the trace holds none' }),
        reason: z.string().optional(),
        userAgent: z.string().optional(),
        transport: z.string(),
        flow: z.string(),
        remote: z.string().optional(),
        contact: z.string().optional(),
        requestedExpires: z.int().optional(),
        grantedExpires: z.int().optional(),
      }),
    ),
  })
  .openapi('RegisterLog');

/** The register log of `username` of `domain`, newest `limit` entries, oldest first. */
export async function readRegisterLog(env: Env, domain: string, username: string, query: z.infer<typeof registerLogQuerySchema>) {
  const records = await userStub(env, username, domain).readTrace({ limit: DEFAULT_TRACE_POLICY.maxRecords, ...(query.since === undefined ? {} : { since: query.since }) });
  return { entries: registerLog(records).slice(-query.limit) };
}

/** The SipUser object of `username` of `domain`. */
export function userStub(env: Env, username: string, domain: string) {
  return env.SIP_USER.get(env.SIP_USER.idFromName(aorForUser(username, domain)));
}

/** The trace as asked for: JSON, text (`trace-text.ts`) or pcap (`trace-pcap.ts`). */
export function traceAnswer(records: readonly TraceRecord[], format: (typeof traceFormats)[number], filename: string): Response {
  if (format === 'text') return new Response(traceText(records), { headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  if (format === 'pcap') {
    return new Response(tracePcap(records), {
      headers: { 'Content-Type': 'application/vnd.tcpdump.pcap', 'Content-Disposition': `attachment; filename="${filename}.pcap"` },
    });
  }
  return Response.json({ records });
}

export function userNotFound(username: string): Error {
  return problemException({ status: 404, title: 'User not found', detail: `there is no user "${username}"` });
}

/** Reads the user of `domain`, keeping the Directory in step with what the SipUser says (see the header). */
export async function readUser(env: Env, domain: string, username: string): Promise<AccountView> {
  const view = await userStub(env, username, domain).getAccount();
  const directory = directoryOf(env, domain);
  if (view === undefined) {
    await directory.removeUser(username);
    throw userNotFound(username);
  }
  await directory.putUser({ username, ...(view.displayName === undefined ? {} : { displayName: view.displayName }) });
  return view;
}

const listUsers = createRoute({
  operationId: 'listUsers',
  method: 'get',
  path: '/',
  summary: 'List the users',
  request: { query: listQuerySchema },
  responses: { 200: jsonResponse(userListSchema, 'a page of users, by username'), ...problems(400) },
});

const putUser = createRoute({
  operationId: 'putUser',
  method: 'put',
  path: '/{username}',
  summary: 'Create or replace a user',
  request: { params: userParams, body: jsonBody(putUserSchema) },
  responses: {
    200: jsonResponse(userViewSchema, 'replaced'),
    201: jsonResponse(userViewSchema, 'created'),
    ...problems(400, 409, 415, 500),
  },
});

const getUser = createRoute({
  operationId: 'getUser',
  method: 'get',
  path: '/{username}',
  summary: 'Show a user (never its password)',
  request: { params: userParams },
  responses: { 200: jsonResponse(userViewSchema, 'the user'), ...problems(400, 404) },
});

const deleteUser = createRoute({
  operationId: 'deleteUser',
  method: 'delete',
  path: '/{username}',
  summary: 'Delete a user, its bindings and its tokens',
  request: { params: userParams },
  responses: { 204: { description: 'deleted' }, ...problems(400, 404) },
});

const getPbxRegistration = createRoute({
  operationId: 'getUserPbxRegistration',
  method: 'get',
  path: '/{username}/pbx-registration',
  summary: "The user's registration to its PBX through a PBX link (proxy registration)",
  request: { params: userParams },
  responses: { 200: jsonResponse(pbxRegistrationSchema, 'registered, retrying at next_attempt_at, rejected or failed with last_status'), ...problems(400, 404) },
});

const getTrace = createRoute({
  operationId: 'getUserTrace',
  method: 'get',
  path: '/{username}/trace',
  summary: "The user's SIP trace",
  request: { params: userParams, query: traceQuerySchema },
  responses: { ...traceResponses, ...problems(400, 404) },
});

const getRegisterLog = createRoute({
  operationId: 'getUserRegisterLog',
  method: 'get',
  path: '/{username}/registrations/log',
  summary: "The user's REGISTERs and their answers",
  request: { params: userParams, query: registerLogQuerySchema },
  responses: { 200: jsonResponse(registerLogSchema, 'the register log, oldest first'), ...problems(400, 404) },
});

export const users = apiApp();

users.use('*', operatorAuth());

users.openapi(listUsers, async (c) => {
  const query = c.req.valid('query');
  const cursor = query.cursor === undefined ? undefined : fromBase64url(query.cursor);
  if (query.cursor !== undefined && cursor === undefined) {
    throw problemException({ status: 400, title: 'Invalid request', detail: 'cursor: must be the cursor of a previous page', errors: [{ parameter: 'cursor', detail: 'must be the cursor of a previous page' }] });
  }
  const after = cursor === undefined ? undefined : new TextDecoder().decode(cursor);
  const page = await directoryOf(c.env, callerDomain(c)).listUsers({ limit: query.limit, ...(after === undefined ? {} : { after }), ...(query.q === undefined ? {} : { prefix: query.q }) });
  const next = page.last === undefined ? undefined : base64url(new TextEncoder().encode(page.last));
  return c.json({ users: [...page.users], ...(next === undefined ? {} : { next }) }, 200);
});

users.openapi(putUser, async (c) => {
  const { username } = c.req.valid('param');
  const input = c.req.valid('json');
  const domain = callerDomain(c);
  const account = accountFromPassword({ username, domain, password: input.password, displayName: input.displayName });
  const mode = input.registration_mode ?? 'proxy';
  const relayed = await checkRegistrationMode(c.env, domain, mode, input.pbx);
  // The link checks the PBX credentials first: a refusal leaves the user as it was.
  const proxied = relayed === undefined && input.pbx?.password !== undefined ? { ...input.pbx, password: input.pbx.password } : undefined;
  if (proxied !== undefined) await storePbxCredentials(c.env, domain, username, proxied);
  const stub = userStub(c.env, username, domain);
  const { created } = await stub.putAccount(account);
  const previousLink = await stub.setPbxLink(proxied?.link);
  await releasePbxCredentials(c.env, domain, username, previousLink, proxied?.link);
  await stub.setWebSocketMode(relayed);
  try {
    await directoryOf(c.env, domain).putUser({ username, ...(input.displayName === undefined ? {} : { displayName: input.displayName }) });
  } catch {
    throw problemException({
      status: 500,
      title: 'User stored, not listed',
      detail: `user "${username}" was ${created ? 'created' : 'replaced'} and can register, but the user list could not be updated; send the same PUT again`,
    });
  }
  if (created) c.header('Location', `/api/v1/users/${encodeURIComponent(username)}`);
  const pbx = input.pbx === undefined ? undefined : { link: input.pbx.link, username: input.pbx.username, ...(input.pbx.auth_id === undefined ? {} : { auth_id: input.pbx.auth_id }) };
  const view = { ...viewOf(account), ...(pbx === undefined ? {} : { pbx }), ...(relayed === undefined ? {} : { registration_mode: mode }) };
  return created ? c.json(view, 201) : c.json(view, 200);
});

users.openapi(getUser, async (c) => {
  const { username } = c.req.valid('param');
  const domain = callerDomain(c);
  const view = await readUser(c.env, domain, username);
  const stub = userStub(c.env, username, domain);
  const relayed = await stub.getWebSocketMode();
  const pbx = relayed ?? (await readUserPbx(c.env, domain, username, await stub.getPbxLink()));
  return c.json({ ...view, ...(pbx === undefined ? {} : { pbx }), ...(relayed === undefined ? {} : { registration_mode: 'websocket' as const }) }, 200);
});

users.openapi(getPbxRegistration, async (c) => {
  const { username } = c.req.valid('param');
  const domain = callerDomain(c);
  const stub = userStub(c.env, username, domain);
  if ((await stub.getAccount()) === undefined) throw userNotFound(username);
  const link = await stub.getPbxLink();
  const registration = link === undefined ? undefined : await readPbxRegistration(c.env, domain, username, link);
  if (registration === undefined) throw problemException({ status: 404, title: 'No PBX credentials', detail: `user "${username}" has no PBX credentials; PUT the user with a pbx member` });
  return c.json(registration, 200);
});

users.openapi(deleteUser, async (c) => {
  const { username } = c.req.valid('param');
  const domain = callerDomain(c);
  const stub = userStub(c.env, username, domain);
  await releasePbxCredentials(c.env, domain, username, await stub.getPbxLink(), undefined);
  const deleted = await stub.deleteAccount();
  // Unlisted (and its tokens revoked) even when the SipUser was already gone: that heals a DELETE whose second write failed.
  await directoryOf(c.env, domain).removeUser(username);
  if (!deleted) throw userNotFound(username);
  return c.body(null, 204);
});

users.openapi(getTrace, async (c) => {
  const { username } = c.req.valid('param');
  const { format, ...query } = c.req.valid('query');
  const stub = userStub(c.env, username, callerDomain(c));
  if ((await stub.getAccount()) === undefined) throw userNotFound(username);
  return traceAnswer(await stub.readTrace(query), format, `${username}${query.callId === undefined ? '' : '-call'}`);
});

users.openapi(getRegisterLog, async (c) => {
  const { username } = c.req.valid('param');
  const domain = callerDomain(c);
  if ((await userStub(c.env, username, domain).getAccount()) === undefined) throw userNotFound(username);
  return c.json(await readRegisterLog(c.env, domain, username, c.req.valid('query')), 200);
});
