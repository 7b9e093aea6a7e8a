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
 * Everything acts on the caller's domain (its token's): its users are the SipUser objects named
 * `user@domain`, and a user of another domain is not found.
 *
 * The event stream is pushed, not polled: it follows the users at the domain's presence hub
 * (`workers/presence/presence-hub.ts`), which every SipUser tells of its user's changes as they
 * happen (registered or not, a publication from a device or the API, a call starting or ending,
 * the user deleted). It first sends each user's presence read from the user's object (following
 * before reading, so no change falls in between), then each change, dropping repeats; the hub's
 * heartbeat (every 20 s) becomes an SSE comment that keeps proxies from closing an idle stream.
 * The stream ends when the client goes (the hub forgets it) or when the hub restarts (EventSource
 * reconnects and gets a fresh snapshot). At most MAX_STREAM_USERS users per stream.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { createLogger, errorFields } from '../logger.ts';
import { presenceHub, type PresenceChange, type PresenceView } from '../presence/presence-hub.ts';
import type { PresenceSnapshot } from '../presence/presence-host.ts';
import { aorForUser } from '../sip/address-of-record.ts';
import { apiApp, jsonBody, jsonResponse, problems } from './openapi.ts';
import { operatorAuth } from './operator-auth.ts';
import { problemException } from './problem.ts';
import { userNotFound, usernameSchema } from './users.ts';

const MAX_STREAM_USERS = 100;

const log = createLogger({ module: 'api.presence' });

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

function presenceJson<View extends PresenceView>(username: string, view: View): Omit<View, 'until'> & { username: string; until?: string } {
  const { until, ...rest } = view;
  return { username, ...rest, ...(until === undefined ? {} : { until: new Date(until).toISOString() }) };
}

/** The SipUser object of `username` in `domain`. */
function presenceUser(env: Env, domain: string, username: string) {
  return env.SIP_USER.get(env.SIP_USER.idFromName(aorForUser(username, domain)));
}

/** The presence of `username` of `domain` (the caller's), or a 404 problem. Shared with `/me/presence`. */
export async function readPresence(env: Env, username: string, domain: string): Promise<PresenceJson> {
  const snapshot: PresenceSnapshot | undefined = await presenceUser(env, domain, username).readPresence();
  if (snapshot === undefined) throw userNotFound(username);
  return presenceJson(username, snapshot);
}

/** Sets (or, with `expires` 0, removes) the API's presence of `username` of `domain`; its presence after. */
export async function writePresence(env: Env, username: string, input: { status: 'open' | 'closed'; note?: string | undefined; expires: number }, domain: string): Promise<PresenceJson> {
  const stub = presenceUser(env, domain, username);
  if ((await stub.getAccount()) === undefined) throw userNotFound(username);
  await stub.setPresence(input.status, input.note, input.expires);
  return readPresence(env, username, domain);
}

const userParams = z.object({ username: usernameSchema });

const getPresence = createRoute({
  operationId: 'getUserPresence',
  method: 'get',
  path: '/users/{username}/presence',
  summary: "A user's presence, as watchers get it",
  request: { params: userParams },
  responses: { 200: jsonResponse(presenceSchema, 'the presence'), ...problems(400, 404) },
});

const putPresence = createRoute({
  operationId: 'putUserPresence',
  method: 'put',
  path: '/users/{username}/presence',
  summary: "Set a user's presence; watchers get a NOTIFY",
  request: { params: userParams, body: jsonBody(setPresenceSchema) },
  responses: { 200: jsonResponse(presenceSchema, 'the presence now'), ...problems(400, 404, 415) },
});

const deletePresence = createRoute({
  operationId: 'deleteUserPresence',
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
  operationId: 'streamPresenceEvents',
  method: 'get',
  path: '/presence/events',
  summary: 'Server-sent events: the presence of each user at once, then every change',
  request: { query: streamQuery },
  responses: {
    200: {
      description: 'text/event-stream of `presence` events whose data is a Presence (without pidf), one per user at once and then one per change as it happens; `gone` events for deleted users; a `: keep-alive` comment every 20 s',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    ...problems(400, 404),
  },
});

export const presence = apiApp();

for (const path of ['/users/*', '/presence/*']) presence.use(path, operatorAuth());

presence.openapi(getPresence, async (c) => c.json(await readPresence(c.env, c.req.valid('param').username, c.get('principal').domain), 200));

presence.openapi(putPresence, async (c) => c.json(await writePresence(c.env, c.req.valid('param').username, c.req.valid('json'), c.get('principal').domain), 200));

presence.openapi(deletePresence, async (c) => {
  await writePresence(c.env, c.req.valid('param').username, { status: 'closed', expires: 0 }, c.get('principal').domain);
  return c.body(null, 204);
});

presence.openapi(presenceEvents, async (c) => {
  const { users } = c.req.valid('query');
  const domain = c.get('principal').domain;
  // Followed first, read second: a change between the two arrives as a change (or as a repeat, dropped).
  const changes = await presenceHub(c.env, domain).follow(users);
  let first: (PresenceSnapshot | undefined)[];
  try {
    first = await Promise.all(users.map((username) => presenceUser(c.env, domain, username).readPresence()));
  } catch (error) {
    await changes.cancel();
    throw error;
  }
  const missing = users.find((_name, index) => first[index] === undefined);
  if (missing !== undefined) {
    await changes.cancel();
    throw problemException({ status: 404, title: 'User not found', detail: `there is no user "${missing}"` });
  }
  return streamSSE(c, async (stream) => {
    const reader = changes.getReader();
    stream.onAbort(() => reader.cancel().catch(() => undefined));
    const sent = new Map<string, string>();
    const send = async (username: string, view: PresenceView | null): Promise<void> => {
      const data = view === null ? JSON.stringify({ username }) : JSON.stringify(presenceJson(username, view));
      const key = view === null ? '' : data;
      if (sent.get(username) === key) return;
      sent.set(username, key);
      await stream.writeSSE({ event: view === null ? 'gone' : 'presence', data });
    };
    try {
      for (const [index, username] of users.entries()) {
        const { pidf: _pidf, ...view } = first[index]!;
        await send(username, view);
      }
      const decoder = new TextDecoder();
      let pending = '';
      while (!stream.aborted) {
        const { done, value } = await reader.read();
        if (done) break;
        pending += decoder.decode(value, { stream: true });
        let end;
        while ((end = pending.indexOf('\n')) !== -1) {
          const line = pending.slice(0, end);
          pending = pending.slice(end + 1);
          if (line === '') {
            await stream.write(': keep-alive\n\n');
            continue;
          }
          const change = JSON.parse(line) as PresenceChange;
          await send(change.username, change.presence);
        }
      }
    } catch (error) {
      // The hub restarted: the stream ends, and the client follows again.
      if (!stream.aborted) log.warn('presence.stream-ended', errorFields(error));
    }
  });
});
