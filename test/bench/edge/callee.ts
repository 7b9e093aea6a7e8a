/**
 * The smallest honest callee for the call bench: one registered SIP-over-WebSocket user agent, run
 * as its own process (`node test/bench/edge/callee.ts --url ... --domain ... --user ... --password ...`).
 *
 * The rig's load generator can place calls but answers every INVITE it receives with 486, so it
 * cannot play the called browser. This callee does what a browser softphone set to auto-answer does,
 * built on Node 22's global WebSocket and the project's `shared/` SIP stack:
 * - opens `--url` with the `sip` subprotocol and REGISTERs (401 answered with digest);
 * - answers a new INVITE at once with 180 then 200 carrying a WebRTC-shaped SDP answer (ICE, DTLS
 *   fingerprint, `setup:active`, opus, a host candidate on a local UDP socket that absorbs ICE
 *   checks), copying Record-Route as RFC 3261 §12.1.1 requires; a re-INVITE gets 200 with the same;
 * - answers BYE, CANCEL, OPTIONS, MESSAGE, UPDATE, INFO with 200; ignores ACK (counted).
 * It does not retransmit its 2xx (the transport is reliable and the bench reads the caller's
 * latency, not the callee's).
 *
 * Prints `READY {json}` once registered. On SIGTERM (or SIGINT) it unregisters nothing (the target is
 * stopped after the bench) and prints one JSON line of counts, then exits.
 */
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { answerChallenge, createDigestClientState } from '../../../shared/auth/index.ts';
import {
  createResponse,
  getCSeq,
  getHeader,
  getHeaderFields,
  getHeaders,
  getTo,
  parseMessage,
  serializeMessage,
  type HeaderField,
  type SipRequest,
  type SipResponse,
} from '../../../shared/message/index.ts';
import { generateBranch } from '../../../shared/transaction/index.ts';
import * as sdp from '../../../shared/sdp/index.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    domain: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    'timeout-ms': { type: 'string', default: '10000' },
  },
});
const url = values.url;
const domain = values.domain;
const user = values.user;
const password = values.password;
if (url === undefined || domain === undefined || user === undefined || password === undefined) {
  process.stderr.write('usage: node callee.ts --url WS_URL --domain DOMAIN --user USER --password PASSWORD\n');
  process.exit(2);
}
const timeoutMs = Number(values['timeout-ms']);

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const viaHost = `${hex(6)}.invalid`;
const viaProto = url.startsWith('wss:') ? 'WSS' : 'WS';
const contact = `<sip:${hex(4)}@${viaHost};transport=ws>`;
const fingerprint = { hash: 'sha-256', value: (randomBytes(32).toString('hex').toUpperCase().match(/../g) ?? []).join(':') };
const ice = { ufrag: hex(4), pwd: randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, 'x') };

const counts = { invites: 0, reinvites: 0, answered: 0, acks: 0, byes: 0, cancels: 0, other: 0, unparsable: 0, sendErrors: 0 };
/** Call-ID -> the To tag this callee gave the call; a retransmitted INVITE gets the same answer. */
const calls = new Map<string, string>();

// ICE checks from a media relay (rtpengine) land here and are dropped.
const sink = createSocket('udp4');
sink.on('message', () => undefined);
await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
const sinkPort = sink.address().port;

const socket = new WebSocket(url, 'sip');
await new Promise<void>((resolve, reject) => {
  socket.addEventListener('open', () => (socket.protocol === 'sip' ? resolve() : reject(new Error(`subprotocol "${socket.protocol}"`))), { once: true });
  socket.addEventListener('error', () => reject(new Error(`WebSocket to ${url} failed`)), { once: true });
});
socket.addEventListener('close', () => {
  process.stderr.write('callee: WebSocket closed\n');
});

function send(text: string): void {
  try {
    socket.send(text);
  } catch {
    counts.sendErrors += 1;
  }
}

let awaiting: ((response: SipResponse) => void) | undefined;

socket.addEventListener('message', (event: MessageEvent) => {
  const text = typeof event.data === 'string' ? event.data : '';
  if (text.trim() === '') return; // CRLF keepalive
  let message;
  try {
    message = parseMessage(text);
  } catch {
    counts.unparsable += 1;
    return;
  }
  if (message.kind === 'response') {
    if (message.status >= 200 && getCSeq(message)?.method === 'REGISTER') awaiting?.(message);
    return;
  }
  onRequest(message);
});

// ---------------------------------------------------------------- REGISTER

let cseq = 0;
const callId = `${hex(10)}@${viaHost}`;
const fromTag = hex(5);
const aor = `sip:${user}@${domain}`;
const registrar = `sip:${domain}`;

function registerRequest(credentials: string | undefined): string {
  cseq += 1;
  const request: SipRequest = {
    kind: 'request',
    method: 'REGISTER',
    uri: registrar,
    version: 'SIP/2.0',
    headers: [
      { name: 'Via', value: `SIP/2.0/${viaProto} ${viaHost};branch=${generateBranch()}` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'To', value: `<${aor}>` },
      { name: 'From', value: `<${aor}>;tag=${fromTag}` },
      { name: 'Call-ID', value: callId },
      { name: 'CSeq', value: `${cseq} REGISTER` },
      { name: 'Contact', value: `${contact};expires=3600` },
      { name: 'Expires', value: '3600' },
      { name: 'Allow', value: 'INVITE,ACK,CANCEL,BYE,OPTIONS,MESSAGE,UPDATE,INFO' },
      { name: 'Supported', value: 'path' },
      ...(credentials === undefined ? [] : [{ name: 'Authorization', value: credentials }]),
      { name: 'User-Agent', value: 'sipedge-bench-callee' },
      { name: 'Content-Length', value: '0' },
    ],
    body: new Uint8Array(0),
  };
  return serializeMessage(request);
}

function nextRegisterResponse(): Promise<SipResponse> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('REGISTER timed out')), timeoutMs);
    awaiting = (response) => {
      clearTimeout(timer);
      awaiting = undefined;
      resolve(response);
    };
  });
}

let pending = nextRegisterResponse();
send(registerRequest(undefined));
let response = await pending;
if (response.status === 401) {
  const answer = answerChallenge({
    challenges: getHeaders(response, 'WWW-Authenticate'),
    account: { username: user, password },
    method: 'REGISTER',
    uri: registrar,
    state: createDigestClientState(),
  });
  if (!answer.ok) throw new Error(answer.detail);
  pending = nextRegisterResponse();
  send(registerRequest(answer.value));
  response = await pending;
}
if (response.status !== 200) {
  process.stderr.write(`callee: REGISTER ${user} answered ${response.status} ${response.reason}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------- answering

function answerSdp(offer: SipRequest): string {
  let mid = '0';
  let setup: sdp.SetupRole | undefined;
  let opus = 111;
  try {
    const session = sdp.parseSdp(new TextDecoder().decode(offer.body));
    const media = session.media[0];
    if (media !== undefined) {
      mid = media.mid === undefined ? mid : String(media.mid);
      setup = sdp.setupRole(session, media);
      opus = sdp.findCodec(media, 'opus', 48000)?.payloadType ?? opus;
    }
  } catch {
    // Not SDP we can read: answer with the defaults, as the bench cares about signalling.
  }
  const session = sdp.buildWebRtcSdp({
    origin: { username: '-', sessionId: String(Date.now()), sessionVersion: '1', netType: 'IN', ipVer: 4, address: '127.0.0.1' },
    ice,
    fingerprint,
    setup: sdp.answerSetupRole(setup),
    candidates: [{ foundation: '1', component: 1, transport: 'udp', priority: 2122260223, ip: '127.0.0.1', port: sinkPort, type: 'host', extensions: [] }],
    codecs: [{ payloadType: opus, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' }],
    mid,
  });
  return sdp.serializeSdp(session);
}

function respond(request: SipRequest, status: number, extra: { toTag?: string; headers?: HeaderField[]; body?: string } = {}): void {
  const out = createResponse(request, status, undefined, {
    ...(extra.toTag === undefined ? {} : { toTag: extra.toTag }),
    headers: extra.headers ?? [],
    ...(extra.body === undefined ? {} : { body: extra.body, contentType: 'application/sdp' }),
  });
  send(serializeMessage(out));
}

function onRequest(request: SipRequest): void {
  switch (request.method) {
    case 'ACK':
      counts.acks += 1;
      return;
    case 'INVITE': {
      const callKey = getHeader(request, 'Call-ID') ?? '';
      const inDialog = getTo(request)?.tag !== undefined;
      const known = calls.get(callKey);
      if (inDialog) counts.reinvites += 1;
      else if (known === undefined) counts.invites += 1;
      const toTag = known ?? hex(5);
      calls.set(callKey, toTag);
      // RFC 3261 §12.1.1: the dialog-creating responses copy Record-Route, in order.
      const dialogHeaders: HeaderField[] = [...getHeaderFields(request, 'Record-Route'), { name: 'Contact', value: contact }];
      if (!inDialog) respond(request, 180, { toTag, headers: dialogHeaders });
      respond(request, 200, { toTag, headers: dialogHeaders, body: answerSdp(request) });
      counts.answered += 1;
      return;
    }
    case 'BYE':
      counts.byes += 1;
      calls.delete(getHeader(request, 'Call-ID') ?? '');
      respond(request, 200);
      return;
    case 'CANCEL':
      counts.cancels += 1;
      respond(request, 200);
      return;
    default:
      counts.other += 1;
      respond(request, 200);
  }
}

process.stdout.write(`READY ${JSON.stringify({ user, contact, sinkPort })}\n`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    process.stdout.write(`${JSON.stringify({ ...counts, openCalls: calls.size })}\n`);
    socket.close(1000);
    sink.close();
    setTimeout(() => process.exit(0), 50).unref();
  });
}
