/**
 * What every `/api/v1` sub-app is built from: an `OpenAPIHono` whose routes are declared with
 * `createRoute` (zod schemas for parameters, bodies and responses) so that the OpenAPI 3.1 document
 * (`GET /api/v1/openapi.json`) is generated from the very schemas that validate requests. A failed
 * validation becomes the RFC 9457 problem of `validation.ts`, naming each field.
 */
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Hook } from '@hono/zod-openapi';
import type { AuthFailureReason } from '../../shared/signing/index.ts';
import type { Principal } from './operator-auth.ts';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';
import { invalidInput } from './validation.ts';

/** Why a media node's signed request was refused (`shared/signing/`), as its 401 problem says. */
const SIGNATURE_REFUSALS = ['unsigned', 'malformed', 'stale', 'bad-signature', 'replayed'] as const satisfies readonly AuthFailureReason[];

export type ApiEnv = { Bindings: Env; Variables: { principal: Principal } };

/** zod-validator's outcome, as the hook receives it: the target tells a body member from a parameter. */
const problemHook: Hook<unknown, ApiEnv, string, undefined> = (result) => {
  if (result.success) return undefined;
  throw invalidInput(result.error, result.target === 'json' ? 'body' : 'parameter');
};

/** A sub-app of the API. */
export function apiApp(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({ defaultHook: problemHook });
}

export const problemSchema = z
  .object({
    type: z.string().openapi({ example: 'about:blank' }),
    title: z.string(),
    status: z.int(),
    detail: z.string().optional(),
    errors: z
      .array(
        z.object({
          pointer: z.string().optional().openapi({ description: 'the body member, as a JSON Pointer fragment (`#/password`)' }),
          parameter: z.string().optional().openapi({ description: 'the path or query parameter' }),
          detail: z.string(),
        }),
      )
      .optional(),
    reason: z
      .enum(SIGNATURE_REFUSALS)
      .optional()
      .openapi({ description: "an extension member of a media node's refused signature (401 on /media-nodes/heartbeat and /media-nodes/session-ended): which check failed, in the node's own words" }),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details' });

const PROBLEM_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'invalid input: `errors` names each field',
  401: 'no token, or not a valid one',
  403: 'the token may not do this',
  404: 'no such resource',
  409: 'conflicts with what exists',
  410: 'used or revoked',
  413: 'too large',
  415: 'wrong content type',
  422: 'valid, but not something sipedge does',
  500: 'the edge failed',
};

type ProblemResponses = Record<number, { description: string; content: { [PROBLEM_CONTENT_TYPE]: { schema: typeof problemSchema } } }>;

/** Problem responses for a route: 401 and 403 always (every route needs a token), plus `statuses`. */
export function problems(...statuses: readonly number[]): ProblemResponses {
  const responses: ProblemResponses = {};
  for (const status of [401, 403, ...statuses]) {
    responses[status] = { description: PROBLEM_DESCRIPTIONS[status] ?? 'a problem', content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } } };
  }
  return responses;
}

/** A JSON body, required. */
export function jsonBody<S extends z.ZodType>(schema: S, description?: string) {
  return { required: true, content: { 'application/json': { schema } }, ...(description === undefined ? {} : { description }) } as const;
}

/** A JSON response. */
export function jsonResponse<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { 'application/json': { schema } } } as const;
}
