/**
 * `/api/v1/tokens`: the API tokens of the caller's domain (`api-token.ts`, kept by the domain's
 * Directory as SHA-256 digests).
 *
 *   POST   /tokens      {"name", "username"?, "expiresAt"?, "domain"?}  201 with the token, shown this once
 *   GET    /tokens      the domain's tokens, never their secrets
 *   DELETE /tokens/:id  204: revoked at once
 *
 * A token with a `username` is that user's self-service token (`/api/v1/me/...`); without, an
 * operator token of the domain. Only the SIPEDGE_OPERATOR_TOKEN secret may name another `domain`
 * (`POST /api/v1/domains` creates a domain with its first operator token); a token of a domain the
 * edge does not serve opens nothing (`operator-auth.ts`), and creating the domain revokes it.
 * The secret itself is listed (id
 * `operator-secret`) but is changed with `wrangler secret put`, not revoked here.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { directoryOf } from '../directory/directory.ts';
import type { TokenView } from '../directory/token-store.ts';
import { domainKey } from '../domains/domain-record.ts';
import { newToken, secretDigest } from './api-token.ts';
import { apiApp, jsonBody, jsonResponse, problems } from './openapi.ts';
import { operatorAuth, SECRET_TOKEN_ID } from './operator-auth.ts';
import { problemException } from './problem.ts';
import { userNotFound, userStub, usernameSchema } from './users.ts';

const tokenIdSchema = z.string().regex(/^(?:[A-Za-z0-9_-]{12}|operator-secret)$/, 'must be a token id from GET /api/v1/tokens');

const createTokenSchema = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(64, 'must be at most 64 characters')
      // eslint-disable-next-line no-control-regex
      .regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters')
      .openapi({ description: 'what the token is for', example: 'provisioning script' }),
    username: usernameSchema.optional().openapi({ description: "a user's self-service token (/api/v1/me) instead of an operator token" }),
    expiresAt: z.iso.datetime({ message: 'must be an ISO 8601 date and time with a time zone' }).optional(),
    domain: z
      .string()
      .regex(/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/, 'must be a domain name')
      .max(253, 'must be at most 253 characters')
      .optional()
      .openapi({ description: 'only with the SIPEDGE_OPERATOR_TOKEN secret: a token of another domain (one the edge serves: POST /api/v1/domains)' }),
  })
  .openapi('CreateToken');

const tokenViewSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['operator', 'user']),
    username: z.string().optional(),
    name: z.string(),
    domain: z.string(),
    createdAt: z.string().optional(),
    expiresAt: z.string().optional(),
  })
  .openapi('Token');

const createdTokenSchema = tokenViewSchema.extend({ token: z.string().openapi({ description: 'the bearer token; shown only in this answer' }) }).openapi('CreatedToken');

type TokenJson = z.infer<typeof tokenViewSchema>;

function tokenJson(token: TokenView, domain: string): TokenJson {
  return {
    id: token.id,
    kind: token.kind,
    ...(token.username === undefined ? {} : { username: token.username }),
    name: token.name,
    domain,
    createdAt: new Date(token.createdAt).toISOString(),
    ...(token.expiresAt === undefined ? {} : { expiresAt: new Date(token.expiresAt).toISOString() }),
  };
}

const createToken = createRoute({
  operationId: 'createToken',
  method: 'post',
  path: '/',
  summary: 'Create a token (its secret is in this answer only)',
  request: { body: jsonBody(createTokenSchema) },
  responses: { 201: jsonResponse(createdTokenSchema, 'created'), ...problems(400, 404, 415) },
});

const listTokens = createRoute({
  operationId: 'listTokens',
  method: 'get',
  path: '/',
  summary: "The domain's tokens, without their secrets",
  responses: { 200: jsonResponse(z.object({ tokens: z.array(tokenViewSchema) }).openapi('TokenList'), 'the tokens'), ...problems() },
});

const revokeToken = createRoute({
  operationId: 'revokeToken',
  method: 'delete',
  path: '/{id}',
  summary: 'Revoke a token',
  request: { params: z.object({ id: tokenIdSchema }) },
  responses: { 204: { description: 'revoked' }, ...problems(400, 404, 409) },
});

export const tokens = apiApp();

tokens.use('*', operatorAuth());

tokens.openapi(createToken, async (c) => {
  const principal = c.get('principal');
  const input = c.req.valid('json');
  const domain = input.domain === undefined || domainKey(input.domain) === domainKey(principal.domain) ? principal.domain : domainKey(input.domain);
  if (domain !== principal.domain && !principal.installation) {
    throw problemException({ status: 403, title: 'Forbidden', detail: `a token of "${principal.domain}" creates tokens of that domain only; the SIPEDGE_OPERATOR_TOKEN secret creates tokens of any domain` });
  }
  const now = Date.now();
  const expiresAt = input.expiresAt === undefined ? undefined : Date.parse(input.expiresAt);
  if (expiresAt !== undefined && expiresAt <= now) {
    throw problemException({ status: 400, title: 'Invalid request', detail: 'expiresAt: must be in the future', errors: [{ pointer: '#/expiresAt', detail: 'must be in the future' }] });
  }
  if (input.username !== undefined && (await userStub(c.env, input.username, domain).getAccount()) === undefined) {
    throw userNotFound(input.username);
  }
  const created = newToken(domain);
  const view: TokenView = {
    id: created.id,
    kind: input.username === undefined ? 'operator' : 'user',
    ...(input.username === undefined ? {} : { username: input.username }),
    name: input.name,
    createdAt: now,
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
  await directoryOf(c.env, domain).createToken(view, await secretDigest(created.secret));
  return c.json({ ...tokenJson(view, domain), token: created.token }, 201);
});

tokens.openapi(listTokens, async (c) => {
  const { domain } = c.get('principal');
  const stored = (await directoryOf(c.env, domain).listTokens()).map((token) => tokenJson(token, domain));
  const secret: TokenJson[] = domainKey(domain) === domainKey(c.env.SIPEDGE_DOMAIN) ? [{ id: SECRET_TOKEN_ID, kind: 'operator', name: 'SIPEDGE_OPERATOR_TOKEN', domain }] : [];
  return c.json({ tokens: [...secret, ...stored] }, 200);
});

tokens.openapi(revokeToken, async (c) => {
  const { id } = c.req.valid('param');
  if (id === SECRET_TOKEN_ID) {
    throw problemException({ status: 409, title: 'Not revocable here', detail: 'the SIPEDGE_OPERATOR_TOKEN secret is changed with `wrangler secret put SIPEDGE_OPERATOR_TOKEN`' });
  }
  const { domain } = c.get('principal');
  if (!(await directoryOf(c.env, domain).revokeToken(id))) {
    throw problemException({ status: 404, title: 'Token not found', detail: `there is no token "${id}" in the domain "${domain}"` });
  }
  return c.body(null, 204);
});
