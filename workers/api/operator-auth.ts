/**
 * Operator authentication for `/api/v1`: `Authorization: Bearer <SIPEDGE_OPERATOR_TOKEN>` (RFC 6750).
 * A middleware factory (STYLE.md). The token is compared in constant time, through its SHA-256 so
 * that lengths do not leak either.
 */
import type { MiddlewareHandler } from 'hono';
import { problemException } from './problem.ts';

const encoder = new TextEncoder();

async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(given)),
    crypto.subtle.digest('SHA-256', encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

export function operatorAuth(): MiddlewareHandler<{ Bindings: Env }> {
  return async (c, next) => {
    const expected = c.env.SIPEDGE_OPERATOR_TOKEN;
    if (typeof expected !== 'string' || expected.length === 0) {
      throw problemException({
        status: 503,
        title: 'Operator API not configured',
        detail: 'set the SIPEDGE_OPERATOR_TOKEN secret (wrangler secret put SIPEDGE_OPERATOR_TOKEN) to enable /api/v1',
      });
    }
    const header = c.req.header('Authorization') ?? '';
    const match = /^Bearer[ ]+([^ ]+)$/i.exec(header.trim());
    if (match === null || !(await sameSecret(match[1] ?? '', expected))) {
      throw problemException(
        {
          status: 401,
          title: 'Unauthorized',
          detail: match === null ? 'send the operator token as Authorization: Bearer <token>' : 'the operator token is not valid',
        },
        // RFC 6750 §3: the challenge names the scheme (and the error, when a token was sent).
        { 'WWW-Authenticate': match === null ? 'Bearer realm="sipedge"' : 'Bearer realm="sipedge", error="invalid_token"' },
      );
    }
    await next();
  };
}
