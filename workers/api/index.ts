/**
 * `/api/v1`: the operator API. Every route needs a token (`operator-auth.ts`), except the media
 * nodes' signed requests (`media-nodes.ts`); every error is an RFC 9457 problem document. Resources
 * are sub-apps, one per file, declared with zod schemas from which `GET /api/v1/openapi.json` (the
 * OpenAPI 3.1 document) is generated.
 *
 * Every route acts on the domain of the caller's token (`operator-auth.ts`): the installation token
 * (the SIPEDGE_OPERATOR_TOKEN secret) on SIPEDGE_DOMAIN, a domain's token on that domain; `/domains`
 * (`domains.ts`) lists and manages the domains themselves.
 *
 * Order matters: Hono runs middleware and handlers in the order they are registered, and a handler
 * that answers ends the chain. So the media nodes come before any token check, `/me` (user tokens)
 * before the check that everything after it needs an operator token of a served domain.
 */
import type { ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { VERSION } from '../../shared/version.ts';
import { createLogger, errorFields } from '../logger.ts';
import { calls } from './calls.ts';
import { domains } from './domains.ts';
import { me } from './me.ts';
import { mediaNodes, SIGNATURE_SCHEME } from './media-nodes.ts';
import { apiApp, problems } from './openapi.ts';
import { authenticate, operatorAuth } from './operator-auth.ts';
import { pbxLinks } from './pbx-links.ts';
import { routing } from '../routing/routing-api.ts';
import { presence } from './presence.ts';
import { PROBLEM_CONTENT_TYPE, problemResponse } from './problem.ts';
import { provisioning } from './provisioning.ts';
import { tokens } from './tokens.ts';
import { userLatency } from './user-latency.ts';
import { usersImport } from './users-import.ts';
import { users } from './users.ts';

const log = createLogger({ component: 'api' });

export const api = apiApp();

// Before any token: media nodes sign their requests instead (its GET listing checks the token itself).
api.route('/media-nodes', mediaNodes);
api.use('*', authenticate());
api.get('/openapi.json', (c) => c.json(openApiDocument()));
api.route('/me', me);
api.use('*', operatorAuth());
api.route('/tokens', tokens);
api.route('/domains', domains);
api.route('/users/import', usersImport);
api.route('/users', users);
api.route('/', userLatency); // /users/{username}/latency
api.route('/pbx-links', pbxLinks);
api.route('/calls', calls);
api.route('/', provisioning); // /users/{username}/provisioning, /provisioning-settings
api.route('/', presence); // /users/{username}/presence, /presence/events
api.route('/', routing); // /routes, /inbound-mappings, /routing-settings

api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
  type: 'http',
  scheme: 'bearer',
  description: 'an operator token: the installation token (SIPEDGE_OPERATOR_TOKEN) or a domain token (POST /api/v1/domains, POST /api/v1/tokens); or a user token for /me',
});

/**
 * The OpenAPI 3.1 document of every route declared with `createRoute`, paths relative to /api/v1.
 * Every route needs a token, so every operation gets the 401 and 403 problems here, whether its
 * declaration lists them or not; the media nodes' signed routes (their own security scheme) hold
 * no token to be refused with 403, and list their 401 themselves.
 */
export function openApiDocument() {
  const document = api.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'sipedge operator API', version: VERSION, description: 'Errors are RFC 9457 problem documents (application/problem+json).' },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }],
  });
  const authProblems = problems();
  for (const item of Object.values(document.paths ?? {})) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item[method];
      if (operation === undefined) continue;
      operation.responses ??= {};
      if (operation.security?.some((scheme) => SIGNATURE_SCHEME in scheme) === true) continue;
      for (const [status, response] of Object.entries(authProblems)) {
        operation.responses[status] ??= { description: response.description, content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } } };
      }
    }
  }
  return document;
}

/** Unknown paths, as problem documents; the Worker's app uses it too (a mounted app's own is not consulted). */
export const problemNotFound: NotFoundHandler = (c) => problemResponse({ status: 404, title: 'Not Found', detail: `nothing at ${c.req.path}` });

/** What Hono's own validators throw (a body that is not JSON, an undeclared content type), as problems. */
function libraryProblem(error: HTTPException): Response {
  if (error.status === 400 && /json/i.test(error.message)) {
    return problemResponse({ status: 400, title: 'Invalid JSON', detail: 'the request body must be a JSON object' });
  }
  if (error.status === 415) {
    return problemResponse({ status: 415, title: 'Unsupported Media Type', detail: 'send the body as Content-Type: application/json' });
  }
  return problemResponse({ status: error.status, title: error.message || 'Error', detail: error.message });
}

/** Thrown `HTTPException`s carry their problem response; anything else is a logged 500. */
export const problemOnError: ErrorHandler = (error, c) => {
  if (error instanceof HTTPException) return error.res === undefined ? libraryProblem(error) : error.getResponse();
  log.error('http.failed', { method: c.req.method, path: c.req.path, ...errorFields(error) });
  return problemResponse({ status: 500, title: 'Internal Server Error', detail: 'the edge failed to handle this request; see its logs' });
};

api.notFound(problemNotFound);
api.onError(problemOnError);
