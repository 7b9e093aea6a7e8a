/**
 * What a SipConnection does with one WebSocket message, decided without I/O: answer a keep-alive,
 * answer a broken request itself, drop what cannot be answered, or name the address a message is
 * routed by; then, once the served domain that address names is known (`routeAddressed`), answer
 * an unroutable one or hand it to the SipUser object of its address-of-record.
 *
 * Routing, by address-of-record (`user@domain`, the domain being the served domain whose name or
 * alias the address's host is, `workers/domains/`):
 * - REGISTER goes to the AOR in its To (RFC 3261 §10.2.1: To names the AOR being registered);
 * - any other request goes to the AOR in its From: the sender's own object, which owns its calls
 *   (the edge is a B2BUA, so every leg is a dialog of one user's object);
 * - a response goes to the AOR in its To: a request the edge sends to a device is sent by the
 *   object of the user that device belongs to, so the answer returns there.
 */
import { classifyWebSocketFrame, DEFAULT_MAX_MESSAGE_BYTES } from '../../shared/framing/index.ts';
import {
  SipParseError,
  checkRequest,
  createResponse,
  getFrom,
  getTo,
  parseMessage,
  parseMessageBytes,
  type HeaderField,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../shared/message/index.ts';
import { parseUri, type Uri } from '../../shared/grammar/index.ts';
import { readTempGruuUri } from '../registrar/gruu.ts';
import { aorOf } from '../sip/address-of-record.ts';
import { EDGE_ALLOW } from '../sip/edge-methods.ts';
import { randomTag, reasonFromDetail } from '../sip/wire.ts';

export type InboundAction =
  /** RFC 5626 §4.4.1: a double-CRLF ping, answered with a single CRLF. */
  | { readonly kind: 'pong' }
  /** A single-CRLF pong: proof of life, nothing to answer. */
  | { readonly kind: 'ignore' }
  /** A response built here, for a request that cannot go further. */
  | { readonly kind: 'answer'; readonly response: SipResponse; readonly event: string; readonly detail: string }
  /** Nothing can be answered (a response, or bytes that are not a request): record and forget. */
  | { readonly kind: 'drop'; readonly event: string; readonly detail: string }
  /** A message routed by `address` (To of a REGISTER or a response, From otherwise): `routeAddressed` says where. */
  | Addressed;

export type Addressed =
  | { readonly kind: 'request'; readonly request: SipRequest; readonly address: Uri }
  | { readonly kind: 'response'; readonly response: SipResponse; readonly address: Uri };

export type RoutedAction =
  | Extract<InboundAction, { readonly kind: 'answer' | 'drop' }>
  | { readonly kind: 'request'; readonly request: SipRequest; readonly aor: string }
  | { readonly kind: 'response'; readonly response: SipResponse; readonly aor: string };

/** A served domain, as routing sees it: its name and aliases, lower case (`DomainRecord` is one). */
export interface DomainNames {
  readonly name: string;
  readonly aliases: readonly string[];
}

export interface InboundOptions {
  /** Largest message accepted, in octets; default 64 KiB. */
  readonly maxBytes?: number;
  /** SIPEDGE_NONCE_SECRET: a From or To that is a temporary GRUU of this edge routes to its user (RFC 5627). */
  readonly nonceSecret?: string;
}

export function readInboundFrame(data: string | ArrayBuffer | Uint8Array, options: InboundOptions): InboundAction {
  const limit = options.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const frame = classifyWebSocketFrame(data, limit);
  switch (frame.kind) {
    case 'keepalive':
      return frame.ping ? { kind: 'pong' } : { kind: 'ignore' };
    case 'error':
      if (frame.reason === 'message-too-large') return answerTooLarge(data, limit);
      return { kind: 'drop', event: 'sip.frame.dropped', detail: frame.reason };
    case 'message':
      return readMessage(frame.bytes, options);
  }
}

function readMessage(bytes: Uint8Array, options: InboundOptions): InboundAction {
  let message: SipMessage;
  try {
    message = parseMessageBytes(bytes);
  } catch (error) {
    if (!(error instanceof SipParseError)) throw error;
    // RFC 3261 §21.4.1: 400 naming the problem, when enough parsed to address an answer at all.
    if (error.response !== undefined && error.partial?.kind === 'request' && error.partial.method !== 'ACK') {
      return answer(error.partial, error.response, error.reason, 'sip.request.malformed');
    }
    // RFC 3261 §18.1.2: a malformed response is dropped; so is anything without a start line.
    return { kind: 'drop', event: 'sip.message.unparsable', detail: error.reason };
  }
  return message.kind === 'request' ? readRequest(message) : readResponse(message);
}

function readRequest(request: SipRequest): InboundAction {
  // The edge is the first hop: it checks what every proxy checks (RFC 3261 §16.3) before relaying.
  const rejection = checkRequest(request, { role: 'proxy' });
  if (rejection) {
    if (request.method === 'ACK') return { kind: 'drop', event: 'sip.ack.rejected', detail: rejection.detail };
    const reason = rejection.status === 400 ? rejection.detail : undefined;
    return answer(request, rejection.status, reason ?? rejection.reason, 'sip.request.rejected', rejection.headers, rejection.detail);
  }
  if (request.method === 'OPTIONS' && addressesTheEdge(request.uri)) {
    // RFC 3261 §11.2: an OPTIONS to the domain itself (no user) is a capabilities query or a
    // keep-alive; the edge answers it here rather than waking a user's object.
    const response = createResponse(request, 200, undefined, { toTag: randomTag(), headers: [{ name: 'Allow', value: EDGE_ALLOW }] });
    return { kind: 'answer', response, event: 'sip.options.answered', detail: request.uri };
  }
  const isRegister = request.method === 'REGISTER';
  const address = isRegister ? getTo(request) : getFrom(request);
  if (address === undefined) return answer(request, 400, `missing ${isRegister ? 'To' : 'From'}`, 'sip.request.rejected');
  return { kind: 'request', request, address: address.uri };
}

/**
 * Where an addressed message goes, `domain` being the served domain whose name or alias its
 * address's host is (undefined when none is).
 */
export function routeAddressed(action: Addressed, domain: DomainNames | undefined, options: InboundOptions): RoutedAction {
  if (action.kind === 'response') {
    const target = routeOf(action.address, domain, options);
    if (!target.ok) return { kind: 'drop', event: 'sip.response.unroutable', detail: target.detail };
    return { kind: 'response', response: action.response, aor: target.aor };
  }
  const { request } = action;
  const isRegister = request.method === 'REGISTER';
  const target = routeOf(action.address, domain, options);
  if (!target.ok) {
    if (request.method === 'ACK') return { kind: 'drop', event: 'sip.ack.unroutable', detail: target.detail };
    if (target.reason === 'foreign-domain') {
      // A REGISTER for another domain is not ours to store (RFC 3261 §10.3 step 1); a request from
      // a user of another domain did not come from one of our clients.
      return answer(request, isRegister ? 404 : 403, isRegister ? 'Domain Not Served Here' : 'Forbidden', 'sip.request.foreign', [], target.detail);
    }
    return answer(request, 400, `${isRegister ? 'To' : 'From'}: ${target.detail}`, 'sip.request.rejected');
  }
  return { kind: 'request', request, aor: target.aor };
}

/**
 * The AOR a From or To names: its user in `domain`, or, for a temporary GRUU (a device's own From
 * in a call placed to one, the To of that device's answers), the user it stands for
 * (`workers/registrar/gruu.ts`).
 */
function routeOf(uri: Uri, domain: DomainNames | undefined, options: InboundOptions): ReturnType<typeof aorOf> {
  const temp = options.nonceSecret === undefined ? undefined : readTempGruuUri(uri, options.nonceSecret);
  if (temp === undefined) {
    if (domain === undefined && uri.kind === 'sip' && uri.user !== undefined && uri.user !== '') {
      return { ok: false, reason: 'foreign-domain', detail: `${uri.host.toLowerCase()} is no domain served here` };
    }
    return aorOf(uri, domain?.name ?? '', domain?.aliases);
  }
  const at = temp.aor.lastIndexOf('@');
  return { ok: true, aor: temp.aor, user: temp.aor.slice(0, at) };
}

function addressesTheEdge(requestUri: string): boolean {
  try {
    const uri = parseUri(requestUri);
    return uri.kind === 'sip' && uri.user === undefined;
  } catch {
    return false;
  }
}

function readResponse(response: SipResponse): InboundAction {
  const to = getTo(response);
  if (to === undefined) return { kind: 'drop', event: 'sip.response.unroutable', detail: 'no To' };
  return { kind: 'response', response, address: to.uri };
}

function answer(
  request: SipRequest,
  status: number,
  reason: string,
  event: string,
  headers: readonly HeaderField[] = [],
  detail: string = reason,
): Extract<InboundAction, { readonly kind: 'answer' }> {
  const response = createResponse(request, status, reasonFromDetail(reason), { toTag: randomTag(), headers });
  return { kind: 'answer', response, event, detail };
}

/**
 * RFC 3261 §21.5.14: 513 Message Too Large, when the header section fits in the limit and reads
 * as a request; otherwise the message is dropped unread (parsing 64 KiB of junk buys nothing).
 */
function answerTooLarge(data: string | ArrayBuffer | Uint8Array, limit: number): InboundAction {
  const head = headOf(data, limit);
  const detail = `message larger than ${limit} octets`;
  if (head === undefined) return { kind: 'drop', event: 'sip.frame.too-large', detail };
  let request: SipRequest | undefined;
  try {
    const message = parseMessage(head);
    if (message.kind === 'request') request = message;
  } catch (error) {
    if (!(error instanceof SipParseError)) throw error;
    // The body was cut off on purpose, so "Content-Length exceeds what was received" is expected.
    if (error.partial?.kind === 'request') request = error.partial;
  }
  if (request === undefined || request.method === 'ACK') return { kind: 'drop', event: 'sip.frame.too-large', detail };
  return answer(request, 513, 'Message Too Large', 'sip.frame.too-large', [], detail);
}

/** The header section (with its empty line) when it ends within the first `limit` octets. */
function headOf(data: string | ArrayBuffer | Uint8Array, limit: number): string | undefined {
  const text = typeof data === 'string'
    ? data.slice(0, limit)
    : new TextDecoder('utf-8', { fatal: false, ignoreBOM: false }).decode((data instanceof Uint8Array ? data : new Uint8Array(data)).subarray(0, limit));
  const end = text.indexOf('\r\n\r\n');
  return end < 0 ? undefined : text.slice(0, end + 4);
}
