/**
 * Frames SIP messages out of a TCP or TLS byte stream.
 *
 * RFC 3261 §18.3: on a stream, the end of a message is found from its Content-Length; the header
 * section ends at the first empty line (CRLFCRLF) and the body is exactly Content-Length octets.
 * RFC 3261 §7.5: CRLFs before a start-line are ignored; RFC 5626 §3.5.1 gives them meaning as
 * keep-alives, reported here so that the transport can answer pings and time pongs.
 *
 * One framer per connection. It owns a buffer of the octets that do not yet form a whole message,
 * remembers how far it has searched for the end of the header section, and so visits every octet
 * a constant number of times however the stream is cut into chunks.
 */

import { readContentLength } from './content-length.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, type FrameEvent, type FramingErrorReason } from './frame-event.ts';

export interface StreamFramerOptions {
  /** Largest message accepted, header section plus body, in octets; 64 KiB by default. */
  readonly maxMessageBytes?: number;
}

/**
 * ```
 *  between-messages --(first octet that is not a keep-alive CRLF)--> header
 *  header --(CRLFCRLF found, Content-Length valid and in bound)--> body
 *  body --(Content-Length octets received: emit the message)--> between-messages
 *  header --(missing or invalid Content-Length, or over the size bound)--> closed
 *  (the body's size is known, and checked, before the body phase starts)
 * ```
 */
type FramerPhase = 'between-messages' | 'header' | 'body' | 'closed';

const CR = 0x0d;
const LF = 0x0a;
const INITIAL_CAPACITY = 4096;

export class StreamFramer {
  readonly #maxMessageBytes: number;
  #phase: FramerPhase = 'between-messages';
  #buffer = new Uint8Array(INITIAL_CAPACITY);
  /** First octet not yet handed out; in `header` and `body` it is the first octet of the message. */
  #readAt = 0;
  /** One past the last octet received. */
  #writeAt = 0;
  /** In `header`: no CRLFCRLF starts before this offset, so the search resumes here. */
  #scanFrom = 0;
  /** In `body`: one past the last octet of the message. */
  #messageEnd = 0;
  /**
   * A lone CRLF ended the previous chunk. It was reported as a pong at once (a client timing its
   * ping must not wait for more octets), but it may be the first half of a ping cut in two; if a
   * CRLF follows, the ping is reported too so that it is answered. RFC 5626 §4.4.1 has clients send
   * pings and servers send pongs, so a flow carries one kind: the cost of guessing wrong is a
   * spurious pong report or one extra CRLF written back, never a lost ping.
   */
  #halfPingSeen = false;

  constructor(options: StreamFramerOptions = {}) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(max) || max <= 0) {
      throw new RangeError(`maxMessageBytes must be a positive integer, got ${String(max)}`);
    }
    this.#maxMessageBytes = max;
  }

  /** True after a fatal error: the caller must close the connection, and further octets are ignored. */
  get closed(): boolean {
    return this.#phase === 'closed';
  }

  /** Octets received that do not yet form a whole message or keep-alive. */
  get pendingBytes(): number {
    return this.#writeAt - this.#readAt;
  }

  /**
   * Adds the next chunk of the stream and returns what it completes, in stream order. After a fatal
   * error event the framer is closed and returns no more events.
   */
  push(chunk: Uint8Array): FrameEvent[] {
    if (this.#phase === 'closed') return [];
    this.#append(chunk);
    const events: FrameEvent[] = [];
    while (this.#step(events)) {
      // Each step consumes octets or changes phase; it reports false when it needs more input.
    }
    if (this.#readAt === this.#writeAt) this.#release();
    return events;
  }

  #step(events: FrameEvent[]): boolean {
    switch (this.#phase) {
      case 'between-messages':
        return this.#betweenMessages(events);
      case 'header':
        return this.#header(events);
      case 'body':
        return this.#body(events);
      case 'closed':
        return false;
    }
  }

  #betweenMessages(events: FrameEvent[]): boolean {
    const buffer = this.#buffer;
    const at = this.#readAt;
    const available = this.#writeAt - at;
    if (available === 0) return false;
    const isCrlfAt = (offset: number): boolean => buffer[at + offset] === CR && buffer[at + offset + 1] === LF;

    if (this.#halfPingSeen) {
      if (available < 2 && buffer[at] === CR) return false;
      this.#halfPingSeen = false;
      if (isCrlfAt(0)) {
        this.#readAt += 2;
        events.push({ kind: 'keepalive', ping: true });
      }
      return true;
    }

    // Anything but CRLF starts a message; a bad start-line is the parser's to refuse, not the framer's.
    if (buffer[at] !== CR) return this.#startMessage();
    if (available < 2) return false;
    if (buffer[at + 1] !== LF) return this.#startMessage();
    // RFC 5626 §4.4.1: a ping is a double CRLF, a pong a single one.
    if (available >= 4 && isCrlfAt(2)) {
      this.#readAt += 4;
      events.push({ kind: 'keepalive', ping: true });
      return true;
    }
    if (available === 3 && buffer[at + 2] === CR) return false;
    this.#readAt += 2;
    this.#halfPingSeen = available === 2;
    events.push({ kind: 'keepalive', ping: false });
    return true;
  }

  #startMessage(): boolean {
    this.#phase = 'header';
    this.#scanFrom = this.#readAt;
    return true;
  }

  #header(events: FrameEvent[]): boolean {
    const start = this.#readAt;
    const headerEnd = this.#findEmptyLine();
    if (headerEnd === -1) {
      // The CRLFCRLF may straddle this chunk and the next: keep its first three octets in range.
      this.#scanFrom = Math.max(start, this.#writeAt - 3);
      if (this.#writeAt - start > this.#maxMessageBytes) return this.#fail(events, 'message-too-large');
      return false;
    }
    const bodyStart = headerEnd + 4;
    if (bodyStart - start > this.#maxMessageBytes) return this.#fail(events, 'message-too-large');
    // RFC 3261 §18.3: on a stream, Content-Length MUST be present; without a valid one the
    // message boundary is unknown and the connection cannot be used any further.
    const contentLength = readContentLength(this.#buffer, start, headerEnd);
    if (!contentLength.ok) return this.#fail(events, contentLength.reason);
    const messageEnd = bodyStart + contentLength.length;
    if (messageEnd - start > this.#maxMessageBytes) return this.#fail(events, 'message-too-large');
    this.#messageEnd = messageEnd;
    this.#phase = 'body';
    return true;
  }

  #body(events: FrameEvent[]): boolean {
    if (this.#writeAt < this.#messageEnd) return false;
    // A copy, not a view: the buffer is reused for the octets that follow.
    events.push({ kind: 'message', bytes: this.#buffer.slice(this.#readAt, this.#messageEnd) });
    this.#readAt = this.#messageEnd;
    this.#phase = 'between-messages';
    return true;
  }

  /** The offset of the CR that starts the first CRLFCRLF at or after `#scanFrom`, or -1. */
  #findEmptyLine(): number {
    // Bounded to the octets received: past them lies spare capacity, and searching it on every
    // push would make trickled input quadratic.
    const received = this.#buffer.subarray(0, this.#writeAt);
    // Look for the final LF of CR LF CR LF; its three predecessors are checked in place.
    let lf = received.indexOf(LF, this.#scanFrom + 3);
    while (lf !== -1) {
      if (received[lf - 1] === CR && received[lf - 2] === LF && received[lf - 3] === CR) return lf - 3;
      lf = received.indexOf(LF, lf + 1);
    }
    return -1;
  }

  #fail(events: FrameEvent[], reason: FramingErrorReason): boolean {
    events.push({ kind: 'error', reason, fatal: true });
    this.#phase = 'closed';
    this.#buffer = new Uint8Array(0);
    this.#readAt = 0;
    this.#writeAt = 0;
    return false;
  }

  #append(chunk: Uint8Array): void {
    if (this.#writeAt + chunk.length > this.#buffer.length) this.#makeRoom(chunk.length);
    this.#buffer.set(chunk, this.#writeAt);
    this.#writeAt += chunk.length;
  }

  /**
   * Moves the pending octets to the front when they fill at most half the buffer, and otherwise
   * doubles it. Either way a copy of k octets buys room for at least k more, so each octet is
   * copied a bounded number of times on average, whatever the chunk sizes.
   */
  #makeRoom(incoming: number): void {
    const pending = this.#writeAt - this.#readAt;
    const needed = pending + incoming;
    const shift = this.#readAt;
    if (needed <= this.#buffer.length / 2) {
      this.#buffer.copyWithin(0, this.#readAt, this.#writeAt);
    } else {
      const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2));
      grown.set(this.#buffer.subarray(this.#readAt, this.#writeAt));
      this.#buffer = grown;
    }
    this.#readAt = 0;
    this.#writeAt = pending;
    this.#scanFrom = Math.max(0, this.#scanFrom - shift);
    this.#messageEnd = Math.max(0, this.#messageEnd - shift);
  }

  /** Nothing is pending: start the buffer over, and give back memory a burst made it take. */
  #release(): void {
    this.#readAt = 0;
    this.#writeAt = 0;
    if (this.#buffer.length > 4 * INITIAL_CAPACITY && this.#buffer.length > this.#maxMessageBytes) {
      this.#buffer = new Uint8Array(INITIAL_CAPACITY);
    }
  }
}
