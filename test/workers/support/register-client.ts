/**
 * A registering device, built the way SIP.js's Registerer behaves: one Call-ID for its life, CSeq
 * increasing, a `.invalid` Contact with `+sip.instance` and `reg-id` (RFC 5626), and digest answers
 * from the project's own client side (shared/auth), so SHA-256 can be exercised too.
 */
import { answerChallenge, type DigestAlgorithm } from '../../../shared/auth/index.ts';
import { getHeaders, type SipResponse } from '../../../shared/message/index.ts';
import type { SipSocket } from './sip-socket.ts';
import { DOMAIN } from './users.ts';

let counter = 0;
function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}${Math.random().toString(36).slice(2, 8)}`;
}

export interface DeviceOptions {
  readonly user: string;
  readonly password: string;
  /** `+sip.instance` UUID; omitted means none (plain RFC 3261 contact). */
  readonly instance?: string | null;
  readonly regId?: number | null;
  readonly algorithms?: readonly DigestAlgorithm[];
  /** The username the digest is computed with, when not the AOR user. */
  readonly authUser?: string;
  /** The host of the AOR (To and From); the installation's domain unless told. */
  readonly domain?: string;
  /** The host of the Request-URI; the AOR's host unless told. */
  readonly registrar?: string;
}

export interface RegisterOptions {
  /** The Expires header; undefined sends none. */
  readonly expires?: number;
  /** `'*'` unregisters every binding; `null` sends no Contact (a query). */
  readonly contact?: string | '*' | null;
  readonly extraHeaders?: readonly string[];
  /** The Supported header; SIP.js's by default. */
  readonly supported?: string;
  /** Answer a 401 (default true). */
  readonly authenticate?: boolean;
}

export class Device {
  readonly callId = `${unique('call')}@test`;
  readonly contactUri: string;
  readonly instance: string | undefined;
  readonly regId: number | undefined;
  cseq = 0;
  socket: SipSocket;
  readonly #options: DeviceOptions;
  #authorization: { nonceState: Parameters<typeof answerChallenge>[0]['state']; challenges: string[] } | undefined;

  constructor(socket: SipSocket, options: DeviceOptions) {
    this.socket = socket;
    this.#options = options;
    this.contactUri = `sip:${unique('c')}@${unique('h')}.invalid;transport=ws;ob`;
    this.instance = options.instance === null ? undefined : options.instance ?? `<urn:uuid:${crypto.randomUUID()}>`;
    this.regId = options.regId === null || this.instance === undefined ? undefined : options.regId ?? 1;
  }

  /** The host of the device's AOR. */
  get domain(): string {
    return this.#options.domain ?? DOMAIN;
  }

  get registrar(): string {
    return this.#options.registrar ?? this.domain;
  }

  /** The Contact value this device registers. */
  get contact(): string {
    const outbound = this.instance === undefined ? '' : `;+sip.instance="${this.instance}"${this.regId === undefined ? '' : `;reg-id=${this.regId}`}`;
    return `<${this.contactUri}>${outbound}`;
  }

  requestText(options: RegisterOptions, authorization?: string): string {
    this.cseq += 1;
    const contact = options.contact === undefined ? this.contact : options.contact;
    const lines = [
      `REGISTER sip:${this.registrar} SIP/2.0`,
      `Via: SIP/2.0/WSS ${unique('v')}.invalid;branch=z9hG4bK${unique('b')}`,
      'Max-Forwards: 70',
      `To: <sip:${this.#options.user}@${this.domain}>`,
      `From: <sip:${this.#options.user}@${this.domain}>;tag=${unique('t')}`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${this.cseq} REGISTER`,
      ...(contact === null ? [] : [`Contact: ${contact}`]),
      ...(options.expires === undefined ? [] : [`Expires: ${options.expires}`]),
      `Supported: ${options.supported ?? 'path, gruu, outbound'}`,
      ...(authorization === undefined ? [] : [`Authorization: ${authorization}`]),
      ...(options.extraHeaders ?? []),
      'Content-Length: 0',
      '',
      '',
    ];
    return lines.join('\r\n');
  }

  /** Sends a REGISTER; answers one 401 (two when the first answer is `stale`) unless told not to. */
  async register(options: RegisterOptions = {}): Promise<SipResponse> {
    let response = await this.send(options);
    for (let round = 0; round < 2 && response.status === 401 && options.authenticate !== false; round += 1) {
      response = await this.send(options);
    }
    return response;
  }

  /**
   * One REGISTER, with credentials for the last challenge seen (the nonce reused with the next nc,
   * RFC 7616 §3.4), none before the first; a 401 is remembered for the next send.
   */
  async send(options: RegisterOptions = {}): Promise<SipResponse> {
    const response = await this.socket.request(this.requestText(options, this.#answer()));
    if (response.status === 401) this.#authorization = { nonceState: { counts: [] }, challenges: getHeaders(response, 'WWW-Authenticate') };
    return response;
  }

  query(): Promise<SipResponse> {
    return this.register({ contact: null });
  }

  unregister(): Promise<SipResponse> {
    return this.register({ expires: 0 });
  }

  /** Credentials for the last challenge seen, reusing its nonce with the next nc (RFC 7616 §3.4). */
  #answer(): string | undefined {
    if (this.#authorization === undefined) return undefined;
    const answer = answerChallenge({
      challenges: this.#authorization.challenges,
      account: { username: this.#options.authUser ?? this.#options.user, password: this.#options.password },
      method: 'REGISTER',
      uri: `sip:${this.registrar}`,
      state: this.#authorization.nonceState,
      algorithms: this.#options.algorithms,
    });
    if (!answer.ok) throw new Error(answer.detail);
    this.#authorization = { ...this.#authorization, nonceState: answer.state };
    return answer.value;
  }
}

/** `expires` of each Contact in a 200 OK, by Contact URI. */
export function contactExpires(response: SipResponse): Map<string, number> {
  const result = new Map<string, number>();
  for (const value of getHeaders(response, 'Contact')) {
    const uri = /<([^>]*)>/.exec(value)?.[1] ?? value;
    const expires = /;expires=(\d+)/.exec(value)?.[1];
    result.set(uri, Number(expires));
  }
  return result;
}
