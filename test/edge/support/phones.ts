/**
 * The real `sip.js` and `jssip` npm packages, running in Node 22 (global WebSocket), configured as
 * an application would configure them for any RFC 7118 server. Each phone records the outcome of
 * every REGISTER transaction, the calls and messages it receives; tests wait for them with a
 * timeout. Media is fixed SDP (`static-media.ts`): Node has no WebRTC.
 */
import * as JsSIP from 'jssip';
import type { MessageFailedEvent } from 'jssip/lib/Message';
import type { OutgoingEvent, RTCSession } from 'jssip/lib/RTCSession';
import type { IncomingMessageEvent, OutgoingMessageEvent, RTCSessionEvent } from 'jssip/lib/UA';
import { Inviter, Messager, Registerer, UserAgent, type Invitation, type UserAgentOptions } from 'sip.js';
import { Inbox } from './inbox.ts';
import { NodeJsSipSocket } from './jssip-socket.ts';
import { staticDescriptionHandlers, webRtcSdp, type StaticDescriptionHandler } from './static-media.ts';

export interface RegisterOutcome {
  readonly status: number;
  /** The Contact values of the final response (a 200 OK lists every binding of the AOR). */
  readonly contacts: readonly string[];
}

class Outcomes {
  readonly #queue: RegisterOutcome[] = [];
  readonly #waiters: ((outcome: RegisterOutcome) => void)[] = [];

  push(outcome: RegisterOutcome): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(outcome);
    else this.#queue.push(outcome);
  }

  next(timeoutMs: number, what: string): Promise<RegisterOutcome> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`${what}: no REGISTER outcome within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (outcome: RegisterOutcome): void => {
        clearTimeout(timer);
        resolve(outcome);
      };
      this.#waiters.push(waiter);
    });
  }
}

export interface PhoneOptions {
  readonly webSocketUrl: string;
  readonly domain: string;
  readonly username: string;
  readonly password: string;
  /** More SIP.js UserAgent options (e.g. `sipExtension100rel`); JsSIP ignores them. */
  readonly sipJs?: Partial<UserAgentOptions>;
}

/** A MESSAGE a phone received. */
export interface ReceivedMessage {
  readonly from: string;
  readonly body: string;
  readonly contentType: string;
}

/**
 * SIP.js 0.21: `UserAgent` + `Registerer`. Like SIP.js's own SimpleUser, it reconnects when the
 * transport drops and registers again once connected.
 */
export class SipJsPhone {
  readonly #outcomes = new Outcomes();
  readonly ua: UserAgent;
  readonly registerer: Registerer;
  /** INVITEs received, as SIP.js Invitations. */
  readonly invitations = new Inbox<Invitation>('SIP.js INVITE');
  readonly messages = new Inbox<ReceivedMessage>('SIP.js MESSAGE');
  /** The description handler of every session, in creation order: what each side got as SDP. */
  readonly media: StaticDescriptionHandler[] = [];
  readonly sdp: string;
  readonly #domain: string;
  readonly #healthUrl: string;
  #stopped = false;
  #reconnecting = false;

  constructor(options: PhoneOptions) {
    const uri = UserAgent.makeURI(`sip:${options.username}@${options.domain}`);
    if (uri === undefined) throw new Error('bad SIP URI');
    this.#domain = options.domain;
    this.sdp = webRtcSdp(String(1000 + Math.floor(Math.random() * 9000)));
    this.ua = new UserAgent({
      uri,
      transportOptions: { server: options.webSocketUrl, connectionTimeout: 2 },
      authorizationUsername: options.username,
      authorizationPassword: options.password,
      displayName: `${options.username} (SIP.js)`,
      sessionDescriptionHandlerFactory: staticDescriptionHandlers(this.sdp, this.media),
      logLevel: 'error',
      logBuiltinEnabled: false,
      ...options.sipJs,
      delegate: {
        onDisconnect: (error) => {
          if (error !== undefined && !this.#stopped) void this.#reconnect();
        },
        onInvite: (invitation) => this.invitations.push(invitation),
        onMessage: (message) => {
          void message.accept();
          this.messages.push({
            from: message.request.from.uri.toString(),
            body: message.request.body,
            contentType: message.request.getHeader('Content-Type') ?? '',
          });
        },
      },
    });
    this.registerer = new Registerer(this.ua, { expires: 300 });
    this.#healthUrl = options.webSocketUrl.replace(/^ws/, 'http').replace(/\/sip$/, '/health');
  }

  async start(): Promise<void> {
    await this.ua.start();
  }

  /** Sends a REGISTER; its outcome arrives through `nextOutcome`. */
  register(): void {
    void this.registerer.register({
      requestDelegate: {
        onAccept: (response) => this.#outcomes.push({ status: response.message.statusCode ?? 0, contacts: response.message.getHeaders('contact') }),
        onReject: (response) => this.#outcomes.push({ status: response.message.statusCode ?? 0, contacts: [] }),
      },
    });
  }

  nextOutcome(timeoutMs = 10_000): Promise<RegisterOutcome> {
    return this.#outcomes.next(timeoutMs, 'SIP.js');
  }

  /** An Inviter toward `username` of the same domain; `invite()` it to call. */
  inviter(username: string): Inviter {
    const target = UserAgent.makeURI(`sip:${username}@${this.#domain}`);
    if (target === undefined) throw new Error('bad target');
    return new Inviter(this.ua, target);
  }

  /** Sends a MESSAGE; resolves to the final status (SIP.js answers the 407 itself). */
  message(username: string, body: string, contentType = 'text/plain;charset=utf-8'): Promise<number> {
    const target = UserAgent.makeURI(`sip:${username}@${this.#domain}`);
    if (target === undefined) throw new Error('bad target');
    return new Promise((resolve, reject) => {
      new Messager(this.ua, target, body, contentType)
        .message({
          requestDelegate: {
            onAccept: (response) => resolve(response.message.statusCode ?? 0),
            onReject: (response) => resolve(response.message.statusCode ?? 0),
          },
        })
        .catch(reject);
    });
  }

  /**
   * One reconnection loop at a time. It waits for the server to answer HTTP before reconnecting:
   * SIP.js settles a connection attempt on the WebSocket's `close` event, which browsers fire after
   * a failed connect and Node 22's WebSocket does not, so an attempt against a server that is down
   * would never end.
   */
  async #reconnect(): Promise<void> {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    try {
      for (let attempt = 0; attempt < 120 && !this.#stopped; attempt += 1) {
        try {
          await fetch(this.#healthUrl, { signal: AbortSignal.timeout(1000) });
          await this.ua.reconnect();
          this.register();
          return;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    } finally {
      this.#reconnecting = false;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.ua.stop();
  }
}

/**
 * JsSIP 3.13: `UA` over a WebSocket that fails as a browser's does (`jssip-socket.ts`); it
 * reconnects and re-registers by itself.
 */
export class JsSipPhone {
  readonly #outcomes = new Outcomes();
  readonly ua: JsSIP.UA;
  /** Calls received. */
  readonly sessions = new Inbox<RTCSession>('JsSIP call');
  readonly messages = new Inbox<ReceivedMessage>('JsSIP MESSAGE');
  /** The close code of every connection dropped or attempt failed (JsSIP's `disconnected`), in order. */
  readonly disconnections = new Inbox<number>('JsSIP disconnection');
  readonly #domain: string;

  constructor(options: PhoneOptions) {
    JsSIP.debug.disable();
    this.#domain = options.domain;
    this.ua = new JsSIP.UA({
      sockets: [new NodeJsSipSocket(options.webSocketUrl)],
      uri: `sip:${options.username}@${options.domain}`,
      password: options.password,
      register: true,
      register_expires: 300,
      connection_recovery_min_interval: 1,
      connection_recovery_max_interval: 2,
    });
    this.ua.on('registered', (event) => this.#outcomes.push({ status: event.response.status_code, contacts: event.response.getHeaders('contact') }));
    this.ua.on('registrationFailed', (event) => this.#outcomes.push({ status: event.response?.status_code ?? 0, contacts: [] }));
    this.ua.on('disconnected', (event) => this.disconnections.push(event.code ?? 0));
    this.ua.on('newRTCSession', (event: RTCSessionEvent) => {
      if (event.originator === 'remote') this.sessions.push(event.session);
    });
    this.ua.on('newMessage', (event: IncomingMessageEvent | OutgoingMessageEvent) => {
      // JsSIP answers 200 itself once the listeners ran.
      if (event.originator === 'remote') {
        this.messages.push({ from: event.request.from.uri.toString(), body: event.request.body, contentType: event.request.getHeader('Content-Type') });
      }
    });
  }

  /** Unregisters (Expires: 0) and resolves once the edge confirmed it. */
  unregister(): Promise<void> {
    return new Promise((resolve) => {
      this.ua.once('unregistered', () => resolve());
      this.ua.unregister();
    });
  }

  /** Calls `username` of the same domain, without local media (the fake RTCPeerConnection gives the SDP). */
  call(username: string): RTCSession {
    return this.ua.call(`sip:${username}@${this.#domain}`, { mediaConstraints: { audio: false, video: false }, pcConfig: { iceServers: [] } });
  }

  /** Answers a call received, without local media. */
  static answer(session: RTCSession): void {
    session.answer({ mediaConstraints: { audio: false, video: false }, pcConfig: { iceServers: [] } });
  }

  /** Sends a MESSAGE; resolves to the final status (JsSIP answers the 407 itself). */
  message(username: string, body: string, contentType = 'text/plain;charset=utf-8'): Promise<number> {
    return new Promise((resolve) => {
      this.ua.sendMessage(`sip:${username}@${this.#domain}`, body, {
        contentType,
        eventHandlers: {
          succeeded: (event: OutgoingEvent) => resolve(event.response.status_code),
          failed: (event: MessageFailedEvent) => resolve(event.response?.status_code ?? 0),
        },
      });
    });
  }

  /** Connects and registers (JsSIP's `register: true`). */
  start(): void {
    this.ua.start();
  }

  nextOutcome(timeoutMs = 10_000): Promise<RegisterOutcome> {
    return this.#outcomes.next(timeoutMs, 'JsSIP');
  }

  stop(): void {
    this.ua.stop();
  }
}
