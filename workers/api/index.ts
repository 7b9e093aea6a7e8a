/**
 * `/api/v1`: the operator API. Every route needs the operator token, except the media nodes'
 * signed requests (`media-nodes.ts`); every error is an RFC 9457 problem document. Resources are
 * sub-apps, one per file.
 */
import { Hono, type ErrorHandler, type NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { createLogger, errorFields } from '../logger.ts';
import { mediaNodes } from './media-nodes.ts';
import { operatorAuth } from './operator-auth.ts';
import { pbxLinks } from './pbx-links.ts';
import { problemResponse } from './problem.ts';
import { usersImport } from './users-import.ts';
import { users } from './users.ts';

const log = createLogger({ component: 'api' });

export const api = new Hono<{ Bindings: Env }>();

// Before the operator token: media nodes sign their requests instead (its GET listing checks the token itself).
api.route('/media-nodes', mediaNodes);
api.use('*', operatorAuth());
api.route('/users/import', usersImport);
api.route('/users', users);
api.route('/pbx-links', pbxLinks);

/** Unknown paths, as problem documents; the Worker's app uses it too (a mounted app's own is not consulted). */
export const problemNotFound: NotFoundHandler = (c) => problemResponse({ status: 404, title: 'Not Found', detail: `nothing at ${c.req.path}` });

/** Thrown `HTTPException`s carry their problem response; anything else is a logged 500. */
export const problemOnError: ErrorHandler = (error, c) => {
  if (error instanceof HTTPException) return error.getResponse();
  log.error('http.failed', { method: c.req.method, path: c.req.path, ...errorFields(error) });
  return problemResponse({ status: 500, title: 'Internal Server Error', detail: 'the edge failed to handle this request; see its logs' });
};

api.notFound(problemNotFound);
api.onError(problemOnError);
