/**
 * The edge's side of the control API, for tests and the benchmark: signed JSON requests to a
 * media node over real HTTP, with ways to get a request wrong on purpose (unsigned, another secret,
 * an old timestamp, a reused nonce).
 */
import { RequestSigner, newNonce } from '../../../media-node/signing/index.ts';

export interface ControlReply<T = unknown> {
  readonly status: number;
  readonly contentType: string;
  readonly body: T;
}

export interface RequestOptions {
  /** Default true. */
  readonly signed?: boolean;
  /** Sign with this secret instead of the node's. */
  readonly secret?: string;
  /** Sign as if sent at this time (ms). */
  readonly nowMs?: number;
  readonly nonce?: string;
  /** Send this text as the body instead of the one signed (tampering). */
  readonly sendBody?: string;
}

export class ControlClient {
  readonly baseUrl: string;
  readonly #secret: string;
  readonly #signer: RequestSigner;

  constructor(baseUrl: string, secret: string) {
    this.baseUrl = baseUrl;
    this.#secret = secret;
    this.#signer = new RequestSigner(secret);
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<ControlReply<T>> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const signer = options.secret === undefined || options.secret === this.#secret ? this.#signer : new RequestSigner(options.secret);
    const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' };
    if (options.signed ?? true) Object.assign(headers, await signer.sign({ method, path, body: text }, options.nowMs ?? Date.now(), options.nonce ?? newNonce()));
    const sent = options.sendBody ?? text;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(sent === '' ? {} : { body: sent }),
      signal: AbortSignal.timeout(20_000),
    });
    const contentType = response.headers.get('content-type') ?? '';
    const raw = await response.text();
    return { status: response.status, contentType, body: (contentType.includes('json') && raw !== '' ? JSON.parse(raw) : raw) as T };
  }
}

/** What the control API answers to a create. */
export interface CreatedFromBrowser {
  readonly id: string;
  readonly offeredBy: 'browser';
  readonly browserAnswer: string;
  readonly pbxOffer: string;
}

export interface CreatedFromPbx {
  readonly id: string;
  readonly offeredBy: 'pbx';
  readonly pbxAnswer: string;
  readonly browserOffer: string;
}

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly reason: string;
}
