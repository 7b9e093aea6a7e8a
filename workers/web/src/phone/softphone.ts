/**
 * The softphone's SIP side, on SIP.js: one user agent over WebSocket to the edge's /sip, its
 * registration (kept up: a dropped socket is reconnected with backoff and the user registers
 * again), one call at a time (outgoing, incoming, mute, hold, blind transfer, DTMF), MESSAGE in
 * and out, and presence/dialog subscriptions to contacts. The page (`main.ts`) only listens to
 * the events here and calls the methods.
 */
import {
  Invitation,
  Inviter,
  Messager,
  Referral,
  Registerer,
  RegistererState,
  SessionState,
  Subscriber,
  UserAgent,
  Web,
  type InviterInviteOptions,
  type Session,
  type URI,
} from 'sip.js';
import { parsePresence, type ContactStatus } from './presence.ts';

export interface SignIn {
  readonly username: string;
  readonly password: string;
  /** The SIP domain (from the edge's /health). */
  readonly domain: string;
  /** ws(s)://<host>/sip */
  readonly webSocketUrl: string;
  readonly displayName?: string;
  readonly iceServers?: readonly RTCIceServer[];
}

export type RegistrationState = 'connecting' | 'registered' | 'unregistered' | 'reconnecting' | 'failed';
export type CallPhase = 'calling' | 'ringing' | 'incoming' | 'in call' | 'ended';

export interface CallView {
  readonly direction: 'outgoing' | 'incoming';
  /** The other party's user part (or the whole URI when not in our domain). */
  readonly peer: string;
  readonly peerName?: string;
  readonly phase: CallPhase;
  readonly muted: boolean;
  readonly held: boolean;
  /** ms since the epoch, once answered. */
  readonly answeredAt?: number;
  /** Why it ended (status text), once ended. */
  readonly reason?: string;
}

export interface SoftphoneEvents {
  registration(state: RegistrationState, detail: string): void;
  call(view: CallView | undefined): void;
  /** Remote and local streams of the established call (for the speaker and the level meters). */
  media(local: MediaStream, remote: MediaStream): void;
  message(from: string, body: string): void;
  contactStatus(user: string, status: ContactStatus): void;
}

const RECONNECT_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

export class Softphone {
  readonly #config: SignIn;
  readonly #events: SoftphoneEvents;
  readonly #ua: UserAgent;
  readonly #registerer: Registerer;
  readonly #subscribers = new Map<string, Subscriber[]>();
  #session: Session | undefined;
  #view: CallView | undefined;
  #microphone: string | undefined;
  #reconnectAttempt = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #stopping = false;
  /** Resolves `start()` with the first REGISTER's final status. */
  #firstStatus: ((status: number) => void) | undefined;

  constructor(config: SignIn, events: SoftphoneEvents) {
    this.#config = config;
    this.#events = events;
    this.#ua = new UserAgent({
      uri: this.uri(config.username),
      displayName: config.displayName ?? config.username,
      transportOptions: { server: config.webSocketUrl, traceSip: false },
      authorizationUsername: config.username,
      authorizationPassword: config.password,
      logLevel: 'error',
      userAgentString: 'sipedge-phone',
      // No STUN server unless one is configured: SIP.js would otherwise default to a public one.
      sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [...(config.iceServers ?? [])] }, iceGatheringTimeout: 3_000 },
      delegate: {
        onConnect: () => {
          this.#reconnectAttempt = 0;
          void this.register();
        },
        onDisconnect: (error) => {
          if (this.#stopping) return;
          this.#events.registration('reconnecting', error?.message ?? 'the connection closed');
          this.scheduleReconnect();
        },
        onInvite: (invitation) => this.incoming(invitation),
        onMessage: (message) => {
          void message.accept();
          this.#events.message(userOf(message.request.from.uri), message.request.body);
        },
      },
    });
    this.#registerer = new Registerer(this.#ua, { expires: 300 });
    this.#registerer.stateChange.addListener((state) => {
      if (state === RegistererState.Unregistered && !this.#stopping && this.#ua.isConnected()) this.#events.registration('unregistered', 'not registered');
    });
  }

  get call(): CallView | undefined {
    return this.#view;
  }

  /** Connects and registers; resolves with the REGISTER's final status (200 when signed in). */
  async start(): Promise<number> {
    this.#events.registration('connecting', `connecting to ${this.#config.webSocketUrl}`);
    const status = new Promise<number>((resolve) => {
      this.#firstStatus = resolve;
    });
    try {
      await this.#ua.start();
    } catch (error) {
      this.#events.registration('reconnecting', error instanceof Error ? error.message : 'could not connect');
      this.scheduleReconnect();
    }
    return status;
  }

  private async register(): Promise<void> {
    await this.#registerer.register({
      requestDelegate: {
        // Reported here, not from the Registerer's state: after a reconnect it may still read Registered.
        onAccept: (response) => {
          this.#events.registration('registered', `registered as sip:${this.#config.username}@${this.#config.domain}`);
          this.settle(response.message.statusCode ?? 0);
        },
        onReject: (response) => {
          const status = response.message.statusCode;
          this.#events.registration('failed', `registration refused: ${status} ${response.message.reasonPhrase}`);
          this.settle(status ?? 0);
        },
      },
    }).catch((error: unknown) => this.#events.registration('failed', error instanceof Error ? error.message : 'registration failed'));
  }

  private settle(status: number): void {
    this.#firstStatus?.(status);
    this.#firstStatus = undefined;
  }

  private scheduleReconnect(): void {
    if (this.#reconnectTimer !== undefined || this.#stopping) return;
    const delay = RECONNECT_DELAYS_MS[Math.min(this.#reconnectAttempt, RECONNECT_DELAYS_MS.length - 1)] ?? 30_000;
    this.#reconnectAttempt += 1;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#ua.reconnect().catch(() => this.scheduleReconnect());
    }, delay);
  }

  /** Unregisters and closes the socket. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#reconnectTimer);
    await this.#session?.dispose().catch(() => undefined);
    for (const list of this.#subscribers.values()) for (const subscriber of list) await subscriber.dispose().catch(() => undefined);
    if (this.#registerer.state === RegistererState.Registered) await this.#registerer.unregister().catch(() => undefined);
    await this.#ua.stop();
  }

  uri(target: string): URI {
    const text = target.startsWith('sip:') || target.startsWith('sips:') ? target : `sip:${target.includes('@') ? target : `${target}@${this.#config.domain}`}`;
    const uri = UserAgent.makeURI(text);
    if (uri === undefined) throw new Error(`"${target}" is not a valid SIP address`);
    return uri;
  }

  setMicrophone(deviceId: string | undefined): void {
    this.#microphone = deviceId;
  }

  private media(): { constraints: MediaStreamConstraints } {
    return { constraints: { audio: this.#microphone === undefined ? true : { deviceId: { exact: this.#microphone } }, video: false } };
  }

  async dial(target: string): Promise<void> {
    if (this.#session !== undefined) throw new Error('a call is already in progress');
    const inviter = new Inviter(this.#ua, this.uri(target), { sessionDescriptionHandlerOptions: this.media() });
    this.follow(inviter, { direction: 'outgoing', peer: shortName(target), phase: 'calling', muted: false, held: false });
    await inviter.invite(this.inviteOptions());
  }

  /** Follows an outgoing INVITE: ringing on 180/183, the refusal's status line as the reason. */
  private inviteOptions(): InviterInviteOptions {
    return {
      requestDelegate: {
        onProgress: (response) => {
          if (response.message.statusCode === 180 || response.message.statusCode === 183) this.update({ phase: 'ringing' });
        },
        onReject: (response) => this.update({ reason: `${response.message.statusCode} ${response.message.reasonPhrase}` }),
      },
    };
  }

  private incoming(invitation: Invitation): void {
    if (this.#session !== undefined) {
      void invitation.reject({ statusCode: 486 });
      return;
    }
    const from = invitation.remoteIdentity;
    this.follow(invitation, { direction: 'incoming', peer: userOf(from.uri), peerName: from.displayName || undefined, phase: 'incoming', muted: false, held: false });
  }

  async answer(): Promise<void> {
    const session = this.#session;
    if (!(session instanceof Invitation)) return;
    await session.accept({ sessionDescriptionHandlerOptions: this.media() });
  }

  async decline(): Promise<void> {
    const session = this.#session;
    if (!(session instanceof Invitation)) return;
    this.update({ reason: 'declined' });
    await session.reject({ statusCode: 603 });
  }

  async hangUp(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    if (session.state === SessionState.Established) await session.bye();
    else if (session instanceof Inviter) await session.cancel();
    else if (session instanceof Invitation) await session.reject();
  }

  toggleMute(): void {
    const view = this.#view;
    const handler = this.handler();
    if (view === undefined || handler === undefined) return;
    handler.enableSenderTracks(view.muted);
    this.update({ muted: !view.muted });
  }

  async toggleHold(): Promise<void> {
    const view = this.#view;
    const session = this.#session;
    if (view === undefined || session === undefined || session.state !== SessionState.Established) return;
    const hold = !view.held;
    session.sessionDescriptionHandlerOptionsReInvite = { hold } as Web.SessionDescriptionHandlerOptions;
    await session.invite({
      requestDelegate: {
        onAccept: () => {
          this.handler()?.enableSenderTracks(!hold && !view.muted);
          this.update({ held: hold });
        },
      },
    });
  }

  /** Blind transfer (REFER): the other party is asked to call `target`; this call then ends. */
  async transfer(target: string): Promise<void> {
    const session = this.#session;
    if (session === undefined || session.state !== SessionState.Established) throw new Error('no call to transfer');
    await session.refer(this.uri(target), {
      requestDelegate: {
        onAccept: () => void session.bye().catch(() => undefined),
        onReject: (response) => this.update({ reason: `transfer refused: ${response.message.statusCode} ${response.message.reasonPhrase}` }),
      },
    });
  }

  /** RFC 4733 telephone events on the call's audio; falls back to SIP INFO when the track has no DTMF sender. */
  async dtmf(tone: string): Promise<void> {
    const session = this.#session;
    if (session === undefined || session.state !== SessionState.Established) return;
    if (this.handler()?.sendDtmf(tone) === true) return;
    await session.info({ requestOptions: { body: { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: `Signal=${tone}\r\nDuration=160` } } });
  }

  /** Sends a MESSAGE; resolves with the final status (200/202 delivered or stored). */
  sendMessage(to: string, body: string): Promise<number> {
    return new Promise((resolve, reject) => {
      new Messager(this.#ua, this.uri(to), body, 'text/plain;charset=utf-8')
        .message({
          requestDelegate: {
            onAccept: (response) => resolve(response.message.statusCode ?? 0),
            onReject: (response) => resolve(response.message.statusCode ?? 0),
          },
        })
        .catch(reject);
    });
  }

  /** Watches a contact: presence (open/closed) and dialog (busy-lamp). */
  watch(contact: string): void {
    if (this.#subscribers.has(contact)) return;
    const list = (['presence', 'dialog'] as const).map((event) => {
      const subscriber = new Subscriber(this.#ua, this.uri(contact), event, { expires: 600 });
      subscriber.delegate = {
        onNotify: (notification) => {
          void notification.accept();
          const status = parsePresence(event, notification.request.body);
          if (status !== undefined) this.#events.contactStatus(contact, status);
        },
      };
      void subscriber.subscribe().catch(() => undefined);
      return subscriber;
    });
    this.#subscribers.set(contact, list);
  }

  unwatch(contact: string): void {
    for (const subscriber of this.#subscribers.get(contact) ?? []) void subscriber.dispose().catch(() => undefined);
    this.#subscribers.delete(contact);
  }

  private handler(): Web.SessionDescriptionHandler | undefined {
    const handler = this.#session?.sessionDescriptionHandler;
    return handler instanceof Web.SessionDescriptionHandler ? handler : undefined;
  }

  /**
   * The other party transferred this call (REFER, RFC 3515): the call ends here and a new one
   * goes to the transfer target, reported to the transferor with NOTIFYs by SIP.js.
   */
  private transferred(referral: Referral, old: Session): void {
    const target = userOf(referral.referTo.uri);
    void referral
      .accept()
      .then(async () => {
        const ended = this.#view;
        this.#session = undefined;
        this.#view = undefined;
        if (ended !== undefined) this.#events.call({ ...ended, phase: 'ended', reason: `transferred to ${target}` });
        this.#events.call(undefined);
        if (old.state === SessionState.Established) void old.bye().catch(() => undefined);
        const inviter = referral.makeInviter({ sessionDescriptionHandlerOptions: this.media() });
        this.follow(inviter, { direction: 'outgoing', peer: target, phase: 'calling', muted: false, held: false });
        await inviter.invite(this.inviteOptions());
      })
      .catch(() => undefined);
  }

  private follow(session: Session, view: CallView): void {
    this.#session = session;
    this.#view = view;
    this.#events.call(view);
    session.delegate = { onRefer: (referral) => this.transferred(referral, session) };
    session.stateChange.addListener((state) => {
      if (this.#session !== session) return;
      if (state === SessionState.Established) {
        this.update({ phase: 'in call', answeredAt: Date.now() });
        const handler = this.handler();
        if (handler !== undefined) this.#events.media(handler.localMediaStream, handler.remoteMediaStream);
      }
      if (state === SessionState.Terminated) {
        const ended = this.#view;
        this.#session = undefined;
        this.#view = undefined;
        if (ended !== undefined) this.#events.call({ ...ended, phase: 'ended', reason: ended.reason ?? (ended.answeredAt === undefined ? 'not answered' : 'hung up') });
        this.#events.call(undefined);
      }
    });
  }

  private update(change: Partial<CallView>): void {
    if (this.#view === undefined) return;
    this.#view = { ...this.#view, ...change };
    this.#events.call(this.#view);
  }
}

function userOf(uri: URI): string {
  return uri.user ?? uri.toString();
}

function shortName(target: string): string {
  return target.replace(/^sips?:/, '').replace(/@.*$/, '');
}
