/**
 * SUBSCRIBE and PUBLISH from a `Phone`, as SIP.js sends them: challenged once with 407, then
 * sent with credentials; a subscription keeps its dialog (Call-ID, tags) for refreshes. The
 * NOTIFY that follows a 200 may arrive before or after it (RFC 6665 §4.1.2.4), so both are
 * collected. Every wait has a timeout.
 */
import { answerChallenge } from '../../../shared/auth/index.ts';
import { getContacts, getHeader, getHeaders, getTo, type SipRequest, type SipResponse } from '../../../shared/message/index.ts';
import { serializeUri } from '../../../shared/grammar/index.ts';
import { generateBranch } from '../../../shared/transaction/index.ts';
import { PASSWORD } from './call-fixtures.ts';
import { describeMessage, type Phone } from './phone.ts';
import { DOMAIN } from './users.ts';

let counter = 0;
function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}${Math.random().toString(36).slice(2, 8)}`;
}

export interface Exchange {
  readonly response: SipResponse;
  readonly notify?: SipRequest;
}

/** Sends `build(cseq, credentials)`, answers a 407, and returns the final response (and the NOTIFY of a 2xx to SUBSCRIBE). */
async function challenged(phone: Phone, method: string, uri: string, build: (cseq: number, credentials?: string) => string, cseq: number, expectNotify: boolean): Promise<Exchange> {
  phone.send(build(cseq));
  const challenge = await phone.expectResponse();
  if (challenge.status !== 407) return { response: challenge };
  const answer = answerChallenge({
    challenges: getHeaders(challenge, 'Proxy-Authenticate'),
    account: { username: phone.user, password: PASSWORD },
    method,
    uri,
    state: { counts: [] },
    algorithms: ['MD5'],
  });
  if (!answer.ok) throw new Error(answer.detail);
  phone.send(build(cseq + 1, answer.value));
  let response: SipResponse | undefined;
  let notify: SipRequest | undefined;
  while (response === undefined || (expectNotify && response.status < 300 && notify === undefined)) {
    const message = await phone.next();
    if (message.kind === 'response' && message.status > 100) response = message;
    else if (message.kind === 'request' && message.method === 'NOTIFY') notify = message;
    else if (message.kind !== 'response') throw new Error(`unexpected ${describeMessage(message)}`);
  }
  return { response, ...(notify === undefined ? {} : { notify }) };
}

export class Watch {
  readonly phone: Phone;
  readonly target: string;
  readonly event: string;
  readonly callId = `${unique('sub')}@test`;
  readonly fromTag = unique('wt');
  toTag: string | undefined;
  remoteTarget: string | undefined;
  cseq = 1;

  /** The host of the target's URI: the installation's domain unless told. */
  readonly host: string;

  constructor(phone: Phone, target: string, event: string, host = DOMAIN) {
    this.phone = phone;
    this.target = target;
    this.event = event;
    this.host = host;
  }

  /** SUBSCRIBE (initial, or a refresh once there is a dialog); `expires` undefined sends no Expires. */
  async subscribe(expires: number | undefined = 600, extraHeaders: string[] = []): Promise<Exchange> {
    const uri = this.remoteTarget ?? `sip:${this.target}@${this.host}`;
    const build = (cseq: number, credentials?: string): string =>
      [
        `SUBSCRIBE ${uri} SIP/2.0`,
        `Via: SIP/2.0/WSS ${unique('h')}.invalid;branch=${generateBranch()}`,
        'Max-Forwards: 70',
        `To: <sip:${this.target}@${this.host}>${this.toTag === undefined ? '' : `;tag=${this.toTag}`}`,
        `From: <sip:${this.phone.user}@${this.phone.device.domain}>;tag=${this.fromTag}`,
        `Call-ID: ${this.callId}`,
        `CSeq: ${cseq} SUBSCRIBE`,
        `Contact: ${this.phone.contact}`,
        `Event: ${this.event}`,
        ...(expires === undefined ? [] : [`Expires: ${expires}`]),
        ...extraHeaders,
        ...(credentials === undefined ? [] : [`Proxy-Authorization: ${credentials}`]),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    const exchange = await challenged(this.phone, 'SUBSCRIBE', uri, build, this.cseq, true);
    this.cseq += 2;
    const { response } = exchange;
    if (response.status >= 200 && response.status < 300) {
      this.toTag ??= getTo(response)?.tag;
      const contacts = getContacts(response);
      if (contacts !== '*' && contacts[0] !== undefined) this.remoteTarget = serializeUri(contacts[0].uri);
    }
    return exchange;
  }

  /** The next NOTIFY of this subscription, answered `status`. */
  async notified(status = 200): Promise<SipRequest> {
    const notify = await this.phone.expectRequest('NOTIFY');
    if (getHeader(notify, 'Call-ID') !== this.callId) throw new Error(`NOTIFY of another subscription: ${getHeader(notify, 'Call-ID')}`);
    this.phone.respond(notify, status);
    return notify;
  }
}

/** PUBLISH of the phone's own presence (RFC 3903); `etag` goes in SIP-If-Match. */
export async function publish(phone: Phone, options: { body?: string; etag?: string; expires?: number; event?: string }): Promise<SipResponse> {
  const uri = `sip:${phone.user}@${DOMAIN}`;
  const callId = `${unique('pub')}@test`;
  const fromTag = unique('pt');
  const bytes = new TextEncoder().encode(options.body ?? '');
  const build = (cseq: number, credentials?: string): string =>
    [
      `PUBLISH ${uri} SIP/2.0`,
      `Via: SIP/2.0/WSS ${unique('h')}.invalid;branch=${generateBranch()}`,
      'Max-Forwards: 70',
      `To: <${uri}>`,
      `From: <${uri}>;tag=${fromTag}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} PUBLISH`,
      `Event: ${options.event ?? 'presence'}`,
      ...(options.expires === undefined ? [] : [`Expires: ${options.expires}`]),
      ...(options.etag === undefined ? [] : [`SIP-If-Match: ${options.etag}`]),
      ...(credentials === undefined ? [] : [`Proxy-Authorization: ${credentials}`]),
      ...(bytes.length === 0 ? [] : ['Content-Type: application/pidf+xml']),
      `Content-Length: ${bytes.length}`,
      '',
      options.body ?? '',
    ].join('\r\n');
  return (await challenged(phone, 'PUBLISH', uri, build, 1, false)).response;
}

export function pidf(user: string, basic: 'open' | 'closed', note: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\r\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:${user}@${DOMAIN}"><tuple id="t1"><status><basic>${basic}</basic></status><note>${note}</note></tuple></presence>\r\n`;
}
