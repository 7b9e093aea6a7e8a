/**
 * The edge's side of the SIP gateway for tests: Node's own WebSocket client (undici, an
 * implementation independent of the gateway's), the upgrade request signed as the edge signs it,
 * frames queued until a test takes them. Every wait has a deadline.
 */
import { RequestSigner, newNonce } from '../../../media-node/signing/index.ts';
import type { GatewayFrame } from '../../../media-node/sip-gateway/index.ts';

export interface GatewayClient {
  send(frame: unknown): void;
  /** The next frame not yet taken (optionally of a type, skipping others), or a rejection after `timeoutMs`. */
  next<T extends GatewayFrame['type']>(type?: T, timeoutMs?: number): Promise<Extract<GatewayFrame, { type: T }>>;
  /** Frames received and not yet taken. */
  readonly queued: readonly GatewayFrame[];
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>;
  close(): void;
}

export async function connectGateway(baseUrl: string, secret: string, linkId: string): Promise<GatewayClient> {
  const path = `/v1/sip-gateway/links/${linkId}`;
  const headers = await new RequestSigner(secret).sign({ method: 'GET', path, body: '' }, Date.now(), newNonce());
  const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${path}`, { headers } as never);
  const inbox: GatewayFrame[] = [];
  const waiters: Array<() => void> = [];
  socket.addEventListener('message', (event) => {
    inbox.push(JSON.parse(String(event.data)) as GatewayFrame);
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason })));
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve());
    socket.addEventListener('error', () => reject(new Error(`the gateway refused the WebSocket for ${linkId}`)));
  });
  return {
    send: (frame) => socket.send(JSON.stringify(frame)),
    next: async (type, timeoutMs = 10_000) => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const index = inbox.findIndex((frame) => type === undefined || frame.type === type);
        if (index >= 0) return inbox.splice(index, 1)[0] as never;
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`no ${type ?? 'frame'} from the gateway within ${timeoutMs} ms (have: ${JSON.stringify(inbox)})`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    get queued() {
      return inbox;
    },
    closed,
    close: () => socket.close(1000),
  };
}
