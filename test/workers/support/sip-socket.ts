/**
 * A SIP WebSocket client inside workerd, against the edge Worker itself (`exports.default`): what
 * a browser softphone does, minus the browser. Every wait has a timeout.
 */
import { exports } from 'cloudflare:workers';
import { parseMessage, type SipMessage, type SipResponse } from '../../../shared/message/index.ts';

export const EDGE = 'https://edge.test';

export class SipSocket {
  readonly #ws: WebSocket;
  readonly #queue: (string | ArrayBuffer)[] = [];
  readonly #waiters: ((data: string | ArrayBuffer) => void)[] = [];
  #closed: { code: number; reason: string } | undefined;
  /** Requests received while a response was awaited. */
  readonly #stash: SipMessage[] = [];

  constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener('message', (event) => {
      const data = event.data as string | ArrayBuffer;
      const waiter = this.#waiters.shift();
      if (waiter) waiter(data);
      else this.#queue.push(data);
    });
    ws.addEventListener('close', (event) => {
      this.#closed = { code: event.code, reason: event.reason };
    });
  }

  get closed(): { code: number; reason: string } | undefined {
    return this.#closed;
  }

  send(data: string | ArrayBuffer | Uint8Array): void {
    this.#ws.send(data);
  }

  /** The next frame received, or a rejection after `timeoutMs`. */
  next(timeoutMs = 3000): Promise<string | ArrayBuffer> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new Error(`no WebSocket message within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (data: string | ArrayBuffer): void => {
        clearTimeout(timer);
        resolve(data);
      };
      this.#waiters.push(waiter);
    });
  }

  /** Frames received so far and not yet taken. */
  get pending(): number {
    return this.#queue.length + this.#stash.length;
  }

  async nextMessage(timeoutMs = 3000): Promise<SipMessage> {
    const stashed = this.#stash.shift();
    if (stashed !== undefined) return stashed;
    const data = await this.next(timeoutMs);
    return parseMessage(typeof data === 'string' ? data : new TextDecoder().decode(data));
  }

  /**
   * The next response. A request that arrives first (the edge sends stored messages as soon as a
   * REGISTER succeeds, so one may overtake its 200) is kept for `nextMessage`.
   */
  async nextResponse(timeoutMs = 3000): Promise<SipResponse> {
    const stashed: SipMessage[] = [];
    try {
      for (;;) {
        const data = await this.next(timeoutMs);
        const message = parseMessage(typeof data === 'string' ? data : new TextDecoder().decode(data));
        if (message.kind === 'response') return message;
        stashed.push(message);
      }
    } finally {
      this.#stash.push(...stashed);
    }
  }

  /** Sends a request and waits for its (final) response. */
  async request(text: string, timeoutMs = 3000): Promise<SipResponse> {
    this.send(text);
    return this.nextResponse(timeoutMs);
  }

  close(code = 1000, reason = 'test done'): void {
    try {
      this.#ws.close(code, reason);
    } catch {
      // already closed
    }
  }
}

/** What else an upgrade may say: the path (`/sip` by default), and the client's address as Cloudflare would give it. */
export interface SocketOptions {
  readonly path?: string;
  readonly remoteAddress?: string;
}

/** Opens `/sip` (or `options.path`) with the `sip` subprotocol, as SIP.js and JsSIP do. */
export async function openSipSocket(options: SocketOptions = {}): Promise<SipSocket> {
  const response = await upgradeSipSocket(options);
  const ws = response.webSocket;
  if (response.status !== 101 || ws === null) throw new Error(`/sip answered ${response.status}, not 101`);
  ws.accept();
  return new SipSocket(ws);
}

/** The raw answer to a WebSocket upgrade on `/sip` (or `options.path`). */
export function upgradeSipSocket(options: SocketOptions = {}): Promise<Response> {
  const address: Record<string, string> = options.remoteAddress === undefined ? {} : { 'CF-Connecting-IP': options.remoteAddress };
  return exports.default.fetch(`${EDGE}${options.path ?? '/sip'}`, {
    headers: { Upgrade: 'websocket', 'Sec-WebSocket-Protocol': 'sip', ...address },
  });
}
