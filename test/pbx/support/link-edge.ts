/**
 * The edge (workerd on a real 127.0.0.1 port, started with the same runner as `npm start`) as a
 * PBX operator uses it: PBX links created, read and deleted through the operator API.
 *
 * A test that registers over TLS to a peer with a certificate from its own CA sets
 * NODE_EXTRA_CA_CERTS to that CA before it first imports this module: miniflare reads the variable
 * once, when it loads, and passes the certificates to workerd as trusted.
 */
import { randomBytes } from 'node:crypto';
import { startEdge, type RunningEdge } from '../../../workers/local/edge-runner.ts';
import { eventually } from './net.ts';

/** The parts of a link's view these tests read (the edge's types are workerd-side). */
export interface LinkOutcome {
  readonly at: string;
  readonly status_line: string;
  readonly detail?: string;
  readonly state: string;
}

export interface LinkRegistration {
  readonly state: 'unregistered' | 'registering' | 'registered' | 'retrying' | 'rejected' | 'failed' | 'unregistering';
  readonly expires_at?: string;
  readonly next_attempt_at?: string;
  readonly retries: number;
  readonly last_status?: string;
  readonly detail?: string;
  readonly contact?: string;
  readonly connection: string;
  readonly recent: readonly LinkOutcome[];
}

export interface LinkView {
  readonly id: string;
  readonly registration: LinkRegistration;
  readonly [field: string]: unknown;
}

export interface LinkEdge {
  put(id: string, body: Record<string, unknown>): Promise<LinkView>;
  view(id: string): Promise<LinkView>;
  remove(id: string): Promise<number>;
  /** Polls the link until its registration is in `state`; rejects with the last view after `timeoutMs`. */
  until(id: string, state: LinkRegistration['state'], timeoutMs: number): Promise<LinkView>;
  stop(): Promise<void>;
}

export async function startLinkEdge(): Promise<LinkEdge> {
  const token = randomBytes(18).toString('base64url');
  const edge: RunningEdge = await startEdge({
    port: 0,
    vars: { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: token, SIPEDGE_MEDIA_SECRET: randomBytes(32).toString('base64url') },
  });
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const url = (id: string) => new URL(`/api/v1/pbx-links/${encodeURIComponent(id)}`, edge.url);
  const view = async (id: string): Promise<LinkView> => {
    const response = await fetch(url(id), { headers, signal: AbortSignal.timeout(5_000) });
    if (response.status !== 200) throw new Error(`GET pbx-link ${id}: ${response.status} ${await response.text()}`);
    return (await response.json()) as LinkView;
  };
  return {
    async put(id, body) {
      const response = await fetch(url(id), { method: 'PUT', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(5_000) });
      if (response.status !== 201 && response.status !== 200) throw new Error(`PUT pbx-link ${id}: ${response.status} ${await response.text()}`);
      return (await response.json()) as LinkView;
    },
    view,
    async remove(id) {
      const response = await fetch(url(id), { method: 'DELETE', headers, signal: AbortSignal.timeout(5_000) });
      return response.status;
    },
    async until(id, state, timeoutMs) {
      let last: LinkView | undefined;
      try {
        return await eventually(`link ${id} ${state}`, timeoutMs, async () => {
          last = await view(id);
          return last.registration.state === state ? last : undefined;
        });
      } catch (error) {
        throw new Error(`${String(error)}; last seen: ${JSON.stringify(last?.registration)}`);
      }
    },
    stop: () => edge.stop(),
  };
}
