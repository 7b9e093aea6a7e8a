/**
 * Who is calling `/api/v1`: `Authorization: Bearer <token>` (RFC 6750), one of
 * - the SIPEDGE_OPERATOR_TOKEN secret: the installation token, for the edge's own domain
 *   (SIPEDGE_DOMAIN); the only one that may create and delete domains and create tokens of other
 *   domains;
 * - an operator token of one domain, created through `POST /api/v1/tokens` or with the domain
 *   (`POST /api/v1/domains`) (`api-token.ts`);
 * - a user token, created by an operator for one user: it opens `/api/v1/me/...` only.
 * Middleware factories (STYLE.md): `authenticate` names the caller, the others say who may pass.
 * The secret is compared in constant time, through its SHA-256 so that lengths do not leak either;
 * created tokens are checked by their domain's Directory (`workers/directory/token-store.ts`).
 *
 * Every route acts on the caller's domain (`callerDomain`): a domain's token sees its own users,
 * links, routes, tokens and calls and nothing of any other domain's. A token of a domain the edge
 * no longer serves (deleted through `DELETE /api/v1/domains/{name}`) opens nothing.
 */
import type { MiddlewareHandler } from 'hono';
import { directoryOf } from '../directory/directory.ts';
import { domainKey } from '../domains/domain-record.ts';
import { servedDomain } from '../domains/served-domains.ts';
import { parseToken, secretDigest } from './api-token.ts';
import { problemException } from './problem.ts';

export interface Principal {
  readonly kind: 'operator' | 'user';
  readonly domain: string;
  /** The token's id; `operator-secret` for the SIPEDGE_OPERATOR_TOKEN secret. */
  readonly tokenId: string;
  /** For a user token: whose. */
  readonly username?: string;
  /** The SIPEDGE_OPERATOR_TOKEN secret: may create tokens for any domain. */
  readonly installation: boolean;
}

export const SECRET_TOKEN_ID = 'operator-secret';

type AuthEnv = { Bindings: Env; Variables: { principal: Principal } };

const encoder = new TextEncoder();

async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(given)),
    crypto.subtle.digest('SHA-256', encoder.encode(expected)),
  ]);
  return crypto.subtle.timingSafeEqual(a, b);
}

function unauthorized(detail: string, tokenSent: boolean): Error {
  return problemException(
    { status: 401, title: 'Unauthorized', detail },
    // RFC 6750 §3: the challenge names the scheme (and the error, when a token was sent).
    { 'WWW-Authenticate': tokenSent ? 'Bearer realm="sipedge", error="invalid_token"' : 'Bearer realm="sipedge"' },
  );
}

function forbidden(detail: string): Error {
  return problemException({ status: 403, title: 'Forbidden', detail });
}

async function principalOf(header: string, env: Env): Promise<Principal> {
  const match = /^Bearer[ ]+([^ ]+)$/i.exec(header.trim());
  if (match === null) throw unauthorized('send a token as Authorization: Bearer <token>', false);
  const token = match[1] ?? '';
  const parts = parseToken(token);
  if (parts !== undefined) {
    const found = await directoryOf(env, parts.domain).verifyToken(parts.id, await secretDigest(parts.secret));
    if (found === null) throw unauthorized('the token is not valid: revoked, expired or mistyped', true);
    return { kind: found.kind, domain: parts.domain, tokenId: found.id, installation: false, ...(found.username === undefined ? {} : { username: found.username }) };
  }
  const secret = env.SIPEDGE_OPERATOR_TOKEN;
  if (typeof secret !== 'string' || secret.length === 0) {
    throw problemException({
      status: 503,
      title: 'Operator API not configured',
      detail: 'set the SIPEDGE_OPERATOR_TOKEN secret (wrangler secret put SIPEDGE_OPERATOR_TOKEN) to enable /api/v1',
    });
  }
  if (!(await sameSecret(token, secret))) throw unauthorized('the operator token is not valid', true);
  return { kind: 'operator', domain: env.SIPEDGE_DOMAIN, tokenId: SECRET_TOKEN_ID, installation: true };
}

async function ensurePrincipal(c: { get(key: 'principal'): Principal | undefined; set(key: 'principal', value: Principal): void; req: { header(name: string): string | undefined }; env: Env }): Promise<Principal> {
  const known = c.get('principal');
  if (known !== undefined) return known;
  const principal = await principalOf(c.req.header('Authorization') ?? '', c.env);
  c.set('principal', principal);
  return principal;
}

/** Any valid token passes; the caller is `c.var.principal` from then on. */
export function authenticate(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    await ensurePrincipal(c);
    await next();
  };
}

/** The domain the caller acts on: its token's. */
export function callerDomain(c: { get(key: 'principal'): Principal }): string {
  return c.get('principal').domain;
}

/** Refuses a token whose domain the edge no longer serves; SIPEDGE_DOMAIN always is. */
async function checkServed(env: Env, principal: Principal): Promise<void> {
  const key = domainKey(principal.domain);
  if (principal.installation || key === domainKey(env.SIPEDGE_DOMAIN)) return;
  const record = await servedDomain(env, key);
  if (record?.name !== key) throw forbidden(`domain no longer served: the token is for "${principal.domain}", which this edge does not serve (deleted, or never created through POST /api/v1/domains)`);
}

/** An operator token of a served domain passes; what it reads and writes is that domain's (`callerDomain`). */
export function operatorAuth(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const principal = await ensurePrincipal(c);
    if (principal.kind !== 'operator') throw forbidden('a user token opens /api/v1/me only; this needs an operator token');
    await checkServed(c.env, principal);
    await next();
  };
}

/** Refuses any token but the SIPEDGE_OPERATOR_TOKEN secret, for what changes the edge as a whole (creating or deleting a domain). */
export function requireInstallation(principal: Principal, what: string): void {
  if (!principal.installation) {
    throw forbidden(`${what} needs the installation token (the SIPEDGE_OPERATOR_TOKEN secret); a token of "${principal.domain}" manages that domain only`);
  }
}

/** `requireInstallation` as route middleware, so that the refusal comes before the input is read. */
export function installationAuth(what: string): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    requireInstallation(await ensurePrincipal(c), what);
    await next();
  };
}

/** A user token of a served domain passes: `/api/v1/me/...`, the user's own resources. */
export function userAuth(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const principal = await ensurePrincipal(c);
    if (principal.kind !== 'user' || principal.username === undefined) {
      throw forbidden('/api/v1/me is for user tokens; an operator reads a user at /api/v1/users/{username}');
    }
    await checkServed(c.env, principal);
    await next();
  };
}
