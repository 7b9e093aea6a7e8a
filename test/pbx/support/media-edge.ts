/**
 * The edge with media, as the trunk tests use it: workerd on a real 127.0.0.1 port (the runner of
 * `npm start`), a media node process reporting to it and healthy there, the operator API, and
 * SIP.js users registered over `/sip`; and the waits the PBX tests share.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { startEdge, type RunningEdge } from '../../../workers/local/edge-runner.ts';
import { within } from '../../edge/support/test-edge.ts';
import { SipJsPhone, type PhoneOptions } from '../../edge/support/phones.ts';
import { startMediaNode, type RunningMediaNode } from './media-node.ts';
import { eventually } from './net.ts';
export { reach } from '../../edge/support/sessions.ts';

const HEARTBEAT_MS = 3000;

/** A call to the operator API (`/api/v1<path>`) with the operator token. */
export type OperatorApi = (method: string, path: string, body?: unknown) => Promise<Response>;

export interface MediaEdge {
  readonly edge: RunningEdge;
  readonly node: RunningMediaNode;
  readonly api: OperatorApi;
  /** Creates user `username` and registers SIP.js as it; the registration is answered 200. */
  registeredPhone(username: string, password: string, sipJs?: PhoneOptions['sipJs']): Promise<SipJsPhone>;
  stop(): Promise<void>;
}

export async function startMediaEdge(): Promise<MediaEdge> {
  const secret = randomBytes(32).toString('base64url');
  const token = randomBytes(18).toString('base64url');
  const edge = await startEdge({ port: 0, vars: { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: token, SIPEDGE_MEDIA_SECRET: secret, SIPEDGE_MEDIA_HEARTBEAT_MS: String(HEARTBEAT_MS) } });
  const domain = ((await (await fetch(new URL('/health', edge.url))).json()) as { domain: string }).domain;
  let node: RunningMediaNode;
  try {
    node = await startMediaNode(edge.url.href, secret, HEARTBEAT_MS);
  } catch (error) {
    await edge.stop();
    throw error;
  }
  const api = (method: string, path: string, body?: unknown): Promise<Response> => fetch(new URL(`/api/v1${path}`, edge.url), {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  await untilNodeHealthy(api);
  return {
    edge,
    node,
    api,
    async registeredPhone(username, password, sipJs) {
      expect((await api('PUT', `/users/${username}`, { password })).ok).toBe(true);
      const phone = new SipJsPhone({ webSocketUrl: `ws://127.0.0.1:${edge.url.port}/sip`, domain, username, password, ...(sipJs === undefined ? {} : { sipJs }) });
      await within(10_000, 'SIP.js connect', phone.start());
      phone.register();
      expect((await phone.nextOutcome()).status).toBe(200);
      return phone;
    },
    async stop() {
      await node.stop();
      await edge.stop();
    },
  };
}

/** Waits until a media node reports healthy at the edge. */
export async function untilNodeHealthy(api: OperatorApi): Promise<void> {
  await eventually('the media node healthy at the edge', 20_000, async () => {
    const listing = (await (await api('GET', '/media-nodes')).json()) as { nodes: { health: string }[] };
    return listing.nodes.some((each) => each.health === 'healthy') ? true : undefined;
  });
}

/** Waits until PbxLink `id` is registered to its PBX. */
export async function untilLinkRegistered(api: OperatorApi, id: string): Promise<void> {
  await eventually('the link registered', 20_000, async () => {
    const view = (await (await api('GET', `/pbx-links/${id}`)).json()) as { registration: { state: string } };
    return view.registration.state === 'registered' ? true : undefined;
  });
}

