/**
 * What a transport learns from the bytes it receives, before any SIP parsing.
 *
 * Framing answers one question: where does each SIP message start and end? Stream transports
 * (TCP, TLS) answer it with Content-Length (RFC 3261 §18.3); WebSocket answers it with its own
 * message boundaries (RFC 7118 §5). Both carry RFC 5626 keep-alives between messages.
 */

/**
 * Why bytes could not be framed.
 *
 * - `missing-content-length`: a stream message without Content-Length (RFC 3261 §18.3: it MUST be
 *   present on a stream, and without it the end of the message cannot be found).
 * - `invalid-content-length`: not a non-negative decimal, or several Content-Length fields that disagree.
 * - `message-too-large`: the message (header section plus body) exceeds the configured bound.
 * - `empty`: a WebSocket message with nothing in it but whitespace that is not a keep-alive.
 * - `not-utf8`: a binary WebSocket message whose octets are not UTF-8, so not a SIP message.
 */
export type FramingErrorReason =
  | 'missing-content-length'
  | 'invalid-content-length'
  | 'message-too-large'
  | 'empty'
  | 'not-utf8';

/** One complete SIP message, exactly as received: start-line, headers, CRLF and body octets. */
export interface MessageFrame {
  readonly kind: 'message';
  readonly bytes: Uint8Array;
}

/**
 * An RFC 5626 keep-alive. `ping: true` is a double CRLF, which the receiver answers with a single
 * CRLF (RFC 5626 §4.4.1); `ping: false` is that single-CRLF pong, which only proves the peer is alive.
 */
export interface KeepaliveFrame {
  readonly kind: 'keepalive';
  readonly ping: boolean;
}

/**
 * Bytes that cannot be framed. `fatal` means the connection must be closed: on a stream the next
 * message boundary is lost for good (RFC 3261 §18.3). A WebSocket keeps its boundaries, so its
 * errors only drop the one message.
 */
export interface FramingError {
  readonly kind: 'error';
  readonly reason: FramingErrorReason;
  readonly fatal: boolean;
}

export type FrameEvent = MessageFrame | KeepaliveFrame | FramingError;

/** 64 KiB: far above any real SIP message (a full WebRTC offer is ~6 KiB), far below abuse. */
export const DEFAULT_MAX_MESSAGE_BYTES = 65_536;

/** The pong a receiver writes back for every `{ kind: 'keepalive', ping: true }` (RFC 5626 §4.4.1). */
export const KEEPALIVE_PONG = '\r\n';

/** The ping a client writes to probe its flow (RFC 5626 §4.4.1). */
export const KEEPALIVE_PING = '\r\n\r\n';
