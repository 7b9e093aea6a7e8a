/**
 * `/api/v1/calls`: the caller's domain's call detail records (the Directory's `call-records.ts`), for
 * operators; a user token reads its own through `/me/calls` (`me.ts`).
 *
 *   GET /calls?limit=&cursor=&user=&live=true  calls, newest first, paged; `user` keeps the calls a
 *                                              user took part in, `live=true` the ones not ended
 *   GET /calls/:id                             one call, with its media node's quality samples
 *
 * A call's record has its start, answer and end, caller and callee, its direction (local, or
 * outbound or inbound through a PBX link), the final status and reason, who hung up and why, and,
 * for a call whose media a media node carried, the node's figures per direction (the list shows
 * the summary, one call the samples too). A call between two browsers has no media node: its
 * record is signalling only. A live call has no end yet.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { CallListQuery, CallRecord } from '../directory/call-records.ts';
import { directoryOf } from '../directory/directory.ts';
import { base64url, fromBase64url } from './api-token.ts';
import { apiApp, jsonResponse, problems } from './openapi.ts';
import { callerDomain, operatorAuth } from './operator-auth.ts';
import { problemException } from './problem.ts';
import { usernameSchema } from './users.ts';

export const callListQuerySchema = z.strictObject({
  limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, 'must be the cursor of a previous page')
    .optional()
    .openapi({ description: 'the `next` of the previous page' }),
  live: z.enum(['true', 'false'], "must be 'true' or 'false'").optional().openapi({ description: 'true: only calls under way' }),
});

const operatorListQuerySchema = callListQuerySchema.extend({ user: usernameSchema.optional().openapi({ description: 'only the calls this user took part in' }) });

const directionSummarySchema = z
  .object({ packets: z.number(), lost: z.number(), lossPercent: z.number(), jitterMs: z.number(), roundTripMs: z.number().nullable(), mos: z.number() })
  .nullable();

const sampleSchema = z.object({
  t: z.number().openapi({ description: 'seconds since media began, at the end of the interval' }),
  packets: z.number(),
  lost: z.number(),
  lossPercent: z.number(),
  jitterMs: z.number(),
  roundTripMs: z.number().nullable(),
  mos: z.number().nullable().openapi({ description: 'null for an interval without media' }),
});

const mediaSchema = z.object({
  nodeId: z.string(),
  sessionId: z.string(),
  reason: z.string().openapi({ description: "how the media session ended (`closed`: the edge's own end)" }),
  endedAt: z.string(),
  codecs: z.object({ browser: z.string().nullable(), pbx: z.string().nullable() }).optional(),
  summary: z.object({ browserToPbx: directionSummarySchema, pbxToBrowser: directionSummarySchema }),
  samples: z.object({ intervalMs: z.number(), browserToPbx: z.array(sampleSchema), pbxToBrowser: z.array(sampleSchema) }).optional(),
});

export const callViewSchema = z
  .object({
    id: z.string(),
    startedAt: z.string(),
    answeredAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    live: z.boolean(),
    durationSeconds: z.number().nullable().openapi({ description: 'from the answer to the end (or to now while live); null when never answered' }),
    caller: z.string(),
    callee: z.string(),
    direction: z.enum(['local', 'outbound', 'inbound']),
    link: z.string().nullable().openapi({ description: 'the PBX link of an outbound or inbound call' }),
    user: z.string().nullable().openapi({ description: "the user whose SIP trace holds the call's leg `sipCallId`" }),
    sipCallId: z.string().nullable(),
    status: z.int().nullable().openapi({ description: "the final response to the caller's INVITE" }),
    reason: z.string().nullable(),
    endedBy: z.enum(['caller', 'callee', 'edge']).nullable(),
    endReason: z.string().nullable(),
    media: mediaSchema.nullable().openapi({ description: 'the media node and its quality figures; null when no media node carried the call' }),
  })
  .openapi('Call');

export const callListSchema = z.object({
  calls: z.array(callViewSchema),
  next: z.string().optional().openapi({ description: 'the cursor of the next page; absent on the last page' }),
});

const listCalls = createRoute({
  operationId: 'listCalls',
  method: 'get',
  path: '/',
  summary: 'List calls, live and recent, newest first',
  request: { query: operatorListQuerySchema },
  responses: { 200: jsonResponse(callListSchema, 'a page of calls (media summaries without samples)'), ...problems(400) },
});

const getCall = createRoute({
  operationId: 'getCall',
  method: 'get',
  path: '/{id}',
  summary: "Show a call, with its media's quality samples",
  request: { params: z.object({ id: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, 'must be a call id') }) },
  responses: { 200: jsonResponse(callViewSchema, 'the call'), ...problems(400, 404) },
});

export const calls = apiApp();

calls.use('*', operatorAuth());

calls.openapi(listCalls, async (c) => {
  const { user, ...query } = c.req.valid('query');
  return c.json(await readCalls(c.env, callerDomain(c), query, user), 200);
});

calls.openapi(getCall, async (c) => {
  const { id } = c.req.valid('param');
  const record = await directoryOf(c.env, callerDomain(c)).getCall(id);
  if (record === null) throw problemException({ status: 404, title: 'Not Found', detail: `no call ${id}` });
  return c.json(callView(record, true), 200);
});

/** A page of `domain`'s calls, of `user` if given. */
export async function readCalls(env: Env, domain: string, query: z.infer<typeof callListQuerySchema>, user: string | undefined): Promise<z.infer<typeof callListSchema>> {
  const before = query.cursor === undefined ? undefined : cursorOf(query.cursor);
  const request: CallListQuery = { limit: query.limit, ...(before === undefined ? {} : { before }), ...(user === undefined ? {} : { user }), live: query.live === 'true' };
  const page = await directoryOf(env, domain).listCalls(request);
  const calls = page.calls.map((record) => callView(record, false));
  return page.last === undefined ? { calls } : { calls, next: base64url(new TextEncoder().encode(`${page.last.startedAt}.${page.last.id}`)) };
}

/** One call of `user`'s of `domain`, or a 404 (another user's call is not found, not forbidden). */
export async function readCallOf(env: Env, domain: string, id: string, user: string): Promise<z.infer<typeof callViewSchema>> {
  const record = await directoryOf(env, domain).getCall(id);
  if (record === null || (record.user !== user && record.peerUser !== user)) throw problemException({ status: 404, title: 'Not Found', detail: `no call ${id}` });
  return callView(record, true);
}

function cursorOf(cursor: string): { readonly startedAt: number; readonly id: string } {
  const bytes = fromBase64url(cursor);
  const match = bytes === undefined ? null : /^(\d{1,16})\.([A-Za-z0-9._~-]{1,128})$/.exec(new TextDecoder().decode(bytes));
  if (match === null) {
    throw problemException({ status: 400, title: 'Invalid request', detail: 'cursor: must be the cursor of a previous page', errors: [{ parameter: 'cursor', detail: 'must be the cursor of a previous page' }] });
  }
  return { startedAt: Number(match[1]), id: match[2] as string };
}

function callView(record: CallRecord, withSamples: boolean): z.infer<typeof callViewSchema> {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  const until = record.endedAt ?? Date.now();
  let media: z.infer<typeof mediaSchema> | null = null;
  if (record.media !== null) {
    const { samples, ...rest } = record.media;
    media = withSamples && samples !== undefined ? { ...rest, samples: { ...samples, browserToPbx: [...samples.browserToPbx], pbxToBrowser: [...samples.pbxToBrowser] } } : rest;
  }
  return {
    id: record.id,
    startedAt: iso(record.startedAt) as string,
    answeredAt: iso(record.answeredAt),
    endedAt: iso(record.endedAt),
    live: record.endedAt === null,
    durationSeconds: record.answeredAt === null ? null : Math.max(0, Math.round((until - record.answeredAt) / 100) / 10),
    caller: record.caller,
    callee: record.callee,
    direction: record.direction,
    link: record.linkId,
    user: record.user,
    sipCallId: record.sipCallId,
    status: record.status,
    reason: record.reason,
    endedBy: record.endedBy,
    endReason: record.endReason,
    media,
  };
}
