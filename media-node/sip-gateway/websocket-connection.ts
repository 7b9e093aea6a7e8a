/**
 * The server side of one WebSocket connection (RFC 6455), enough for the SIP gateway's JSON text
 * frames: the opening handshake (§4.2.2), framing with client masking required (§5.1, §5.3),
 * fragmented messages (§5.4), ping/pong (§5.5.2, §5.5.3) and the closing handshake (§5.5.1).
 * With `keepAlive` the server pings on its own, so a peer that vanished without closing (a dead
 * TCP connection, which neither side may notice for a long time) is dropped.
 * Frames from a client that break the protocol close the connection with 1002; a message over the
 * size limit with 1009 (§7.4.1).
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

export interface WebSocketHandlers {
  onText(text: string): void;
  /** Once, however the connection ended; `code` is the peer's close code, or 1006 for a lost connection. */
  onClose(code: number, reason: string): void;
}

/** Why an upgrade request is not a WebSocket opening handshake, or undefined if it is one. */
export function handshakeProblem(request: IncomingMessage): string | undefined {
  if (request.method !== 'GET') return 'a WebSocket upgrade is a GET';
  if (!/\bwebsocket\b/i.test(request.headers.upgrade ?? '')) return 'Upgrade: websocket is missing';
  if (request.headers['sec-websocket-version'] !== '13') return 'Sec-WebSocket-Version must be 13';
  const key = request.headers['sec-websocket-key'];
  if (typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16) return 'Sec-WebSocket-Key must be 16 octets in base64';
  return undefined;
}

export class WebSocketConnection {
  readonly #socket: Duplex;
  readonly #maxMessageOctets: number;
  #handlers: WebSocketHandlers | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #fragments: Buffer[] = [];
  #fragmentOpcode = 0;
  #fragmentOctets = 0;
  #closed = false;
  #closeSent = false;
  #pinger: ReturnType<typeof setInterval> | undefined;
  #pings = 0;
  #awaitingPong = false;
  #unanswered = 0;

  /** Completes the handshake of a request `handshakeProblem` accepted, on its socket. */
  constructor(request: IncomingMessage, socket: Duplex, head: Buffer, maxMessageOctets = 256 * 1024) {
    this.#socket = socket;
    this.#maxMessageOctets = maxMessageOctets;
    const accept = createHash('sha1')
      .update(`${String(request.headers['sec-websocket-key'])}${GUID}`)
      .digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('close', () => this.#ended(1006, 'connection lost'));
    socket.on('error', () => socket.destroy());
    if (head.length > 0) this.#buffer = Buffer.from(head);
  }

  /** Starts delivering messages (those that arrived before are delivered now). */
  attach(handlers: WebSocketHandlers): void {
    this.#handlers = handlers;
    this.#receive(Buffer.alloc(0));
  }

  /**
   * Pings the peer every `intervalMs` (RFC 6455 §5.5.2). After `unansweredAllowed` pings in a row
   * without a pong the peer is taken for gone: the connection is dropped without a closing
   * handshake (nobody would answer it) and `onClose` hears 1006.
   */
  keepAlive(intervalMs: number, unansweredAllowed = 3): void {
    if (this.#pinger !== undefined || this.#closed) return;
    this.#pinger = setInterval(() => this.#ping(unansweredAllowed), intervalMs);
    this.#pinger.unref();
  }

  get open(): boolean {
    return !this.#closed && !this.#closeSent;
  }

  sendText(text: string): void {
    if (!this.open) return;
    this.#socket.write(frame(OPCODE.text, Buffer.from(text, 'utf8')));
  }

  /** Starts the closing handshake; the socket ends once the peer answers (or at once if it is gone). */
  close(code: number, reason: string): void {
    if (this.#closed || this.#closeSent) return;
    this.#closeSent = true;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.#socket.end(frame(OPCODE.close, payload));
    this.#ended(code, reason);
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    if (chunk.length > 0) this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (this.#handlers === undefined) return;
    for (;;) {
      const parsed = readFrame(this.#buffer);
      if (parsed === 'incomplete') return;
      if (typeof parsed === 'string') {
        this.close(1002, parsed);
        return;
      }
      this.#buffer = this.#buffer.subarray(parsed.octets);
      this.#frame(parsed.fin, parsed.opcode, parsed.payload);
      if (this.#closed) return;
    }
  }

  #ping(unansweredAllowed: number): void {
    if (!this.open) return;
    if (this.#awaitingPong) {
      this.#unanswered++;
      if (this.#unanswered >= unansweredAllowed) {
        this.#socket.destroy();
        this.#ended(1006, `no pong to ${this.#unanswered} pings`);
        return;
      }
    }
    this.#awaitingPong = true;
    this.#socket.write(frame(OPCODE.ping, Buffer.from(String(++this.#pings))));
  }

  #frame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OPCODE.ping:
        if (this.open) this.#socket.write(frame(OPCODE.pong, payload));
        return;
      case OPCODE.pong:
        // Any pong will do (§5.5.3: one may also come unasked, as a heartbeat).
        this.#awaitingPong = false;
        this.#unanswered = 0;
        return;
      case OPCODE.close: {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        if (!this.#closeSent) {
          this.#closeSent = true;
          this.#socket.end(frame(OPCODE.close, payload.subarray(0, 2)));
        }
        this.#ended(code, payload.subarray(2).toString('utf8'));
        return;
      }
      case OPCODE.text:
      case OPCODE.binary:
      case OPCODE.continuation: {
        if ((opcode === OPCODE.continuation) !== this.#fragments.length > 0) {
          this.close(1002, opcode === OPCODE.continuation ? 'continuation without a message' : 'new message inside a fragmented one');
          return;
        }
        if (opcode !== OPCODE.continuation) this.#fragmentOpcode = opcode;
        this.#fragmentOctets += payload.length;
        if (this.#fragmentOctets > this.#maxMessageOctets) {
          this.close(1009, `messages are limited to ${this.#maxMessageOctets} octets`);
          return;
        }
        this.#fragments.push(payload);
        if (!fin) return;
        const message = Buffer.concat(this.#fragments);
        const wasText = this.#fragmentOpcode === OPCODE.text;
        this.#fragments = [];
        this.#fragmentOctets = 0;
        if (!wasText) {
          this.close(1003, 'this endpoint takes text frames only');
          return;
        }
        this.#handlers?.onText(message.toString('utf8'));
        return;
      }
      default:
        this.close(1002, `unknown opcode ${opcode}`);
    }
  }

  #ended(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pinger !== undefined) clearInterval(this.#pinger);
    this.#handlers?.onClose(code, reason);
  }
}

type Frame = { readonly fin: boolean; readonly opcode: number; readonly payload: Buffer; readonly octets: number };

/** One client frame at the start of `buffer`, unmasked; 'incomplete', or why it breaks RFC 6455. */
function readFrame(buffer: Buffer): Frame | 'incomplete' | string {
  if (buffer.length < 2) return 'incomplete';
  const first = buffer[0] as number;
  const second = buffer[1] as number;
  if ((first & 0x70) !== 0) return 'reserved bits set without an extension';
  if ((second & 0x80) === 0) return 'client frames must be masked';
  const opcode = first & 0x0f;
  let length = second & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return 'incomplete';
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return 'incomplete';
    const long = buffer.readBigUInt64BE(2);
    if (long > BigInt(Number.MAX_SAFE_INTEGER)) return 'frame too long';
    length = Number(long);
    offset = 10;
  }
  if (opcode >= 0x8 && (length > 125 || (first & 0x80) === 0)) return 'control frames are short and unfragmented';
  if (buffer.length < offset + 4 + length) return 'incomplete';
  const mask = buffer.subarray(offset, offset + 4);
  const payload = Buffer.from(buffer.subarray(offset + 4, offset + 4 + length));
  for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return { fin: (first & 0x80) !== 0, opcode, payload, octets: offset + 4 + length };
}

/** A server frame: final, unmasked. */
function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const headerOctets = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = Buffer.alloc(headerOctets + length);
  out[0] = 0x80 | opcode;
  if (length < 126) out[1] = length;
  else if (length < 65536) {
    out[1] = 126;
    out.writeUInt16BE(length, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(out, headerOctets);
  return out;
}
