/**
 * Framing: where each SIP message starts and ends on a transport, before any parsing.
 * Stream transports frame by Content-Length (RFC 3261 §18.3); WebSocket by its own messages (RFC 7118 §5).
 */

export {
  DEFAULT_MAX_MESSAGE_BYTES,
  KEEPALIVE_PING,
  KEEPALIVE_PONG,
  type FrameEvent,
  type FramingError,
  type FramingErrorReason,
  type KeepaliveFrame,
  type MessageFrame,
} from './frame-event.ts';
export { CONTENT_LENGTH_CLAMP, readContentLength, type ContentLengthResult } from './content-length.ts';
export { StreamFramer, type StreamFramerOptions } from './stream-framer.ts';
export { classifyWebSocketFrame } from './websocket-frame.ts';
