/**
 * The edge's side of a media node's control API (`media-node/README.md`, "Control API"): create a
 * session from the offer of one leg, give it the other leg's answer, and delete it. Every request
 * is signed with SIPEDGE_MEDIA_SECRET (`shared/signing/`), and every answer is read as either the
 * node's body or a failure with the status and the problem's `reason` token, so the call code can
 * map it to a SIP answer (a 422 `no-common-codec` is a 488, a 503 `at-capacity` is a 503).
 *
 * Each answered request's round trip (sent to response headers) goes to `timing.roundTrip`, which
 * the PbxLink passes on to the MediaFleet (`node-latency.ts`): the edge's view of each node's RTT.
 *
 * Session ids name the object that owns the call (`mediaSessionId`), so a session the node ends on
 * its own is routed back to that object (`workers/api/media-nodes.ts`).
 */
import { RequestSigner } from '../../shared/signing/index.ts';

export type ControlResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly status: number; readonly reason: string; readonly detail?: string };

/**
 * What creating a session answers: the offer of one leg taken, the answer to it and the offer
 * toward the other leg; or, created without an offer (an INVITE without SDP from the PBX), the
 * node's offers toward both legs.
 */
export interface CreatedSession {
  readonly id: string;
  readonly offeredBy: 'browser' | 'pbx' | 'node';
  readonly browserAnswer?: string;
  readonly pbxOffer?: string;
  readonly pbxAnswer?: string;
  readonly browserOffer?: string;
}

export type CreateSession = { readonly id: string; readonly browserOffer?: string; readonly pbxOffer?: string };
export type AnswerSession = { readonly browserAnswer: string } | { readonly pbxAnswer: string };
/** A new offer within the call (a re-INVITE or UPDATE: hold, resume, ICE restart), answered by the node for its leg. */
export type UpdateSession = { readonly browserOffer: string } | { readonly pbxOffer: string };
export interface UpdatedSession {
  readonly browserAnswer?: string;
  readonly pbxAnswer?: string;
}

const TIMEOUT_MS = 5_000;

/** Which control request a round trip was measured on. */
export type ControlOperation = 'create' | 'answer' | 'update' | 'dtmf' | 'delete';

/** How control requests are timed: the clock, and where each measured round trip goes. */
export interface ControlTiming {
  readonly now: () => number;
  readonly roundTrip: (controlUrl: string, operation: ControlOperation, ms: number) => void;
}

/** The session id of call `callId` of PbxLink `linkId`: `link.<link id>.<call id>`. */
export function mediaSessionId(linkId: string, callId: string): string {
  return `link.${linkId}.${callId}`;
}

/** The link and call a session id names; undefined for an id no link made. */
export function sessionOwner(sessionId: string): { readonly linkId: string; readonly callId: string } | undefined {
  const match = /^link\.(.+)\.([^.]+)$/.exec(sessionId);
  return match === null ? undefined : { linkId: match[1] as string, callId: match[2] as string };
}

export class MediaControl {
  readonly #signer: RequestSigner;
  readonly #fetch: typeof fetch;
  readonly #timing: ControlTiming | undefined;

  constructor(secret: string, fetcher: typeof fetch = (input, init) => fetch(input, init), timing?: ControlTiming) {
    this.#signer = new RequestSigner(secret);
    this.#fetch = fetcher;
    this.#timing = timing;
  }

  create(controlUrl: string, body: CreateSession): Promise<ControlResult<CreatedSession>> {
    return this.#request<CreatedSession>(controlUrl, 'create', 'POST', '/v1/sessions', body);
  }

  answer(controlUrl: string, id: string, body: AnswerSession): Promise<ControlResult<unknown>> {
    return this.#request(controlUrl, 'answer', 'POST', `/v1/sessions/${encodeURIComponent(id)}/answer`, body);
  }

  update(controlUrl: string, id: string, body: UpdateSession): Promise<ControlResult<UpdatedSession>> {
    return this.#request<UpdatedSession>(controlUrl, 'update', 'PATCH', `/v1/sessions/${encodeURIComponent(id)}`, body);
  }

  /** RFC 4733 DTMF toward the PBX; 409 `no-telephone-event` when the PBX's SDP has none. */
  dtmf(controlUrl: string, id: string, body: { readonly digit: string; readonly durationMs?: number }): Promise<ControlResult<unknown>> {
    return this.#request(controlUrl, 'dtmf', 'POST', `/v1/sessions/${encodeURIComponent(id)}/dtmf`, body);
  }

  /** Ends the session; a session the node no longer knows is gone already, which is what was wanted. */
  async delete(controlUrl: string, id: string): Promise<ControlResult<unknown>> {
    const result = await this.#request(controlUrl, 'delete', 'DELETE', `/v1/sessions/${encodeURIComponent(id)}`, undefined);
    return !result.ok && result.status === 404 ? { ok: true, value: undefined } : result;
  }

  async #request<T>(controlUrl: string, operation: ControlOperation, method: string, path: string, body: unknown): Promise<ControlResult<T>> {
    const url = new URL(`${controlUrl.replace(/\/+$/, '')}${path}`);
    const text = body === undefined ? '' : JSON.stringify(body);
    const signature = await this.#signer.sign({ method, path: url.pathname + url.search, body: text });
    let response: Response;
    const sentAt = this.#timing?.now();
    try {
      response = await this.#fetch(url, {
        method,
        headers: { ...signature, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: text }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      return { ok: false, status: 503, reason: 'unreachable', detail: error instanceof Error ? error.message : String(error) };
    }
    if (this.#timing !== undefined && sentAt !== undefined) this.#timing.roundTrip(controlUrl, operation, this.#timing.now() - sentAt);
    const answer: unknown = await response.json().catch(() => undefined);
    if (response.ok) return { ok: true, value: answer as T };
    const problem = typeof answer === 'object' && answer !== null ? (answer as { reason?: unknown; detail?: unknown }) : {};
    return {
      ok: false,
      status: response.status,
      reason: typeof problem.reason === 'string' ? problem.reason : `http-${response.status}`,
      ...(typeof problem.detail === 'string' ? { detail: problem.detail } : {}),
    };
  }
}
