/**
 * RFC 9457 problem details: every HTTP error of the edge is `application/problem+json` with a
 * title, the status, a detail a person can act on, and, for invalid input, which field is wrong.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** One invalid input: a body member (by JSON Pointer, as in RFC 9457 §3's example) or a path parameter. */
export interface FieldError {
  /** `#/password`: where in the JSON body. */
  readonly pointer?: string;
  /** `username`: which path parameter. */
  readonly parameter?: string;
  readonly detail: string;
}

export interface Problem {
  readonly type?: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly errors?: readonly FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemResponse(problem: Problem, headers: Readonly<Record<string, string>> = {}): Response {
  const body = { type: problem.type ?? 'about:blank', ...problem };
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, ...headers },
  });
}

/** An `HTTPException` whose response is the problem document; thrown by routes and middleware. */
export function problemException(problem: Problem, headers: Readonly<Record<string, string>> = {}): HTTPException {
  return new HTTPException(problem.status as ContentfulStatusCode, { res: problemResponse(problem, headers), message: problem.detail ?? problem.title });
}
