/**
 * A JsSIP socket (JsSIP's `Socket` interface, as its own WebSocketInterface implements it) over
 * Node 22's WebSocket, which reports a connection that cannot be made the way browsers do.
 *
 * The WebSocket standard fails a connection with `error` and then `close`. Node 22's WebSocket
 * fires `error` only and stays CONNECTING. JsSIP recovers on `close` and starts no attempt while
 * one is connecting, so with its own interface, an attempt made while the server is down (a
 * redeploy) is waited on forever and the phone never registers again. Here an `error` before the
 * socket opened is that failed connection: it is reported as a disconnect, and JsSIP retries.
 */
import type { Socket } from 'jssip/lib/Socket';

export class NodeJsSipSocket implements Socket {
  readonly url: string;
  readonly sip_uri: string;
  via_transport: string;
  onconnect: () => void = () => {};
  ondisconnect: (error: boolean, code?: number, reason?: string) => void = () => {};
  ondata: <T>(event: T) => void = () => {};
  #ws: WebSocket | undefined;

  constructor(url: string) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new TypeError(`not a WebSocket URL: ${url}`);
    this.url = url;
    this.sip_uri = `sip:${parsed.host};transport=ws`;
    this.via_transport = parsed.protocol === 'wss:' ? 'WSS' : 'WS';
  }

  connect(): void {
    if (this.#ws !== undefined) this.disconnect();
    const ws = new WebSocket(this.url, 'sip');
    ws.binaryType = 'arraybuffer';
    let opened = false;
    let reported = false;
    const report = (clean: boolean, code?: number, reason?: string): void => {
      if (reported || this.#ws !== ws) return;
      reported = true;
      this.#ws = undefined;
      this.ondisconnect(!clean, code, reason);
    };
    ws.addEventListener('open', () => {
      opened = true;
      this.onconnect();
    });
    ws.addEventListener('message', (event) => this.ondata(event.data));
    ws.addEventListener('close', (event) => report(event.wasClean, event.code, event.reason));
    ws.addEventListener('error', () => {
      if (!opened) report(false, 1006, 'connection failed');
    });
    this.#ws = ws;
  }

  disconnect(): void {
    const ws = this.#ws;
    this.#ws = undefined;
    ws?.close();
  }

  /** JsSIP hands its messages over as text (RFC 7118 §5: text frames). */
  send(message: string | ArrayBufferLike | Blob | ArrayBufferView): boolean {
    if (this.#ws?.readyState !== WebSocket.OPEN || typeof message !== 'string') return false;
    this.#ws.send(message);
    return true;
  }

  isConnected(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  isConnecting(): boolean {
    return this.#ws?.readyState === WebSocket.CONNECTING;
  }
}
