/**
 * The session resource of the control API, with the zod schemas of its bodies:
 *
 *   POST   /v1/sessions               { id, browserOffer }           -> 201 { id, offeredBy: 'browser', browserAnswer, pbxOffer }
 *                                     { id, pbxOffer }               -> 201 { id, offeredBy: 'pbx', pbxAnswer, browserOffer }
 *                                     { id, browserOffer, pbxOffer } -> 201 { id, offeredBy: 'both', browserAnswer, pbxAnswer }
 *                                     { id }                         -> 201 { id, offeredBy: 'node', browserOffer, pbxOffer }
 *                                     (the same request again -> 200, the same body)
 *   POST   /v1/sessions/:id/answer    { pbxAnswer } | { browserAnswer } -> 200 session view
 *   PATCH  /v1/sessions/:id           { directions: { browser?, pbx? } } -> 200 session view
 *                                     { browserOffer } -> 200 session view + browserAnswer (re-INVITE)
 *                                     { pbxOffer }     -> 200 session view + pbxAnswer     (re-INVITE)
 *   POST   /v1/sessions/:id/dtmf      { digit, durationMs? } -> 202 { id, digit, durationMs, pending } (RFC 4733 toward the PBX)
 *   GET    /v1/sessions/:id           -> 200 session view (state, stats, and the end once ended)
 *   DELETE /v1/sessions/:id           -> 200 the end report (again on a retry)
 *   GET    /v1/sessions               -> 200 { sessions: [{ id, state }] }
 */
import { z } from 'zod';
import { ControlError } from './control-error.ts';
import type { SessionRegistry } from './session-registry.ts';

export interface RouteRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface Reply {
  readonly status: number;
  readonly body: unknown;
}

export interface Route {
  readonly method: string;
  /** Named groups become `params`. */
  readonly pattern: RegExp;
  handle(request: RouteRequest): Promise<Reply>;
}

const SESSION_ID = /^[A-Za-z0-9._~-]{1,128}$/;
const sessionId = z.string().regex(SESSION_ID, { message: 'must be 1-128 letters, digits, or . _ ~ -' });
const sdp = z.string().min(1).max(64 * 1024);
const direction = z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

const createBody = z.strictObject({
  id: sessionId,
  browserOffer: sdp.optional(),
  pbxOffer: sdp.optional(),
  pbxSrtp: z.literal('sdes').optional(),
  mediaTimeoutMs: z.number().int().min(1000).max(3_600_000).optional(),
});

const answerBody = z
  .strictObject({ pbxAnswer: sdp.optional(), browserAnswer: sdp.optional() })
  .refine((body) => (body.pbxAnswer === undefined) !== (body.browserAnswer === undefined), { message: 'give exactly one of pbxAnswer and browserAnswer', path: ['pbxAnswer'] });

const dtmfBody = z.strictObject({
  digit: z.string().regex(/^[0-9*#A-Da-d]$/, { message: 'must be one of 0-9 * # A-D' }),
  durationMs: z.number().int().min(40).max(8000).optional(),
});

/** RFC 4733 §2.5.1.1 suggests senders last at least 40 ms; 100 ms is what a SIP INFO without a duration gets. */
const DEFAULT_DTMF_MS = 100;

const updateBody = z
  .strictObject({
    directions: z.strictObject({ browser: direction.optional(), pbx: direction.optional() }).optional(),
    browserOffer: sdp.optional(),
    pbxOffer: sdp.optional(),
  })
  .refine((body) => [body.directions, body.browserOffer, body.pbxOffer].filter((part) => part !== undefined).length === 1, {
    message: 'give exactly one of directions, browserOffer and pbxOffer',
    path: ['directions'],
  });

export function sessionRoutes(registry: SessionRegistry): Route[] {
  return [
    {
      method: 'POST',
      pattern: /^\/v1\/sessions$/,
      handle: async ({ body }) => {
        const input = parseBody(createBody, body);
        const request = {
          id: input.id,
          ...(input.browserOffer === undefined ? {} : { browserOffer: input.browserOffer }),
          ...(input.pbxOffer === undefined ? {} : { pbxOffer: input.pbxOffer }),
          ...(input.pbxSrtp === undefined ? {} : { pbxSrtp: input.pbxSrtp }),
          ...(input.mediaTimeoutMs === undefined ? {} : { mediaTimeoutMs: input.mediaTimeoutMs }),
        };
        const { created, replayed } = await registry.create(request);
        return { status: replayed ? 200 : 201, body: created };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/sessions$/,
      handle: async () => ({ status: 200, body: { sessions: registry.list() } }),
    },
    {
      method: 'POST',
      pattern: /^\/v1\/sessions\/(?<id>[^/]+)\/answer$/,
      handle: async ({ params, body }) => {
        const id = parseId(params);
        const input = parseBody(answerBody, body);
        const view = await registry.answer(id, input.pbxAnswer !== undefined ? { pbxAnswer: input.pbxAnswer } : { browserAnswer: input.browserAnswer as string });
        return { status: 200, body: view };
      },
    },
    {
      method: 'POST',
      pattern: /^\/v1\/sessions\/(?<id>[^/]+)\/dtmf$/,
      handle: async ({ params, body }) => {
        const id = parseId(params);
        const input = parseBody(dtmfBody, body);
        return { status: 202, body: await registry.dtmf(id, input.digit.toUpperCase(), input.durationMs ?? DEFAULT_DTMF_MS) };
      },
    },
    {
      method: 'PATCH',
      pattern: /^\/v1\/sessions\/(?<id>[^/]+)$/,
      handle: async ({ params, body }) => {
        const id = parseId(params);
        const input = parseBody(updateBody, body);
        if (input.browserOffer !== undefined) return { status: 200, body: await registry.offer(id, { browserOffer: input.browserOffer }) };
        if (input.pbxOffer !== undefined) return { status: 200, body: await registry.offer(id, { pbxOffer: input.pbxOffer }) };
        return { status: 200, body: await registry.setDirections(id, input.directions ?? {}) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v1\/sessions\/(?<id>[^/]+)$/,
      handle: async ({ params }) => ({ status: 200, body: registry.view(parseId(params)) }),
    },
    {
      method: 'DELETE',
      pattern: /^\/v1\/sessions\/(?<id>[^/]+)$/,
      handle: async ({ params }) => ({ status: 200, body: await registry.delete(parseId(params)) }),
    },
  ];
}

function parseId(params: Readonly<Record<string, string>>): string {
  const id = params['id'] ?? '';
  // An id that cannot exist is simply not found: the edge only ever uses well-formed ones.
  if (!SESSION_ID.test(id)) throw new ControlError(404, 'not-found', 'Not found', 'no session with that id');
  return id;
}

/** Parses `value` or throws a 400 problem naming each invalid field (as JSON Pointers). */
export function parseBody<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  if (value === undefined) throw new ControlError(400, 'invalid-request', 'Invalid request', 'this request needs a JSON body');
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = result.error.issues.flatMap((issue) => {
    const base = issue.path.map((part) => String(part).replace(/~/g, '~0').replace(/\//g, '~1'));
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ pointer: `#/${[...base, key].join('/')}`, detail: 'is not a known field' }));
    return [{ pointer: `#/${base.join('/')}`, detail: issue.message }];
  });
  const detail = errors.map((error) => `${error.pointer.slice(2) || '(body)'}: ${error.detail}`).join('; ');
  throw new ControlError(400, 'invalid-request', 'Invalid request', detail, { errors });
}
