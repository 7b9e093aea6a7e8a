/**
 * The real `sip.js` and `jssip` npm packages, running in Node 22 (global WebSocket), configured as
 * an application would configure them for any RFC 7118 server. Each phone records the outcome of
 * every REGISTER transaction; tests wait for outcomes with a timeout.
 */
import * as JsSIP from 'jssip';
import { Registerer, UserAgent } from 'sip.js';

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
}

/**
 * SIP.js 0.21: `UserAgent` + `Registerer`. Like SIP.js's own SimpleUser, it reconnects when the
 * transport drops and registers again once connected.
 */
export class SipJsPhone {
  readonly #outcomes = new Outcomes();
  readonly ua: UserAgent;
  readonly registerer: Registerer;
  readonly #healthUrl: string;
  #stopped = false;
  #reconnecting = false;

  constructor(options: PhoneOptions) {
    const uri = UserAgent.makeURI(`sip:${options.username}@${options.domain}`);
    if (uri === undefined) throw new Error('bad SIP URI');
    this.ua = new UserAgent({
      uri,
      transportOptions: { server: options.webSocketUrl, connectionTimeout: 2 },
      authorizationUsername: options.username,
      authorizationPassword: options.password,
      logLevel: 'error',
      logBuiltinEnabled: false,
      delegate: {
        onDisconnect: (error) => {
          if (error !== undefined && !this.#stopped) void this.#reconnect();
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

/** JsSIP 3.13: `UA` with `WebSocketInterface`; it reconnects and re-registers by itself. */
export class JsSipPhone {
  readonly #outcomes = new Outcomes();
  readonly ua: JsSIP.UA;

  constructor(options: PhoneOptions) {
    JsSIP.debug.disable();
    this.ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(options.webSocketUrl)],
      uri: `sip:${options.username}@${options.domain}`,
      password: options.password,
      register: true,
      register_expires: 300,
      connection_recovery_min_interval: 1,
      connection_recovery_max_interval: 2,
    });
    this.ua.on('registered', (event) => this.#outcomes.push({ status: event.response.status_code, contacts: event.response.getHeaders('contact') }));
    this.ua.on('registrationFailed', (event) => this.#outcomes.push({ status: event.response?.status_code ?? 0, contacts: [] }));
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
