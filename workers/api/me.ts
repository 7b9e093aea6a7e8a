/**
 * `/api/v1/me`: a user's own resources, for the user's self-service token (`tokens.ts`). The user is
 * the token's, never a parameter, so a user token cannot name anybody else; its domain is the
 * token's too (any domain the edge serves).
 *
 *   GET /me        the user (as `GET /users/:username` shows it to an operator)
 *   GET /me/trace  the user's own SIP trace, with the operator route's query and formats
 *   GET /me/registrations/log  the user's own register log
 *   GET/PUT/DELETE /me/presence  the user's own presence (`presence.ts`)
 *   POST /me/provisioning  the user's own phone configuration and one-time link (`provisioning.ts`)
 *   GET /me/calls, /me/calls/:id  the calls the user took part in (`calls.ts`)
 */
import { createRoute, z } from '@hono/zod-openapi';
import { callListQuerySchema, callListSchema, callViewSchema, readCallOf, readCalls } from './calls.ts';
import { apiApp, jsonBody, jsonResponse, problems } from './openapi.ts';
import { callerDomain, userAuth } from './operator-auth.ts';
import { presenceSchema, readPresence, setPresenceSchema, writePresence } from './presence.ts';
import { provision, provisionedSchema, provisionSchema } from './provisioning.ts';
import { readRegisterLog, readUser, registerLogQuerySchema, registerLogSchema, traceAnswer, traceQuerySchema, traceResponses, userNotFound, userStub, userViewSchema } from './users.ts';

const getMe = createRoute({
  operationId: 'getMe',
  method: 'get',
  path: '/',
  summary: 'The user of this token',
  responses: { 200: jsonResponse(userViewSchema, 'the user'), ...problems(404) },
});

const getMyTrace = createRoute({
  operationId: 'getMyTrace',
  method: 'get',
  path: '/trace',
  summary: "The token user's own SIP trace",
  request: { query: traceQuerySchema },
  responses: { ...traceResponses, ...problems(400, 404) },
});

const getMyRegisterLog = createRoute({
  operationId: 'getMyRegisterLog',
  method: 'get',
  path: '/registrations/log',
  summary: "The token user's own REGISTERs and their answers",
  request: { query: registerLogQuerySchema },
  responses: { 200: jsonResponse(registerLogSchema, 'the register log, oldest first'), ...problems(400, 404) },
});

const provisionMe = createRoute({
  operationId: 'provisionMe',
  method: 'post',
  path: '/provisioning',
  summary: "The token user's phone configuration, and a one-time link with its QR code",
  request: { body: jsonBody(provisionSchema) },
  responses: { 201: jsonResponse(provisionedSchema, 'the configuration (and link)'), ...problems(400, 404, 415) },
});

const getMyPresence = createRoute({
  operationId: 'getMyPresence',
  method: 'get',
  path: '/presence',
  summary: "The token user's own presence",
  responses: { 200: jsonResponse(presenceSchema, 'the presence'), ...problems(404) },
});

const putMyPresence = createRoute({
  operationId: 'putMyPresence',
  method: 'put',
  path: '/presence',
  summary: "Set the token user's own presence; watchers get a NOTIFY",
  request: { body: jsonBody(setPresenceSchema) },
  responses: { 200: jsonResponse(presenceSchema, 'the presence now'), ...problems(400, 404, 415) },
});

const deleteMyPresence = createRoute({
  operationId: 'deleteMyPresence',
  method: 'delete',
  path: '/presence',
  summary: 'Remove the presence the token user set through the API',
  responses: { 204: { description: 'removed' }, ...problems(404) },
});

const getMyCalls = createRoute({
  operationId: 'listMyCalls',
  method: 'get',
  path: '/calls',
  summary: "The token user's calls, newest first",
  request: { query: callListQuerySchema },
  responses: { 200: jsonResponse(callListSchema, 'a page of calls'), ...problems(400) },
});

const getMyCall = createRoute({
  operationId: 'getMyCall',
  method: 'get',
  path: '/calls/{id}',
  summary: 'One of the token user’s calls',
  request: { params: z.object({ id: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, 'must be a call id') }) },
  responses: { 200: jsonResponse(callViewSchema, 'the call'), ...problems(400, 404) },
});

export const me = apiApp();

me.use('*', userAuth());

function username(c: { get(key: 'principal'): { readonly username?: string } }): string {
  return c.get('principal').username ?? '';
}

me.openapi(getMe, async (c) => c.json(await readUser(c.env, callerDomain(c), username(c)), 200));

me.openapi(getMyTrace, async (c) => {
  const user = username(c);
  const { format, ...query } = c.req.valid('query');
  const stub = userStub(c.env, user, callerDomain(c));
  if ((await stub.getAccount()) === undefined) throw userNotFound(user);
  return traceAnswer(await stub.readTrace(query), format, `${user}${query.callId === undefined ? '' : '-call'}`);
});

me.openapi(getMyRegisterLog, async (c) => {
  const user = username(c);
  const domain = callerDomain(c);
  if ((await userStub(c.env, user, domain).getAccount()) === undefined) throw userNotFound(user);
  return c.json(await readRegisterLog(c.env, domain, user, c.req.valid('query')), 200);
});

me.openapi(provisionMe, async (c) => c.json(await provision(c, username(c), c.req.valid('json')), 201));

me.openapi(getMyPresence, async (c) => c.json(await readPresence(c.env, username(c), callerDomain(c)), 200));

me.openapi(putMyPresence, async (c) => c.json(await writePresence(c.env, username(c), c.req.valid('json'), callerDomain(c)), 200));

me.openapi(deleteMyPresence, async (c) => {
  await writePresence(c.env, username(c), { status: 'closed', expires: 0 }, callerDomain(c));
  return c.body(null, 204);
});

me.openapi(getMyCalls, async (c) => c.json(await readCalls(c.env, callerDomain(c), c.req.valid('query'), username(c)), 200));

me.openapi(getMyCall, async (c) => c.json(await readCallOf(c.env, callerDomain(c), c.req.valid('param').id, username(c)), 200));
