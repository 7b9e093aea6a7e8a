/**
 * Presence through the API: read a user's presence as SIP watchers get it, set it (a publication
 * composed and notified like a device's PUBLISH, `workers/presence/presence-host.ts`), and follow
 * the presence of a set of users as server-sent events (busy-lamp panels, dashboards).
 *
 *   GET    /users/:username/presence   the presence: basic status, where it comes from, registered, on a call, the PIDF
 *   PUT    /users/:username/presence   {"status": "open"|"closed", "note"?, "expires"?}  watchers get a NOTIFY
 *   DELETE /users/:username/presence   204: back to what devices publish, or to registration
 *   GET    /presence/events?users=a,b  text/event-stream: a `presence` event per user at once, then one per change
 *
 * The event stream polls the users' objects every POLL_MS (one RPC per user per poll) and sends
 * only changes: a change shows within that time. At most MAX_STREAM_USERS users per stream.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { PresenceSnapshot } from '../presence/presence-host.ts';
import { apiApp, jsonBody, jsonResponse, problems } from './openapi.ts';
import { operatorAuth } from './operator-auth.ts';
import { problemException } from './problem.ts';
import { userNotFound, userStub, usernameSchema } from './users.ts';

const POLL_MS = 2_000;
const MAX_STREAM_USERS = 100;

export const presenceSchema = z
  .object({
    username: z.string(),
    basic: z.enum(['open', 'closed']).openapi({ description: 'the PIDF basic status watchers get' }),
    source: z.enum(['device', 'api', 'registration']).openapi({ description: "a device's PUBLISH, the API, or registration (open while a device is registered)" }),
    registered: z.boolean(),
    onCall: z.boolean(),
    pidf: z.string().openapi({ description: 'the PIDF document (RFC 3863) NOTIFYs carry' }),
    until: z.string().optional().openapi({ description: 'when the publication in force expires' }),
  })
  .openapi('Presence');

export const setPresenceSchema = z
  .strictObject({
    status: z.enum(['open', 'closed'], 'must be open or closed'),
    // eslint-disable-next-line no-control-regex
    note: z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters').regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters').optional(),
    expires: z.int('must be a whole number of seconds').min(60, 'must be at least 60').max(86_400, 'must be at most 86400').default(3600),
  })
  .openapi('SetPresence');

type PresenceJson = z.infer<typeof presenceSchema>;

function presenceJson(username: string, snapshot: PresenceSnapshot): PresenceJson {
  const { until, ...rest } = snapshot;
  return { username, ...rest, ...(until === undefined ? {} : { until: new Date(until).toISOString() }) };
}

/** The presence of `username`, or a 404 problem. Shared with `/me/presence`. */
export async function readPresence(env: Env, username: string): Promise<PresenceJson> {
  const snapshot = await userStub(env, username).readPresence();
  if (snapshot === undefined) throw userNotFound(username);
  return presenceJson(username, snapshot);
}

/** Sets (or, with `expires` 0, removes) the API's presence of `username`; its presence after. */
export async function writePresence(env: Env, username: string, input: { status: 'open' | 'closed'; note?: string | undefined; expires: number }): Promise<PresenceJson> {
  const stub = userStub(env, username);
  if ((await stub.getAccount()) === undefined) throw userNotFound(username);
  await stub.setPresence(input.status, input.note, input.expires);
  return readPresence(env, username);
}

const userParams = z.object({ username: usernameSchema });

const getPresence = createRoute({
  method: 'get',
  path: '/users/{username}/presence',
  summary: "A user's presence, as watchers get it",
  request: { params: userParams },
  responses: { 200: jsonResponse(presenceSchema, 'the presence'), ...problems(400, 404) },
});

const putPresence = createRoute({
  method: 'put',
  path: '/users/{username}/presence',
  summary: "Set a user's presence; watchers get a NOTIFY",
  request: { params: userParams, body: jsonBody(setPresenceSchema) },
  responses: { 200: jsonResponse(presenceSchema, 'the presence now'), ...problems(400, 404, 415) },
});

const deletePresence = createRoute({
  method: 'delete',
  path: '/users/{username}/presence',
  summary: 'Remove the presence set through the API',
  request: { params: userParams },
  responses: { 204: { description: 'removed' }, ...problems(400, 404) },
});

const streamQuery = z.strictObject({
  users: z
    .string()
    .transform((text, context) => {
      const names = [...new Set(text.split(',').map((name) => name.trim()).filter((name) => name !== ''))];
      if (names.length === 0 || names.length > MAX_STREAM_USERS) {
        context.addIssue({ code: 'custom', message: `must name 1-${MAX_STREAM_USERS} users, separated by commas` });
        return z.NEVER;
      }
      for (const name of names) {
        if (!usernameSchema.safeParse(name).success) {
          context.addIssue({ code: 'custom', message: `"${name}" is not a username` });
          return z.NEVER;
        }
      }
      return names;
    })
    .openapi({ description: 'usernames, separated by commas', example: 'alice,bob' }),
});

const presenceEvents = createRoute({
  method: 'get',
  path: '/presence/events',
  summary: 'Server-sent events: the presence of each user at once, then every change',
  request: { query: streamQuery },
  responses: {
    200: {
      description: 'text/event-stream of `presence` events whose data is a Presence (without pidf); `gone` events for deleted users',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    ...problems(400, 404),
  },
});

export const presence = apiApp();

for (const path of ['/users/*', '/presence/*']) presence.use(path, operatorAuth());

presence.openapi(getPresence, async (c) => c.json(await readPresence(c.env, c.req.valid('param').username), 200));

presence.openapi(putPresence, async (c) => c.json(await writePresence(c.env, c.req.valid('param').username, c.req.valid('json')), 200));

presence.openapi(deletePresence, async (c) => {
  await writePresence(c.env, c.req.valid('param').username, { status: 'closed', expires: 0 });
  return c.body(null, 204);
});

presence.openapi(presenceEvents, async (c) => {
  const { users } = c.req.valid('query');
  const read = async (username: string): Promise<string | undefined> => {
    const snapshot = await userStub(c.env, username).readPresence();
    if (snapshot === undefined) return undefined;
    const { pidf: _pidf, ...rest } = presenceJson(username, snapshot);
    return JSON.stringify(rest);
  };
  const first = await Promise.all(users.map(read));
  const missing = users.find((_name, index) => first[index] === undefined);
  if (missing !== undefined) throw problemException({ status: 404, title: 'User not found', detail: `there is no user "${missing}"` });
  return streamSSE(c, async (stream) => {
    const last = new Map<string, string | undefined>();
    let current = first;
    while (!stream.aborted) {
      for (const [index, username] of users.entries()) {
        const data = current[index];
        if (last.has(username) && last.get(username) === data) continue;
        last.set(username, data);
        await stream.writeSSE(data === undefined ? { event: 'gone', data: JSON.stringify({ username }) } : { event: 'presence', data });
      }
      await stream.sleep(POLL_MS);
      if (stream.aborted) break;
      current = await Promise.all(users.map(read));
    }
  });
});
