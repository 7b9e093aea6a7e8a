/**
 * The routing webhooks: POSTs of JSON to the operator's own code (an http: or https: URL).
 *
 *   routing         { caller, dialled, user: { username, attributes, country?, colo? }, rule, candidates: [{ link_id, number }] }
 *                   -> { trunks: ["link-id", ...] }: the candidates to try, in order ([] refuses the call)
 *   inbound         { link, request_uri, from, to, headers: [{ name, value }], sdp }
 *                   -> { users: ["username", ...] }: the users to ring ([] falls through)
 *   inbound_cancel  the inbound body; the reply is ignored
 *
 * Each request is signed with the webhook's secret as the edge signs its media-node requests
 * (`shared/signing`): HMAC-SHA-256 over `sipedge-v1 LF POST LF <path and query> LF <timestamp> LF
 * <nonce> LF <body>`, sent in `Sipedge-Timestamp`, `Sipedge-Nonce` and `Sipedge-Signature: v1=<hex>`.
 * A receiver checks the MAC, that the timestamp is recent and that the nonce is new.
 *
 * A webhook that does not answer 2xx with the expected JSON within its timeout (2 s unless
 * configured) has failed; callers fall back (the rule's order, the next inbound step) and say so.
 */
import { z } from 'zod';
import { RequestSigner } from '../../shared/signing/index.ts';
import type { Webhook } from './routing-config.ts';

export type Fetcher = (request: Request) => Promise<Response>;

export type WebhookResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export const routingReply = z.object({ trunks: z.array(z.string()).max(64) });
export const inboundReply = z.object({ users: z.array(z.string()).max(64) });

/** POSTs `body` signed, and parses the reply with `reply` (undefined: the reply is not read). */
export async function callWebhook<T>(hook: Webhook, body: unknown, reply: z.ZodType<T> | undefined, fetcher: Fetcher, nowMs: number): Promise<WebhookResult<T | undefined>> {
  const text = JSON.stringify(body);
  const url = new URL(hook.url);
  const signature = await new RequestSigner(hook.secret).sign({ method: 'POST', path: url.pathname + url.search, body: text }, nowMs);
  const signal = AbortSignal.timeout(hook.timeout_ms);
  const request = new Request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...signature }, body: text, signal });
  try {
    const response = await Promise.race([fetcher(request), aborted(signal)]);
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, reason: `HTTP ${response.status}` };
    }
    if (reply === undefined) {
      await response.body?.cancel();
      return { ok: true, value: undefined };
    }
    const parsed = reply.safeParse(await Promise.race([response.json(), aborted(signal)]));
    if (!parsed.success) return { ok: false, reason: 'the reply is not the expected JSON' };
    return { ok: true, value: parsed.data };
  } catch (error) {
    if (signal.aborted) return { ok: false, reason: `no answer within ${hook.timeout_ms} ms` };
    if (error instanceof SyntaxError) return { ok: false, reason: 'the reply is not JSON' };
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** Rejects when `signal` aborts, so that a fetcher that ignores the signal cannot hold a call up. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
