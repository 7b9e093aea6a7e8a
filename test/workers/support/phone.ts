/**
 * A scripted SIP phone inside workerd: registers like SIP.js (`Device`), then places and takes
 * calls and messages one message at a time, so a test can put the edge through every turn of a
 * call. Requests within a dialog are built with the project's own dialog layer; every wait has a
 * timeout.
 */
import { answerChallenge } from '../../../shared/auth/index.ts';
import {
  createDialogAck,
  createDialogRequest,
  createUacDialog,
  createUasDialog,
  type Dialog,
} from '../../../shared/dialog/index.ts';
import {
  createResponse,
  getCSeq,
  getHeader,
  getHeaders,
  getTo,
  serializeMessage,
  type HeaderField,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../../shared/message/index.ts';
import { createAckForFailure, createCancel, generateBranch } from '../../../shared/transaction/index.ts';
import { Device } from './register-client.ts';
import { openSipSocket, type SipSocket } from './sip-socket.ts';
import { DOMAIN } from './users.ts';

/** A WebRTC-like offer and answer: SDP passes through the edge untouched. */
export const OFFER_SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\na=sendrecv\r\n';
export const ANSWER_SDP = OFFER_SDP.replace('o=- 1 1', 'o=- 2 2');

const WAIT_MS = 3000;

let counter = 0;
function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}x${Math.random().toString(36).slice(2, 8)}`;
}

export class Phone {
  readonly user: string;
  readonly device: Device;
  readonly #password: string;

  private constructor(user: string, password: string, device: Device) {
    this.user = user;
    this.#password = password;
    this.device = device;
  }

  /** A phone registered for `user` (of `domain`, the installation's unless told) over a new WebSocket. */
  static async online(user: string, password: string, expires = 600, domain = DOMAIN): Promise<Phone> {
    const phone = new Phone(user, password, new Device(await openSipSocket(), { user, password, domain }));
    const response = await phone.device.register({ expires });
    if (response.status !== 200) throw new Error(`REGISTER for ${user}: ${response.status}`);
    return phone;
  }

  get socket(): SipSocket {
    return this.device.socket;
  }

  get contact(): string {
    return `<${this.device.contactUri}>`;
  }

  /** Reconnects over a new WebSocket and registers again: a new flow for the same binding. */
  async reconnect(): Promise<void> {
    this.socket.close();
    this.device.socket = await openSipSocket();
    const response = await this.device.register({ expires: 600 });
    if (response.status !== 200) throw new Error(`re-REGISTER for ${this.user}: ${response.status}`);
  }

  send(message: SipMessage | string): void {
    this.socket.send(typeof message === 'string' ? message : serializeMessage(message));
  }

  next(timeoutMs = WAIT_MS): Promise<SipMessage> {
    return this.socket.nextMessage(timeoutMs);
  }

  async expectRequest(method: string, timeoutMs = WAIT_MS): Promise<SipRequest> {
    const message = await this.next(timeoutMs);
    if (message.kind !== 'request' || message.method !== method) throw new Error(`${this.user} expected ${method}, got ${describeMessage(message)}`);
    return message;
  }

  /** The next response, skipping 100 Trying unless asked for. */
  async expectResponse(timeoutMs = WAIT_MS, skipTrying = true): Promise<SipResponse> {
    for (;;) {
      const message = await this.next(timeoutMs);
      if (message.kind !== 'response') throw new Error(`${this.user} expected a response, got ${describeMessage(message)}`);
      if (!(skipTrying && message.status === 100)) return message;
    }
  }

  /** Nothing arrives within `ms`. */
  async expectSilence(ms = 300): Promise<void> {
    try {
      const message = await this.next(ms);
      throw new Error(`${this.user} expected nothing, got ${describeMessage(message)}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('no WebSocket message')) return;
      throw error;
    }
  }

  respond(request: SipRequest, status: number, options: { toTag?: string; body?: string; contentType?: string; contact?: boolean; headers?: HeaderField[] } = {}): SipResponse {
    const headers = [...(options.contact === true ? [{ name: 'Contact', value: this.contact }] : []), ...(options.headers ?? [])];
    const response = createResponse(request, status, undefined, {
      ...(options.toTag === undefined ? {} : { toTag: options.toTag }),
      headers,
      ...(options.body === undefined ? {} : { body: options.body, contentType: options.contentType ?? 'application/sdp' }),
    });
    this.send(response);
    return response;
  }

  /**
   * Sends an INVITE to `callee` (a user of the domain, or a whole SIP URI such as a GRUU) with
   * `headers` besides its own, answers the 407 challenge, and waits for 100 Trying.
   */
  async call(callee: string, sdp = OFFER_SDP, headers: readonly HeaderField[] = []): Promise<OutgoingCall> {
    const callId = `${unique('call')}@test`;
    const fromTag = unique('ft');
    const calleeUri = callee.startsWith('sip:') ? callee : `sip:${callee}@${this.device.domain}`;
    const build = (cseq: number, credentials?: string): SipRequest => ({
      kind: 'request',
      method: 'INVITE',
      uri: calleeUri,
      version: 'SIP/2.0',
      headers: [
        { name: 'Via', value: `SIP/2.0/WSS ${unique('h')}.invalid;branch=${generateBranch()}` },
        { name: 'Max-Forwards', value: '70' },
        { name: 'To', value: `<${calleeUri}>` },
        { name: 'From', value: `"${this.user} display" <sip:${this.user}@${this.device.domain}>;tag=${fromTag}` },
        { name: 'Call-ID', value: callId },
        { name: 'CSeq', value: `${cseq} INVITE` },
        { name: 'Contact', value: this.contact },
        ...(credentials === undefined ? [] : [{ name: 'Proxy-Authorization', value: credentials }]),
        ...headers,
        { name: 'Content-Type', value: 'application/sdp' },
        { name: 'Content-Length', value: String(new TextEncoder().encode(sdp).length) },
      ],
      body: new TextEncoder().encode(sdp),
    });
    const first = build(1);
    this.send(first);
    const challenge = await this.expectResponse();
    if (challenge.status !== 407) throw new Error(`INVITE without credentials: ${challenge.status}, not 407`);
    this.send(createAckForFailure(first, challenge));
    const invite = build(2, this.#answer(challenge, 'INVITE', first.uri));
    this.send(invite);
    const trying = await this.expectResponse(WAIT_MS, false);
    if (trying.status !== 100) throw new Error(`INVITE: ${trying.status}, not 100 first`);
    return new OutgoingCall(this, invite);
  }

  /** Sends a MESSAGE to `to` (a user of the domain, or a whole SIP URI such as a GRUU), answering the 407; resolves with the final response. */
  async message(to: string, body: string, contentType = 'text/plain;charset=UTF-8'): Promise<SipResponse> {
    const toUri = to.startsWith('sip:') ? to : `sip:${to}@${this.device.domain}`;
    const build = (cseq: number, credentials?: string): SipRequest => {
      const bytes = new TextEncoder().encode(body);
      return {
        kind: 'request',
        method: 'MESSAGE',
        uri: toUri,
        version: 'SIP/2.0',
        headers: [
          { name: 'Via', value: `SIP/2.0/WSS ${unique('h')}.invalid;branch=${generateBranch()}` },
          { name: 'Max-Forwards', value: '70' },
          { name: 'To', value: `<${toUri}>` },
          { name: 'From', value: `<sip:${this.user}@${this.device.domain}>;tag=${unique('mt')}` },
          { name: 'Call-ID', value: `${unique('msg')}@test` },
          { name: 'CSeq', value: `${cseq} MESSAGE` },
          ...(credentials === undefined ? [] : [{ name: 'Proxy-Authorization', value: credentials }]),
          { name: 'Content-Type', value: contentType },
          { name: 'Content-Length', value: String(bytes.length) },
        ],
        body: bytes,
      };
    };
    const first = build(1);
    this.send(first);
    const challenge = await this.expectResponse();
    if (challenge.status !== 407) throw new Error(`MESSAGE without credentials: ${challenge.status}, not 407`);
    this.send(build(2, this.#answer(challenge, 'MESSAGE', first.uri)));
    return this.expectResponse(10_000);
  }

  /** Waits for an INVITE from the edge. */
  async incoming(timeoutMs = WAIT_MS): Promise<IncomingCall> {
    return new IncomingCall(this, await this.expectRequest('INVITE', timeoutMs));
  }

  #answer(challenge: SipResponse, method: string, uri: string): string {
    const answer = answerChallenge({
      challenges: getHeaders(challenge, 'Proxy-Authenticate'),
      account: { username: this.user, password: this.#password },
      method,
      uri,
      state: { counts: [] },
      algorithms: ['MD5'],
    });
    if (!answer.ok) throw new Error(answer.detail);
    return answer.value;
  }
}

/** The caller's side of a call (the edge is the UAS of its INVITE). */
export class OutgoingCall {
  readonly phone: Phone;
  readonly invite: SipRequest;
  dialog: Dialog | undefined;

  constructor(phone: Phone, invite: SipRequest) {
    this.phone = phone;
    this.invite = invite;
  }

  /** Records the dialog a 18x or 2xx creates (or confirms). */
  track(response: SipResponse): SipResponse {
    if (response.status > 100 && response.status < 300 && getTo(response)?.tag !== undefined) {
      this.dialog = response.status >= 200 || this.dialog === undefined ? createUacDialog(this.invite, response) : this.dialog;
    }
    return response;
  }

  async response(timeoutMs = WAIT_MS): Promise<SipResponse> {
    return this.track(await this.phone.expectResponse(timeoutMs));
  }

  /** RFC 3261 §17.1.1.3: the ACK of a failure belongs to the INVITE's transaction. */
  ackFailure(response: SipResponse): void {
    this.phone.send(createAckForFailure(this.invite, response));
  }

  ack(body?: string): void {
    if (this.dialog === undefined) throw new Error('no dialog to ACK');
    this.phone.send(createDialogAck(this.dialog, { via: viaOf(), ...(body === undefined ? {} : { body, contentType: 'application/sdp' }) }));
  }

  cancel(reason?: string): void {
    const cancel = createCancel(this.invite);
    this.phone.send(reason === undefined ? cancel : { ...cancel, headers: [...cancel.headers.slice(0, -1), { name: 'Reason', value: reason }, ...cancel.headers.slice(-1)] });
  }

  /** A request within the dialog; returns it. */
  request(method: string, options: { body?: string; contentType?: string; headers?: HeaderField[] } = {}): SipRequest {
    if (this.dialog === undefined) throw new Error('no dialog');
    const built = createDialogRequest(this.dialog, method, {
      via: viaOf(),
      ...(method === 'INVITE' || method === 'UPDATE' ? { contact: this.phone.contact } : {}),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.body === undefined ? {} : { body: options.body, contentType: options.contentType ?? 'application/sdp' }),
    });
    this.dialog = built.dialog;
    this.phone.send(built.request);
    return built.request;
  }
}

/** The callee's side of a call (the edge is the UAC of the INVITE). */
export class IncomingCall {
  readonly phone: Phone;
  readonly invite: SipRequest;
  readonly toTag = unique('tt');
  dialog: Dialog | undefined;

  constructor(phone: Phone, invite: SipRequest) {
    this.phone = phone;
    this.invite = invite;
  }

  ring(status = 180, body?: string): SipResponse {
    return this.phone.respond(this.invite, status, { toTag: this.toTag, contact: true, ...(body === undefined ? {} : { body }) });
  }

  answer(body = ANSWER_SDP, headers: HeaderField[] = []): SipResponse {
    const response = this.phone.respond(this.invite, 200, { toTag: this.toTag, contact: true, body, headers });
    this.dialog = createUasDialog(this.invite, response);
    return response;
  }

  /** The ACK for the 2xx to this side's own re-INVITE. */
  ack(): void {
    if (this.dialog === undefined) throw new Error('no dialog to ACK');
    this.phone.send(createDialogAck(this.dialog, { via: viaOf() }));
  }

  reject(status: number): SipResponse {
    return this.phone.respond(this.invite, status, { toTag: this.toTag });
  }

  /** A request within the dialog; returns it. */
  request(method: string, options: { body?: string; contentType?: string; headers?: HeaderField[] } = {}): SipRequest {
    if (this.dialog === undefined) throw new Error('no dialog');
    const built = createDialogRequest(this.dialog, method, {
      via: viaOf(),
      ...(method === 'INVITE' || method === 'UPDATE' ? { contact: this.phone.contact } : {}),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.body === undefined ? {} : { body: options.body, contentType: options.contentType ?? 'application/sdp' }),
    });
    this.dialog = built.dialog;
    this.phone.send(built.request);
    return built.request;
  }
}

function viaOf(): string {
  return `SIP/2.0/WSS ${unique('h')}.invalid`;
}

export function describeMessage(message: SipMessage): string {
  if (message.kind === 'request') return `${message.method} ${getHeader(message, 'Call-ID') ?? ''}`;
  return `${message.status} ${message.reason} (${getCSeq(message)?.method ?? '?'})`;
}

export function bodyText(message: SipMessage): string {
  return new TextDecoder().decode(message.body);
}
