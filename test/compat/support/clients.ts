/**
 * The real `sip.js` (0.21) and `jssip` (3.13) packages in Node 22, built from a table of options as
 * their documentation describes them, each keeping what it sent and received on its WebSocket
 * (SIP.js through its own `traceSip` logging, JsSIP at its socket interface), so a test can read
 * what went over the wire as well as what the user sees. Media is fixed SDP
 * (test/edge/support/static-media.ts): Node has no WebRTC.
 */
import * as JsSIP from 'jssip';
import type { RTCSession } from 'jssip/lib/RTCSession';
import type { IncomingMessageEvent, OutgoingMessageEvent, RTCSessionEvent, UAConfiguration } from 'jssip/lib/UA';
import { Messager, Registerer, RegistererState, Subscriber, UserAgent, type URI, type BodyAndContentType, type Invitation, type RegistererOptions, type SessionDescriptionHandlerOptions, type UserAgentOptions } from 'sip.js';
import { Inbox } from '../../edge/support/inbox.ts';
import { StaticDescriptionHandler, webRtcSdp } from '../../edge/support/static-media.ts';
import { within } from '../../edge/support/test-edge.ts';
export { reach } from '../../edge/support/sessions.ts';

/**
 * Fixed SDP, or the SDP a test passes as `sessionDescriptionHandlerOptions: { sdp }` for one offer
 * or answer (a hold in a form the handler would not write itself).
 */
class ScriptedDescriptionHandler extends StaticDescriptionHandler {
  override getDescription(options?: SessionDescriptionHandlerOptions): Promise<BodyAndContentType> {
    const sdp = options !== undefined && 'sdp' in options && typeof options.sdp === 'string' ? options.sdp : undefined;
    return sdp === undefined ? super.getDescription(options) : Promise.resolve({ body: sdp, contentType: 'application/sdp' });
  }
}

/** One SIP message as a client put it on, or took it off, its WebSocket. */
export interface WireMessage {
  readonly direction: 'sent' | 'received';
  readonly text: string;
  /** `INVITE` for a request, `200` for a response. */
  readonly first: string;
  readonly callId: string;
  readonly cseq: string;
}

export function wireMessage(direction: WireMessage['direction'], text: string): WireMessage | undefined {
  const start = text.split('\r\n', 1)[0] ?? '';
  const first = start.startsWith('SIP/2.0 ') ? (start.split(' ')[1] ?? '') : (start.split(' ')[0] ?? '');
  if (first === '') return undefined;
  return { direction, text, first, callId: header(text, 'call-id', 'i') ?? '', cseq: header(text, 'cseq') ?? '' };
}

/** The first value of a header of a SIP message's text (long or compact name). */
export function header(text: string, name: string, compact?: string): string | undefined {
  const head = text.split('\r\n\r\n', 1)[0] ?? '';
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    const field = line.slice(0, colon).trim().toLowerCase();
    if (field === name || field === compact) return line.slice(colon + 1).trim();
  }
  return undefined;
}

export interface EdgeAddress {
  readonly domain: string;
  readonly webSocketUrl: string;
}

export interface SipJsClientOptions {
  readonly edge: EdgeAddress;
  readonly username: string;
  readonly password: string;
  /** UserAgent options over the defaults (uri, server, credentials). */
  readonly ua?: Partial<UserAgentOptions>;
  /** Registerer options; `register: false` makes no Registerer at all. */
  readonly registerer?: RegistererOptions;
  readonly register?: boolean;
}

/**
 * A SIP.js UserAgent with a Registerer. Like SIP.js's SimpleUser, it reconnects when the transport
 * drops and registers again once connected; it waits for the edge to answer HTTP first, since
 * Node 22's WebSocket does not fire `close` after a failed connect and SIP.js would wait forever.
 */
export class SipJsClient {
  readonly ua: UserAgent;
  readonly registerer: Registerer | undefined;
  readonly invitations = new Inbox<Invitation>('SIP.js INVITE');
  readonly messages = new Inbox<{ from: string; body: string }>('SIP.js MESSAGE');
  readonly wire: WireMessage[] = [];
  readonly media: StaticDescriptionHandler[] = [];
  readonly subscribers: Subscriber[] = [];
  readonly sdp = webRtcSdp(String(1000 + Math.floor(Math.random() * 9000)));
  readonly #domain: string;
  readonly #health: string;
  #stopped = false;
  #reconnecting = false;

  constructor(options: SipJsClientOptions) {
    const uri = UserAgent.makeURI(`sip:${options.username}@${options.edge.domain}`);
    if (uri === undefined) throw new Error('bad SIP URI');
    this.#domain = options.edge.domain;
    const server = (options.ua?.transportOptions as { server?: string } | undefined)?.server ?? options.edge.webSocketUrl;
    this.#health = server.replace(/^ws/, 'http').replace(/\/sip(\/[^/]*)?$/, '/health');
    this.ua = new UserAgent({
      uri,
      authorizationUsername: options.username,
      authorizationPassword: options.password,
      sessionDescriptionHandlerFactory: () => {
        const handler = new ScriptedDescriptionHandler(this.sdp);
        this.media.push(handler);
        return handler;
      },
      logLevel: 'log',
      logBuiltinEnabled: false,
      ...options.ua,
      transportOptions: { server: options.edge.webSocketUrl, connectionTimeout: 2, traceSip: true, ...(options.ua?.transportOptions as object | undefined) },
      logConnector: (_level, category, _label, content) => {
        if (category !== 'sip.Transport') return;
        const sent = /^Sending WebSocket message:\n\n([\s\S]*)\n$/.exec(content);
        const received = /^Received WebSocket text message:\n\n([\s\S]*)\n$/.exec(content);
        const message = sent ? wireMessage('sent', sent[1] ?? '') : received ? wireMessage('received', received[1] ?? '') : undefined;
        if (message) this.wire.push(message);
      },
      delegate: {
        onDisconnect: (error) => {
          if (error !== undefined && !this.#stopped) void this.#reconnect();
        },
        onInvite: (invitation) => this.invitations.push(invitation),
        onMessage: (message) => {
          void message.accept();
          this.messages.push({ from: message.request.from.uri.toString(), body: message.request.body });
        },
      },
    });
    this.registerer = options.register === false ? undefined : new Registerer(this.ua, { expires: 300, ...options.registerer });
  }

  /** Connects and, unless `register: false`, registers; resolves once registered. */
  async start(): Promise<void> {
    await within(10_000, 'SIP.js connect', this.ua.start());
    if (this.registerer !== undefined) {
      const registered = this.registeredAgain();
      void this.registerer.register();
      await registered;
    }
  }

  /** Resolves the next time the Registerer reaches Registered (or at once when it is). */
  registeredAgain(ms = 30_000): Promise<void> {
    const registerer = this.registerer;
    if (registerer === undefined) return Promise.reject(new Error('no Registerer'));
    return within(ms, 'SIP.js registered', new Promise<void>((resolve) => {
      const listener = (state: RegistererState): void => {
        if (state !== RegistererState.Registered) return;
        registerer.stateChange.removeListener(listener);
        resolve();
      };
      registerer.stateChange.addListener(listener);
    }));
  }

  /** The requests of `method` this client sent, and the responses it received to them. */
  sent(method: string): WireMessage[] {
    return this.wire.filter((each) => each.direction === 'sent' && each.first === method);
  }

  responses(method: string): WireMessage[] {
    return this.wire.filter((each) => each.direction === 'received' && each.cseq.endsWith(` ${method}`) && /^\d+$/.test(each.first));
  }

  static uri(text: string): URI {
    const uri = UserAgent.makeURI(text);
    if (uri === undefined) throw new Error(`bad URI ${text}`);
    return uri;
  }

  target(username: string): URI {
    return SipJsClient.uri(`sip:${username}@${this.#domain}`);
  }

  /** SUBSCRIBEs to `event` of `username`; resolves with the first NOTIFY's body. */
  subscribe(username: string, event: string): Promise<string> {
    const subscriber = new Subscriber(this.ua, this.target(username), event, { expires: 600 });
    this.subscribers.push(subscriber);
    return within(10_000, `SIP.js NOTIFY ${event}`, new Promise<string>((resolve) => {
      subscriber.delegate = {
        onNotify: (notification) => {
          void notification.accept();
          resolve(notification.request.body);
        },
      };
      void subscriber.subscribe();
    }));
  }

  /** Sends a MESSAGE; resolves to the final status. */
  message(username: string, body: string): Promise<number> {
    return within(10_000, 'SIP.js MESSAGE', new Promise((resolve, reject) => {
      new Messager(this.ua, this.target(username), body, 'text/plain;charset=utf-8')
        .message({ requestDelegate: { onAccept: (response) => resolve(response.message.statusCode ?? 0), onReject: (response) => resolve(response.message.statusCode ?? 0) } })
        .catch(reject);
    }));
  }

  async #reconnect(): Promise<void> {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    try {
      for (let attempt = 0; attempt < 240 && !this.#stopped; attempt += 1) {
        try {
          await fetch(this.#health, { signal: AbortSignal.timeout(1000) });
          await this.ua.reconnect();
          this.#registerWhenIdle();
          return;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    } finally {
      this.#reconnecting = false;
    }
  }

  /** Registers now, or once the REGISTER still outstanding (sent on the socket that died) has ended. */
  #registerWhenIdle(): void {
    const registerer = this.registerer;
    if (registerer === undefined) return;
    // SIP.js keeps these private; its SimpleUser waits for them the same way.
    const pending = registerer as unknown as { readonly waiting: boolean; readonly waitingChange: { addListener(listener: (waiting: boolean) => void): void; removeListener(listener: (waiting: boolean) => void): void } };
    if (!pending.waiting) {
      void registerer.register().catch(() => undefined);
      return;
    }
    const listener = (waiting: boolean): void => {
      if (waiting) return;
      pending.waitingChange.removeListener(listener);
      void registerer.register().catch(() => undefined);
    };
    pending.waitingChange.addListener(listener);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.ua.stop();
  }
}

/** A JsSIP socket interface that records what crosses it: JsSIP's own trace is debug logging. */
class RecordingSocket extends JsSIP.WebSocketInterface {
  readonly wire: WireMessage[];

  constructor(url: string, wire: WireMessage[]) {
    super(url);
    this.wire = wire;
  }

  /**
   * JsSIP sets no timeout on the WebSocket handshake, and Node 22's WebSocket can wait for ever on
   * a server that accepted the TCP connection but is not serving yet (an edge starting up): a
   * handshake still pending after 5 s is abandoned, so JsSIP's connection recovery tries again.
   */
  override connect(): void {
    super.connect();
    const ws = (this as unknown as { _ws: WebSocket | null })._ws;
    setTimeout(() => {
      if (ws !== null && ws.readyState === WebSocket.CONNECTING) ws.close();
    }, 5000);
  }

  override send(message: string): boolean {
    const recorded = wireMessage('sent', message);
    if (recorded) this.wire.push(recorded);
    return super.send(message);
  }
}

// JsSIP 3.13 hands every frame to `_onMessage` (not in its type declarations).
const onMessage = (JsSIP.WebSocketInterface.prototype as unknown as { _onMessage(event: { data: unknown }): void })._onMessage;
(RecordingSocket.prototype as unknown as { _onMessage(event: { data: unknown }): void })._onMessage = function (this: RecordingSocket, event) {
  if (typeof event.data === 'string') {
    const recorded = wireMessage('received', event.data);
    if (recorded) this.wire.push(recorded);
  }
  onMessage.call(this, event);
};

export interface JsSipClientOptions {
  readonly edge: EdgeAddress;
  readonly username: string;
  readonly password: string;
  /** WebSocket URLs with weights (JsSIP's `sockets`); the edge's URL by default. */
  readonly sockets?: readonly { readonly url: string; readonly weight?: number; readonly viaTransport?: string }[];
  /** UA configuration over the defaults. */
  readonly config?: Partial<UAConfiguration>;
}

export const NO_MEDIA = { mediaConstraints: { audio: false, video: false }, pcConfig: { iceServers: [] } };

/** A JsSIP UA; it reconnects and re-registers by itself. */
export class JsSipClient {
  readonly ua: JsSIP.UA;
  readonly sessions = new Inbox<RTCSession>('JsSIP call');
  readonly messages = new Inbox<{ from: string; body: string }>('JsSIP MESSAGE');
  readonly registrations = new Inbox<{ status: number; contacts: string[] }>('JsSIP REGISTER');
  readonly wire: WireMessage[] = [];
  readonly #domain: string;
  readonly #registers: boolean;

  constructor(options: JsSipClientOptions) {
    JsSIP.debug.disable();
    this.#domain = options.edge.domain;
    this.#registers = options.config?.register !== false;
    const sockets = (options.sockets ?? [{ url: options.edge.webSocketUrl }]).map((each) => {
      const socket = new RecordingSocket(each.url, this.wire);
      if (each.viaTransport !== undefined) socket.via_transport = each.viaTransport;
      return { socket, weight: each.weight ?? 0 };
    });
    this.ua = new JsSIP.UA({
      sockets,
      uri: `sip:${options.username}@${options.edge.domain}`,
      password: options.password,
      register_expires: 300,
      connection_recovery_min_interval: 1,
      connection_recovery_max_interval: 2,
      ...options.config,
    });
    this.ua.on('registered', (event) => this.registrations.push({ status: event.response.status_code, contacts: event.response.getHeaders('contact') }));
    this.ua.on('registrationFailed', (event) => this.registrations.push({ status: event.response?.status_code ?? 0, contacts: [] }));
    this.ua.on('newRTCSession', (event: RTCSessionEvent) => {
      if (event.originator === 'remote') this.sessions.push(event.session);
    });
    this.ua.on('newMessage', (event: IncomingMessageEvent | OutgoingMessageEvent) => {
      if (event.originator === 'remote') this.messages.push({ from: event.request.from.uri.toString(), body: event.request.body });
    });
  }

  /** Connects (and registers, unless `register: false`); resolves with the first REGISTER outcome when it registers. */
  async start(): Promise<{ status: number; contacts: string[] } | undefined> {
    this.ua.start();
    if (!this.#registers) {
      await within(10_000, 'JsSIP connect', new Promise<void>((resolve) => this.ua.once('connected', () => resolve())));
      return undefined;
    }
    return this.registrations.next(15_000);
  }

  sent(method: string): WireMessage[] {
    return this.wire.filter((each) => each.direction === 'sent' && each.first === method);
  }

  responses(method: string): WireMessage[] {
    return this.wire.filter((each) => each.direction === 'received' && each.cseq.endsWith(` ${method}`) && /^\d+$/.test(each.first));
  }

  call(username: string, options: object = {}): RTCSession {
    return this.ua.call(`sip:${username}@${this.#domain}`, { ...NO_MEDIA, ...options });
  }

  /** SUBSCRIBEs to `event` of `username`; resolves with the first NOTIFY's body. */
  subscribe(username: string, event: string, accept: string): Promise<string> {
    const subscriber = this.ua.subscribe(`sip:${username}@${this.#domain}`, event, accept, { expires: 600 });
    return within(10_000, `JsSIP NOTIFY ${event}`, new Promise<string>((resolve) => {
      subscriber.on('notify', (_final: boolean, _request: unknown, body: string | undefined) => resolve(body ?? ''));
      subscriber.subscribe();
    }));
  }

  static answer(session: RTCSession): void {
    session.answer(NO_MEDIA);
  }

  message(username: string, body: string): Promise<number> {
    return within(10_000, 'JsSIP MESSAGE', new Promise((resolve) => {
      this.ua.sendMessage(`sip:${username}@${this.#domain}`, body, {
        contentType: 'text/plain;charset=utf-8',
        eventHandlers: {
          succeeded: (event: { response: { status_code: number } }) => resolve(event.response.status_code),
          failed: (event: { response?: { status_code: number } }) => resolve(event.response?.status_code ?? 0),
        },
      });
    }));
  }

  stop(): void {
    this.ua.stop();
  }
}

/** The next `event` of a JsSIP session, with its payload. */
export function jssipEvent(session: RTCSession, event: string, ms = 10_000): Promise<Record<string, unknown>> {
  return within(ms, `JsSIP ${event}`, new Promise((resolve) => {
    session.once(event as 'confirmed', (payload: unknown) => resolve((payload ?? {}) as Record<string, unknown>));
  }));
}
