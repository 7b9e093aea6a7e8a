/**
 * `/api/v1/users`: the edge's SIP users. One sub-app per resource (STYLE.md); schemas sit next to
 * the routes that use them.
 *
 *   PUT    /users/:username  {"password": "...", "displayName": "..."}  create (201) or replace (200)
 *   GET    /users/:username  the user, without secrets
 *   DELETE /users/:username  204; the user's bindings go with it
 *   GET    /users/:username/trace?callId=&since=&limit=  the user's SIP trace (`workers/trace/`), oldest first
 *
 * The password is turned into HA1s here and goes no further (RFC 7616 §3.4.2).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { aorForUser } from '../sip/address-of-record.ts';
import { accountFromPassword, viewOf } from '../user/account.ts';
import { problemException } from './problem.ts';
import { parseBody, parseParameter, readJson } from './validation.ts';

/**
 * A SIP user part (RFC 3261 §25.1 `user`) kept to what every client and PBX takes unescaped:
 * letters, digits and `. _ - +`, starting with a letter, digit or `+` (E.164 numbers).
 */
export const usernameSchema = z
  .string()
  .regex(/^[A-Za-z0-9+][A-Za-z0-9._+-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_", "-" or "+", not starting with ".", "_" or "-"');

export const putUserSchema = z.strictObject({
  password: z.string().min(8, 'must be at least 8 characters').max(128, 'must be at most 128 characters'),
  displayName: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(128, 'must be at most 128 characters')
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters')
    .optional(),
});

function userStub(env: Env, username: string) {
  return env.SIP_USER.get(env.SIP_USER.idFromName(aorForUser(username, env.SIPEDGE_DOMAIN)));
}

export const users = new Hono<{ Bindings: Env }>();

users.put('/:username', async (c) => {
  const username = parseParameter(usernameSchema, 'username', c.req.param('username'));
  const input = parseBody(putUserSchema, await readJson(c.req.raw));
  const account = accountFromPassword({ username, domain: c.env.SIPEDGE_DOMAIN, password: input.password, displayName: input.displayName });
  const { created } = await userStub(c.env, username).putAccount(account);
  if (created) c.header('Location', `/api/v1/users/${encodeURIComponent(username)}`);
  return c.json(viewOf(account), created ? 201 : 200);
});

users.get('/:username', async (c) => {
  const username = parseParameter(usernameSchema, 'username', c.req.param('username'));
  const view = await userStub(c.env, username).getAccount();
  if (view === undefined) throw notFound(username);
  return c.json(view);
});

users.delete('/:username', async (c) => {
  const username = parseParameter(usernameSchema, 'username', c.req.param('username'));
  if (!(await userStub(c.env, username).deleteAccount())) throw notFound(username);
  return c.body(null, 204);
});

const traceQuerySchema = z.strictObject({
  callId: z.string().min(1).max(256).optional(),
  since: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(2000).optional(),
});

users.get('/:username/trace', async (c) => {
  const username = parseParameter(usernameSchema, 'username', c.req.param('username'));
  const query = parseBody(traceQuerySchema, c.req.query());
  const stub = userStub(c.env, username);
  if ((await stub.getAccount()) === undefined) throw notFound(username);
  return c.json({ records: await stub.readTrace(query) });
});

function notFound(username: string): Error {
  return problemException({ status: 404, title: 'User not found', detail: `there is no user "${username}"` });
}
