/**
 * Realistic SIP messages for transaction and dialog tests: what SIP.js sends over WSS to the edge,
 * and what the edge and a PBX answer. Built from wire text and parsed, so every test exercises the
 * same message model as production.
 */
import { createResponse, parseMessage, serializeMessage } from '../../shared/message/index.ts';
import type { SipRequest, SipResponse } from '../../shared/message/message.ts';

export interface RequestSpec {
  readonly method?: string;
  readonly uri?: string;
  /** The whole top Via value; `branch` is appended unless the value already has one or it is `''`. */
  readonly via?: string;
  readonly branch?: string;
  readonly from?: string;
  readonly to?: string;
  readonly callId?: string;
  readonly cseq?: number;
  /** The CSeq method when it differs from the request method (never, for a well-formed request). */
  readonly cseqMethod?: string;
  /** Extra header lines, written after the standard ones: `['Route: <sip:p1;lr>']`. A Contact replaces the INVITE's default one. */
  readonly headers?: readonly string[];
  readonly body?: string;
}

export const ALICE_SDP = [
  'v=0',
  'o=- 4611731400430051337 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8',
  'c=IN IP4 0.0.0.0',
  'a=rtpmap:111 opus/48000/2',
  'a=sendrecv',
  '',
].join('\r\n');

/** A SIP.js-style request over WSS; an INVITE by default. */
export function request(spec: RequestSpec = {}): SipRequest {
  const method = spec.method ?? 'INVITE';
  const branch = spec.branch ?? 'z9hG4bK776asdhds';
  const via = spec.via ?? 'SIP/2.0/WSS df7jal23ls0d.invalid;rport';
  const body = spec.body ?? (method === 'INVITE' ? ALICE_SDP : '');
  const hasContact = (spec.headers ?? []).some((line) => /^(contact|m)\s*:/i.test(line));
  const lines = [
    `${method} ${spec.uri ?? 'sip:bob@pbx.example.com'} SIP/2.0`,
    via.includes('branch=') || branch === '' ? `Via: ${via}` : `Via: ${via};branch=${branch}`,
    'Max-Forwards: 70',
    `To: ${spec.to ?? '<sip:bob@pbx.example.com>'}`,
    `From: ${spec.from ?? '"Alice" <sip:alice@sipedge.example>;tag=1928301774'}`,
    `Call-ID: ${spec.callId ?? 'a84b4c76e66710@pc33.atlanta.example.com'}`,
    `CSeq: ${spec.cseq ?? 314159} ${spec.cseqMethod ?? method}`,
    ...(method === 'INVITE' && !hasContact ? ['Contact: <sip:k3l1@df7jal23ls0d.invalid;transport=ws;ob>'] : []),
    ...(spec.headers ?? []),
    ...(body.length > 0 ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${new TextEncoder().encode(body).length}`,
    '',
    body,
  ];
  return asRequest(parseMessage(lines.join('\r\n')));
}

export interface ResponseSpec {
  readonly toTag?: string;
  /** Extra header lines appended to the response: `['Contact: <sip:bob@10.0.0.2>']`. */
  readonly headers?: readonly string[];
  readonly body?: string;
}

/** The response a peer would send to `req`, round-tripped through wire text as if received. */
export function response(req: SipRequest, status: number, spec: ResponseSpec = {}): SipResponse {
  const headers = (spec.headers ?? []).map((line) => {
    const colon = line.indexOf(':');
    return { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() };
  });
  const built = createResponse(req, status, undefined, {
    ...(spec.toTag === undefined ? {} : { toTag: spec.toTag }),
    headers,
    ...(spec.body === undefined ? {} : { body: spec.body, contentType: 'application/sdp' }),
  });
  const parsed = parseMessage(serializeMessage(built));
  if (parsed.kind !== 'response') throw new TypeError('expected a response');
  return parsed;
}

export function asRequest(message: ReturnType<typeof parseMessage>): SipRequest {
  if (message.kind !== 'request') throw new TypeError('expected a request');
  return message;
}

export function asResponse(message: ReturnType<typeof parseMessage>): SipResponse {
  if (message.kind !== 'response') throw new TypeError('expected a response');
  return message;
}

/** Parses wire text a transaction asked to send, to look at what went out. */
export function sent(wire: string): ReturnType<typeof parseMessage> {
  return parseMessage(wire);
}
