/**
 * `GET /api/v1/users/:username/latency`: what can honestly be measured of each registered device's
 * round trip over its WebSocket.
 *
 * - `lastKeepaliveAt`: when the runtime last answered the device's CRLF keep-alive
 *   (`getWebSocketAutoResponseTimestamp`). Keep-alives are answered without waking any object
 *   (`setWebSocketAutoResponse`), so their round trip cannot be timed per message; the time says
 *   whether the device is still pinging, and when.
 * - `responses`: the time from each request the edge sent the device (INVITE, NOTIFY, BYE, ...) to
 *   its first response, read off the user's SIP trace (`trace/response-times.ts`): measured when
 *   traffic happens anyway, no extra request on idle devices.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { userSocketHolder } from '../connection/user-socket.ts';
import { createLogger, errorFields } from '../logger.ts';
import type { Binding } from '../registrar/binding.ts';
import { DEFAULT_TRACE_POLICY } from '../trace/sip-trace.ts';
import { responseTimesByFlow } from '../trace/response-times.ts';
import { apiApp, jsonResponse, problems } from './openapi.ts';
import { callerDomain } from './operator-auth.ts';
import { userNotFound, usernameSchema, userStub } from './users.ts';

const log = createLogger({ component: 'api.user-latency' });

const responsesSchema = z.object({
  count: z.int(),
  p50Ms: z.number().nullable(),
  p95Ms: z.number().nullable(),
  maxMs: z.number().nullable(),
  unanswered: z.int().openapi({ description: 'requests without a response within 32 s' }),
});

const deviceSchema = z.object({
  flow: z.string().openapi({ description: 'the WebSocket the device registered over' }),
  contact: z.string(),
  instance: z.string().optional(),
  transport: z.string(),
  remoteAddress: z.string(),
  openedAt: z.string(),
  lastKeepaliveAt: z.string().nullable().openapi({ description: "when the edge last answered the device's CRLF keep-alive; null if it never sent one" }),
  responses: responsesSchema,
  samples: z
    .array(z.object({ at: z.string(), method: z.string(), status: z.int().nullable(), ms: z.number().nullable() }))
    .readonly()
    .openapi({ description: 'oldest first, from the SIP trace; status and ms are null for an unanswered request' }),
});

const latencySchema = z
  .object({ devices: z.array(deviceSchema).readonly() })
  .openapi('UserLatency', { description: "each registered device's last keep-alive and its response times to the edge's requests" });

const getUserLatency = createRoute({
  operationId: 'getUserLatency',
  method: 'get',
  path: '/users/{username}/latency',
  summary: "A user's devices: last keep-alive and response times",
  request: { params: z.object({ username: usernameSchema }) },
  responses: { 200: jsonResponse(latencySchema, 'one entry per registered device'), ...problems(400, 404) },
});

/** The time the runtime last answered a keep-alive on the binding's socket, from whichever object holds it. */
async function lastKeepalive(env: Env, binding: Binding): Promise<number | null> {
  const { connectionId } = binding.flow;
  try {
    const holder = userSocketHolder(connectionId);
    if (holder === undefined) return await env.SIP_CONNECTION.get(env.SIP_CONNECTION.idFromString(connectionId)).lastKeepalive();
    return await env.SIP_USER.get(env.SIP_USER.idFromString(holder)).lastKeepaliveOnFlow(connectionId);
  } catch (error) {
    log.warn('user-latency.keepalive-unread', { flow: connectionId, ...errorFields(error) });
    return null;
  }
}

export const userLatency = apiApp();

userLatency.openapi(getUserLatency, async (c) => {
  const { username } = c.req.valid('param');
  const stub = userStub(c.env, username, callerDomain(c));
  if ((await stub.getAccount()) === undefined) throw userNotFound(username);
  const [bindings, records] = await Promise.all([stub.listBindings(), stub.readTrace({ limit: DEFAULT_TRACE_POLICY.maxRecords })]);
  const times = responseTimesByFlow(records, Date.now());
  const devices = await Promise.all(
    bindings.map(async (binding) => {
      const keepalive = await lastKeepalive(c.env, binding);
      const flowTimes = times.get(binding.flow.connectionId);
      const summary = flowTimes?.summary;
      return {
        flow: binding.flow.connectionId,
        contact: binding.contact,
        ...(binding.instance === undefined ? {} : { instance: binding.instance }),
        transport: binding.flow.transport,
        remoteAddress: binding.flow.remoteAddress,
        openedAt: new Date(binding.flow.openedAt).toISOString(),
        lastKeepaliveAt: keepalive === null ? null : new Date(keepalive).toISOString(),
        responses: { count: summary?.count ?? 0, p50Ms: summary?.p50_ms ?? null, p95Ms: summary?.p95_ms ?? null, maxMs: summary?.max_ms ?? null, unanswered: summary?.unanswered ?? 0 },
        samples: (flowTimes?.samples ?? []).map((sample) => ({ ...sample, at: new Date(sample.at).toISOString() })),
      };
    }),
  );
  return c.json({ devices }, 200);
});
