/**
 * `/api/v1/media-nodes`: the media nodes' side of the API and the operator's view of the fleet.
 *
 *   POST /media-nodes/heartbeat      signed by a node: its heartbeat (`media-node/edge/heartbeat.ts`);
 *                                    a node that restarted has its calls ended (BYE on both legs)
 *   POST /media-nodes/session-ended  signed by a node: a session that ended; its figures and
 *                                    quality samples go to the call's record, and when the node
 *                                    ended it on its own (`requested` not true) the call that owned
 *                                    it ends (BYE on both legs)
 *   GET  /media-nodes                operator token: every known node with its health and the
 *                                    p50/p95 of the edge's control round trips to it
 *   GET  /media-nodes/:id/latency    operator token: one node's control round trips (the latest
 *                                    samples and their summary) and its last heartbeat's delay
 *
 * Nodes do not hold the operator token: their requests carry `Sipedge-Timestamp`,
 * `Sipedge-Nonce` and `Sipedge-Signature` (HMAC-SHA-256 with SIPEDGE_MEDIA_SECRET,
 * `shared/signing/`), and a refusal is a 401 problem whose `reason` is the node's own vocabulary
 * (`unsigned`, `malformed`, `stale`, `bad-signature`, `replayed`). Nonces are kept by the MediaFleet
 * object for the replay window.
 *
 * Media nodes are the installation's shared infrastructure: an operator token of any domain lists
 * them and their round trips, which carry no call of anybody's. A session's figures go to the call
 * record of the domain whose PBX link carried the call.
 *
 * The bodies are read tolerantly (unknown members are dropped, not refused): nodes and edge are
 * upgraded separately, and a newer node's extra field must not cost it its heartbeats.
 *
 * Declared with `createRoute` like the rest of the API; the signed routes name their own security
 * scheme (`mediaNodeSignature`) in the OpenAPI document. The signature is checked (route
 * middleware) before the body is validated, on the very bytes the validator then parses.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { DEFAULT_MAX_SKEW_MS, RequestSigner, verifySignedRequest, type AuthFailureReason } from '../../shared/signing/index.ts';
import { directoryOf } from '../directory/directory.ts';
import { createLogger, errorFields } from '../logger.ts';
import { callMediaOf, type EndReportForCall } from '../media/call-quality.ts';
import { sessionOwner } from '../media/media-control.ts';
import { mediaFleet } from '../media/media-fleet.ts';
import { endCallsOn } from '../media/node-loss.ts';
import { domainOfLink, linkStub } from './link-owner.ts';
import { apiApp, jsonBody, jsonResponse, problems, problemSchema, type ApiEnv } from './openapi.ts';
import { operatorAuth } from './operator-auth.ts';
import { PROBLEM_CONTENT_TYPE, problemException, type Problem } from './problem.ts';

const log = createLogger({ component: 'api.media-nodes' });

/** The node refuses shorter secrets too (`media-node/config/`). */
const MIN_SECRET_LENGTH = 32;
/** A session-end report with its statistics is a few kilobytes, and its quality samples (720 per direction at most) some 150 more. */
const MAX_BODY_OCTETS = 512 * 1024;

const nodeIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dots, dashes or underscores');
const count = z.int('must be a whole number').min(0, 'must not be negative').max(1_000_000, 'must be at most 1000000');
const instant = z.iso.datetime({ message: 'must be an ISO 8601 date and time' });

const heartbeatSchema = z.object({
  nodeId: nodeIdSchema,
  region: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
  state: z.enum(['up', 'stopping'], "must be 'up' or 'stopping'"),
  controlUrl: z.url({ protocol: /^https?$/, message: 'must be an http: or https: URL' }).max(512, 'must be at most 512 characters'),
  pbxAddress: z.string().min(1, 'must not be empty').max(253, 'must be at most 253 characters'),
  capacity: count,
  sessions: count,
  load: z.number('must be a number').min(0, 'must not be negative'),
  cpu: z.number('must be a number').min(0, 'must not be negative').nullish().transform((cpu) => cpu ?? null),
  startedAt: instant,
  sentAt: instant,
});

const sessionEndedSchema = z.object({
  nodeId: nodeIdSchema,
  sessionId: z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, 'must be 1-128 letters, digits, or . _ ~ -'),
  reason: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a lower-case token'),
  endedAt: instant,
  detail: z.unknown().optional(),
  requested: z.boolean('must be true or false').optional(),
  stats: z.unknown().optional(),
  samples: z.unknown().optional(),
});

/** The security scheme of the nodes' signed requests, as the OpenAPI document names it. */
export const SIGNATURE_SCHEME = 'mediaNodeSignature';

const health = z.enum(['healthy', 'full', 'stopping', 'stale']);

const rttSchema = z
  .object({ count: z.int(), p50Ms: z.number().nullable(), p95Ms: z.number().nullable(), maxMs: z.number().nullable() })
  .openapi('MediaNodeRtt', { description: "round trips of the edge's signed control requests to the node (sent to response headers), over its latest samples" });

const nodeSchema = z.object({
  nodeId: z.string(),
  region: z.string(),
  state: z.enum(['up', 'stopping']),
  controlUrl: z.string(),
  pbxAddress: z.string(),
  capacity: z.int(),
  sessions: z.int(),
  load: z.number(),
  cpu: z.number().nullable(),
  startedAt: z.string(),
  health,
  lastSeenAt: z.string(),
  silentMs: z.number(),
  rtt: rttSchema,
});

const listingSchema = z
  .object({ staleAfterMs: z.int().openapi({ description: 'a node silent for longer is stale' }), nodes: z.array(nodeSchema).readonly() })
  .openapi('MediaNodeList');

const latencySchema = z
  .object({
    nodeId: z.string(),
    controlRtt: rttSchema,
    heartbeatDelayMs: z
      .number()
      .nullable()
      .openapi({ description: "the last heartbeat's arrival less its sentAt: one-way transit plus the offset between the node's clock and the edge's; null before a heartbeat since the edge's object started" }),
    samples: z
      .array(z.object({ at: z.string(), operation: z.enum(['create', 'answer', 'update', 'dtmf', 'delete']), ms: z.number() }))
      .readonly()
      .openapi({ description: 'oldest first' }),
  })
  .openapi('MediaNodeLatency');

/** The problems a signed route answers: a refused signature is a 401 whose `reason` is the node's token. */
function signedProblems(...statuses: readonly number[]) {
  const { 403: _forbidden, ...rest } = problems(...statuses);
  return {
    ...rest,
    401: { description: 'unsigned, malformed, stale, badly signed or replayed: `reason` says which', content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } } },
    503: { description: 'the edge has no SIPEDGE_MEDIA_SECRET', content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } } },
  };
}

const listNodes = createRoute({
  operationId: 'listMediaNodes',
  method: 'get',
  path: '/',
  summary: 'List the media nodes with their health and control RTT',
  middleware: [operatorAuth()],
  responses: { 200: jsonResponse(listingSchema, 'every node heard from within the last day') },
});

const getNodeLatency = createRoute({
  operationId: 'getMediaNodeLatency',
  method: 'get',
  path: '/{id}/latency',
  summary: "A media node's control round trips and heartbeat delay",
  middleware: [operatorAuth()],
  request: { params: z.object({ id: nodeIdSchema }) },
  responses: { 200: jsonResponse(latencySchema, 'the samples and their summary'), ...problems(400, 404) },
});

const postHeartbeat = createRoute({
  operationId: 'postMediaNodeHeartbeat',
  method: 'post',
  path: '/heartbeat',
  summary: "A media node's heartbeat (signed by the node)",
  security: [{ [SIGNATURE_SCHEME]: [] }],
  middleware: [mediaSignature()],
  request: { body: jsonBody(heartbeatSchema.openapi('MediaNodeHeartbeat')) },
  responses: { 200: jsonResponse(z.object({ nodeId: z.string(), health }), 'how the edge now sees the node'), ...signedProblems(400, 413, 415) },
});

const postSessionEnded = createRoute({
  operationId: 'postMediaSessionEnded',
  method: 'post',
  path: '/session-ended',
  summary: 'A media session that ended, with its figures (signed by the node)',
  security: [{ [SIGNATURE_SCHEME]: [] }],
  middleware: [mediaSignature()],
  request: { body: jsonBody(sessionEndedSchema.openapi('MediaSessionEnded')) },
  responses: {
    200: jsonResponse(z.object({ accepted: z.boolean(), duplicate: z.boolean().openapi({ description: 'this node reported this session already' }) }), 'taken'),
    ...signedProblems(400, 413, 415),
  },
});

export const mediaNodes = apiApp();

mediaNodes.openAPIRegistry.registerComponent('securitySchemes', SIGNATURE_SCHEME, {
  type: 'apiKey',
  in: 'header',
  name: 'Sipedge-Signature',
  description:
    'media nodes only: HMAC-SHA-256 with SIPEDGE_MEDIA_SECRET over the method, path, Sipedge-Timestamp, Sipedge-Nonce and body (`shared/signing/`); each nonce once, the timestamp within the allowed skew',
});

mediaNodes.openapi(listNodes, async (c) => c.json(await mediaFleet(c.env).listNodes(), 200));

mediaNodes.openapi(getNodeLatency, async (c) => {
  const { id } = c.req.valid('param');
  const latency = await mediaFleet(c.env).nodeLatency(id);
  if (latency === null) throw problemException({ status: 404, title: 'Media node not found', detail: `no media node "${id}" sent a heartbeat within the last day` });
  return c.json(latency, 200);
});

mediaNodes.openapi(postHeartbeat, async (c) => {
  const beat = c.req.valid('json');
  const node = await mediaFleet(c.env).heartbeat(beat);
  // A node that restarted lost its sessions: the calls on them end, BYE on both legs.
  if (node.restarted === true) c.executionCtx.waitUntil(endCallsOn(c.env, log, node.controlUrl, 'media-node-restarted'));
  return c.json({ nodeId: node.nodeId, health: node.health }, 200);
});

mediaNodes.openapi(postSessionEnded, async (c) => {
  const { samples, requested, ...report } = c.req.valid('json');
  const { duplicate } = await mediaFleet(c.env).sessionEnded(report);
  // The session's id names the PbxLink whose call it carried (`mediaSessionId`) and the call.
  const owner = duplicate ? undefined : sessionOwner(report.sessionId);
  // Filed before the call is hung up, so the record says the node (the edge's side) ended it.
  if (owner !== undefined) await recordCallMedia(c.env, owner.linkId, owner.callId, { ...report, samples }, requested !== true);
  // A session the node ended on its own: that call ends, BYE on both legs.
  if (owner !== undefined && requested !== true) {
    const ended = await linkStub(c.env, owner.linkId).mediaEnded(owner.callId, report.reason);
    log.info('media-session.ended-call', { session: report.sessionId, reason: report.reason, callFound: ended });
  }
  return c.json({ accepted: true, duplicate }, 200);
});

/**
 * The call's record (in the Directory of the link's domain) takes the media node's figures, and,
 * when the node ended the session on its own, who ended the call and why. A failure costs the
 * record its quality, nothing else.
 */
async function recordCallMedia(env: Env, linkId: string, callId: string, report: EndReportForCall, endedByNode: boolean): Promise<void> {
  try {
    const end = endedByNode ? { endedBy: 'edge' as const, endReason: `media node: ${report.reason}` } : {};
    const link = await linkStub(env, linkId).getLink();
    await directoryOf(env, link === undefined ? env.SIPEDGE_DOMAIN : domainOfLink(env, link)).recordCall({ id: callId, media: callMediaOf(report), ...end });
  } catch (error) {
    log.warn('media-session.record-failed', { session: report.sessionId, ...errorFields(error) });
  }
}

/**
 * Lets through only requests a media node signed, once each. Cheapest checks first (`verifySignedRequest`): only a request whose MAC verifies
 * reaches the fleet object to have its nonce recorded, so strangers cannot fill the record.
 */
function mediaSignature(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const secret = c.env.SIPEDGE_MEDIA_SECRET;
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      throw problemException({
        status: 503,
        title: 'Media nodes not configured',
        detail: `set the SIPEDGE_MEDIA_SECRET secret (at least ${MIN_SECRET_LENGTH} characters, the media nodes' own) to accept media nodes`,
      });
    }
    if (Number(c.req.header('Content-Length') ?? 0) > MAX_BODY_OCTETS) throw tooLarge();
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.length > MAX_BODY_OCTETS) throw tooLarge();
    const url = new URL(c.req.url);
    const fleet = mediaFleet(c.env);
    const verdict = await verifySignedRequest(signerFor(secret), {
      maxSkewMs: DEFAULT_MAX_SKEW_MS,
      isFresh: (timestamp) => Math.abs(Date.now() - timestamp * 1000) <= DEFAULT_MAX_SKEW_MS,
      remember: (nonce, timestamp) => fleet.rememberNonce(nonce, timestamp),
    }, {
      method: c.req.method,
      path: url.pathname + url.search,
      body,
      header: (name) => c.req.header(name),
    });
    if (!verdict.ok) {
      log.warn('media-node.request-refused', { path: url.pathname, reason: verdict.error.reason });
      throw refused(verdict.error.reason, verdict.error.detail);
    }
    await next();
  };
}

/** One signer per secret, so the HMAC key is imported once per isolate, not per request. */
let signer: { readonly secret: string; readonly signer: RequestSigner } | undefined;

function signerFor(secret: string): RequestSigner {
  if (signer?.secret !== secret) signer = { secret, signer: new RequestSigner(secret) };
  return signer.signer;
}

function refused(reason: AuthFailureReason, detail: string): Error {
  // RFC 9457 §3.2: `reason` is an extension member, the token the media node uses for the same refusals.
  const problem: Problem & { readonly reason: AuthFailureReason } = { status: 401, title: 'Unauthorized', detail, reason };
  return problemException(problem, { 'WWW-Authenticate': 'Sipedge-HMAC-SHA256' });
}

function tooLarge(): Error {
  return problemException({ status: 413, title: 'Content Too Large', detail: `a media node's request body is at most ${MAX_BODY_OCTETS} octets` });
}
