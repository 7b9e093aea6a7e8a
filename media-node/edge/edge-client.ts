/**
 * Requests from the media node to the edge (heartbeats, session-end reports), signed the same way
 * the edge signs its control calls (`../signing/`), each with a deadline. Retries, where a caller
 * wants them, go again with a fresh timestamp and nonce, since the edge remembers nonces.
 */
import { RequestSigner } from '../signing/index.ts';

export interface EdgeResponse {
  readonly ok: boolean;
  /** 0 when no response came (network error, timeout). */
  readonly status: number;
  readonly error?: string;
}

export interface EdgeClientOptions {
  readonly secret: string;
  /** Per attempt; default 5 s. */
  readonly timeoutMs?: number;
}

export interface RetryOptions {
  /** Waits before each retry; the number of attempts is one more than their count. */
  readonly retryDelaysMs: readonly number[];
  /** Stops waiting and retrying once aborted (shutdown deadline). */
  readonly signal?: AbortSignal;
}

export class EdgeClient {
  readonly #signer: RequestSigner;
  readonly #timeoutMs: number;

  constructor(options: EdgeClientOptions) {
    this.#signer = new RequestSigner(options.secret);
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  /** One signed JSON POST; never throws. */
  async post(url: string, body: unknown, signal?: AbortSignal): Promise<EdgeResponse> {
    const text = JSON.stringify(body);
    try {
      const target = new URL(url);
      const headers = await this.#signer.sign({ method: 'POST', path: target.pathname + target.search, body: text });
      const timeout = AbortSignal.timeout(this.#timeoutMs);
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: text,
        signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal]),
      });
      // The body is not needed; reading it lets the connection be reused.
      await response.arrayBuffer().catch(() => undefined);
      return { ok: response.ok, status: response.status };
    } catch (error) {
      return { ok: false, status: 0, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * POSTs until the edge takes it: retried after no response, 408, 429 and 5xx; another 4xx is
   * final (retrying the same request cannot change the answer). Returns the last response.
   */
  async postWithRetries(url: string, body: unknown, retry: RetryOptions): Promise<EdgeResponse & { readonly attempts: number }> {
    let attempts = 0;
    for (;;) {
      const response = await this.post(url, body, retry.signal);
      attempts++;
      const delay = retry.retryDelaysMs[attempts - 1];
      if (response.ok || !retriable(response.status) || delay === undefined || retry.signal?.aborted) return { ...response, attempts };
      await sleep(delay, retry.signal);
    }
  }
}

function retriable(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
