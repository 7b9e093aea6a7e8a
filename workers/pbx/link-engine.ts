/**
 * Everything one PbxLink object does, without the Durable Object around it: the configuration,
 * the connection to the PBX (one at a time, reused for the link's requests and for the requests
 * the PBX sends back), the client and server transactions on it (RFC 3261 §17, a transaction
 * table in memory: they cannot outlive the connection), keep-alives (RFC 5626 §4.4.1), and the
 * registration machine (`registration-machine.ts`). The connection is a TCP/TLS stream
 * (`link-connection.ts`) or a WebSocket (`websocket-flow.ts`: `wss`, or `udp` through a media
 * node's gateway, which retransmits), so transactions always run as over a reliable transport.
 * Calls outlive a lost connection by `CALLS_GRACE_MS`, then end.
 *
 * Time: every deadline (the registration's next step, transaction timers, the next ping, a pong
 * overdue) is reported by `nextDeadline()`; the object arms its one alarm for it and calls
 * `fire(now)` when it rings. The keep-alive deadline doubles as a watchdog: after a deploy the
 * alarm still rings within a keep-alive interval, finds the connection gone, and registers again.
 *
 * Connectors must report socket events asynchronously (as the Workers socket API does), never from
 * inside the call that opens the socket.
 */
import type { Clock } from '../../shared/clock/index.ts';
import { parseUri } from '../../shared/grammar/index.ts';
import { createResponse, getTo, serializeMessage, type SipMessage, type SipRequest } from '../../shared/message/index.ts';
import {
  emptyTransactionTable,
  fireDueTimers,
  nextTimerDeadline,
  receiveRequest,
  receiveResponse,
  reportTransportError,
  sendRequest,
  sendResponse,
  type TableAction,
  type TransactionTable,
} from '../../shared/transaction/index.ts';
import type { Logger } from '../logger.ts';
import type { TraceEntry } from '../trace/trace-record.ts';
import { randomTag } from '../sip/wire.ts';
import { configView, createLinkIdentity, defaultPort, type PbxLinkConfig, type PbxLinkConfigView } from './link-config.ts';
import { LinkConnection, type ConnectionEvent, type PbxFlow } from './link-connection.ts';
import { registrationView, RECENT_OUTCOMES, statusOf, type RecentOutcome, type RegistrationView } from './link-status.ts';
import type { LinkStore, StoredLink } from './link-store.ts';
import { contactUri, createRegisterSession, LINK_ALLOW } from './register-request.ts';
import { initialRegistration, transition, type RegistrationEvent, type RegistrationState } from './registration-machine.ts';
import type { Random } from './registration-policy.ts';
import { recordOf, restoreRegistration } from './registration-record.ts';
import type { Connector, PbxTarget } from './socket-connector.ts';
import { WebSocketFlow, type WebSocketOpener } from './websocket-flow.ts';

export type PbxLinkView = PbxLinkConfigView & { readonly registration: RegistrationView };

/** What the engine reads live from its host (tests replace them on the object). */
export interface LinkHost {
  readonly clock: Clock;
  readonly connector: Connector;
  /** Opens the WebSocket of a `wss` link, or of a `udp` link's media-node gateway. */
  readonly webSockets: WebSocketOpener;
  readonly random: Random;
}

/** RFC 5626 §4.4.1: keep-alives on a connection-oriented flow; a pong is due within 10 s. */
const KEEPALIVE_INTERVAL_MS = 90_000;
const PONG_TIMEOUT_MS = 10_000;
/**
 * How long calls outlive a lost flow, waiting for a new one (the registration reconnects within a
 * second or so): 32 s, Timer D's and the gateway's absorbing window (RFC 3261 §17.1.1.2), long
 * enough for a TCP reconnect or a media node's gateway to be opened again.
 */
export const CALLS_GRACE_MS = 32_000;

interface Keepalive {
  readonly pingAt?: number;
  readonly pongBy?: number;
  /** The PBX answered a ping once, so a missing pong means the flow failed. */
  readonly pongSeen: boolean;
}

/** Where the link connects: the outbound proxy when there is one (RFC 3261 §8.1.2), else the PBX. */
export function targetOf(config: PbxLinkConfig): PbxTarget {
  const path = config.transport === 'wss' ? { path: config.ws_path ?? '/' } : {};
  if (config.outbound_proxy !== undefined) {
    const uri = parseUri(config.outbound_proxy);
    if (uri.kind === 'sip') return { host: socketHost(uri.host), port: uri.port ?? defaultPort(config.transport), transport: config.transport, ...path };
  }
  return { host: socketHost(config.host), port: config.port, transport: config.transport, ...path };
}

/** A URI writes an IPv6 address in brackets (RFC 3261 §25.1 IPv6reference); a socket takes it bare. */
function socketHost(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

function sameTarget(a: PbxTarget, b: PbxTarget): boolean {
  return a.host === b.host && a.port === b.port && a.transport === b.transport && a.path === b.path;
}

/** What the engine tells the users it registers on their behalf (`user-registrations.ts`). */
export interface UserDispatch {
  /** True when the message answers one of their REGISTERs. */
  receive(message: SipMessage, now: number): boolean;
  flowLost(detail: string, now: number): void;
  /** A binding or a request of theirs needs the connection. */
  holdsFlow(): boolean;
}

/** Where the engine hands the PBX's messages that belong to calls (`link-calls.ts`). */
export interface CallDispatch {
  /** True when the message was taken; `reply` answers a request the calls refuse before they take it. */
  receive(message: SipMessage, reply: (status: number, reason: string) => void): boolean;
  /** Some call is under way. */
  active(): boolean;
  /** The flow to the PBX is gone and did not come back within the grace: every call ends. */
  flowLost(detail: string): void;
}

export class LinkEngine {
  readonly #store: LinkStore;
  readonly #log: Logger;
  readonly #host: LinkHost;
  readonly #changed: () => void;
  #link: StoredLink | undefined;
  /** What happens once the REGISTER with expires=0 is answered. */
  #pending: { readonly kind: 'apply'; readonly link: StoredLink } | { readonly kind: 'delete' } | undefined;
  #deleted = false;
  #reg: RegistrationState;
  #recordJson: string | undefined;
  #table: TransactionTable = emptyTransactionTable;
  readonly #inFlight = new Map<string, { readonly cseq: number; readonly flow: string }>();
  #connection: PbxFlow | undefined;
  #flows = 0;
  #keepalive: Keepalive = { pongSeen: false };
  #recent: RecentOutcome[] = [];
  /** When the link's calls end unless a flow opens again (`CALLS_GRACE_MS`). */
  #callsGraceUntil: number | undefined;
  /** While calls wait for a flow: the next attempt to open one, and the backoff before it. */
  #callsReconnectAt: number | undefined;
  #callsReconnectDelay = 0;
  /** The link's calls, once the object wires them. */
  calls: CallDispatch | undefined;
  /** The link's own SIP trace: every message on its flows, both ways (`workers/trace/`). */
  trace: { record(entry: TraceEntry): void } | undefined;
  /** Times each request on the link's flows to its first response (`link-latency.ts`). */
  latency: { observe(direction: 'in' | 'out', wire: string, now: number): void } | undefined;
  /** The users the link registers on their behalf (`user-registrations.ts`), once the object wires them. */
  users: UserDispatch | undefined;

  /** Resumes from storage; `changed` is called after every socket event, for the host to re-arm its alarm. */
  constructor(store: LinkStore, log: Logger, host: LinkHost, changed: () => void, now: number) {
    this.#store = store;
    this.#log = log;
    this.#host = host;
    this.#changed = changed;
    this.#link = store.loadLink();
    const record = store.loadRecord();
    const session = createRegisterSession();
    this.#reg = record === undefined ? initialRegistration(session) : restoreRegistration(record, session, now);
    this.#recordJson = record === undefined ? undefined : JSON.stringify(record);
    if (this.#link !== undefined && record === undefined && this.#link.config.register) this.#drive({ type: 'start' }, now);
  }

  exists(): boolean {
    return this.#link !== undefined && !this.#deleted;
  }

  /** Creates or replaces the configuration; `password` undefined keeps the current one, null removes it. */
  configure(config: PbxLinkConfig, password: string | null | undefined, now: number): { created: boolean } {
    const created = !this.exists();
    const current = this.#pending?.kind === 'apply' ? this.#pending.link : created ? undefined : this.#link;
    const link: StoredLink = {
      config,
      password: password === undefined ? current?.password : (password ?? undefined),
      identity: this.#link?.identity ?? createLinkIdentity(),
    };
    const unchanged = current !== undefined && current.password === link.password && JSON.stringify(current.config) === JSON.stringify(config);
    // The same configuration again changes nothing, except that it retries a link that failed for
    // good (Asterisk: "until the configuration is reloaded").
    if (unchanged && this.#reg.phase !== 'failed') return { created: false };
    this.#store.saveLink(link, now);
    this.#deleted = false;
    this.#log.info('pbx-link.configured', { link: config.id, created, register: config.register, transport: config.transport });
    if (this.#link === undefined || !this.#bound()) {
      this.#pending = undefined;
      this.#apply(link, now);
    } else {
      // Unregister what the old configuration registered before the new one starts.
      this.#pending = { kind: 'apply', link };
      if (this.#reg.phase !== 'unregistering') this.#drive({ type: 'stop' }, now);
    }
    return { created };
  }

  /** Forgets the link: unregisters first when it is registered (RFC 3261 §10.2.2). */
  remove(now: number): boolean {
    if (!this.exists()) return false;
    this.#store.deleteAll();
    this.#deleted = true;
    this.#recordJson = undefined;
    this.#log.info('pbx-link.deleted', { link: this.#link?.config.id });
    if (this.#bound()) {
      this.#pending = { kind: 'delete' };
      if (this.#reg.phase !== 'unregistering') this.#drive({ type: 'stop' }, now);
    } else {
      this.#finishDelete();
    }
    return true;
  }

  view(): PbxLinkView | undefined {
    if (!this.exists() || this.#link === undefined) return undefined;
    const link = this.#pending?.kind === 'apply' ? this.#pending.link : this.#link;
    return {
      ...configView(link.config, link.password !== undefined),
      registration: registrationView({
        state: this.#reg,
        contact: `<${contactUri(this.#link.config, this.#link.identity)}>`,
        connection: this.#connection?.state ?? 'closed',
        recent: this.#recent,
      }),
    };
  }

  /** The stored link, while it exists. */
  link(): StoredLink | undefined {
    return this.exists() ? this.#link : undefined;
  }

  /** Writes a call's message on the connection to the PBX, opening one when there is none; false when the link is gone. */
  sendForCall(wire: string): boolean {
    if (!this.exists()) return false;
    const connection = this.#ensureConnection();
    return connection.send(wire);
  }

  /** The earliest deadline of anything the engine waits for. */
  nextDeadline(): number | undefined {
    const deadlines = [this.#reg.nextAt, nextTimerDeadline(this.#table), this.#keepalive.pingAt, this.#keepalive.pongBy, this.#callsGraceUntil, this.#callsReconnectAt];
    const armed = deadlines.filter((deadline): deadline is number => deadline !== undefined);
    return armed.length === 0 ? undefined : Math.min(...armed);
  }

  /** The alarm rang: every timer due at `now`. */
  fire(now: number): void {
    const fired = fireDueTimers(this.#table, now);
    this.#table = fired.table;
    this.#perform(fired.actions, now);
    if (this.#callsReconnectAt !== undefined && now >= this.#callsReconnectAt) {
      // A trunk that does not register has nothing else that would open a flow for its calls.
      this.#callsReconnectAt = undefined;
      if (this.exists() && this.calls?.active() === true) this.#ensureConnection();
    }
    if (this.#callsGraceUntil !== undefined && now >= this.#callsGraceUntil) {
      this.#callsGraceUntil = undefined;
      this.#callsReconnectAt = undefined;
      if (this.#connection?.state !== 'open') this.calls?.flowLost(`the connection to the PBX was lost and not restored within ${CALLS_GRACE_MS / 1000} s`);
    }
    const { pingAt, pongBy, pongSeen } = this.#keepalive;
    if (pongBy !== undefined && now >= pongBy) {
      this.#connection?.close(`no keep-alive pong within ${PONG_TIMEOUT_MS / 1000} s (RFC 5626 §4.4.1)`);
    } else if (pingAt !== undefined && now >= pingAt && this.#connection?.state === 'open') {
      this.#connection.ping();
      this.#keepalive = { pongSeen, pingAt: now + this.#keepaliveInterval(), ...(pongSeen ? { pongBy: now + PONG_TIMEOUT_MS } : {}) };
    }
    this.#drive({ type: 'timer' }, now);
  }

  /** A binding may exist at the registrar. */
  #bound(): boolean {
    const { phase, attempt } = this.#reg;
    return phase === 'registered' || phase === 'unregistering' || (phase === 'sending' && attempt !== undefined);
  }

  #apply(link: StoredLink, now: number): void {
    if (this.#connection !== undefined && !sameTarget(this.#connection.target, targetOf(link.config))) {
      this.#connection.close('the link was configured with another destination');
    }
    this.#link = link;
    this.#drive({ type: link.config.register ? 'start' : 'stop' }, now);
  }

  #finishDelete(): void {
    this.#pending = undefined;
    this.#connection?.close('the link was deleted');
    this.#connection = undefined;
    this.#link = undefined;
    this.#reg = initialRegistration(this.#reg.session);
    this.#recent = [];
    this.#keepalive = { pongSeen: false };
  }

  #drive(event: RegistrationEvent, now: number): void {
    const link = this.#link;
    if (link === undefined) return;
    const before = this.#reg.phase;
    const result = transition(this.#reg, event, { config: link.config, identity: link.identity, password: link.password, now, random: this.#host.random });
    this.#reg = result.state;
    if (result.outcome !== undefined) {
      this.#recent = [...this.#recent, { outcome: result.outcome, state: statusOf(result.state) }].slice(-RECENT_OUTCOMES);
      this.#log.info('pbx-link.outcome', { link: link.config.id, status: result.outcome.status, reason: result.outcome.reason, detail: result.outcome.detail, phase: result.state.phase });
    } else if (before !== result.state.phase) {
      this.#log.debug('pbx-link.phase', { link: link.config.id, from: before, to: result.state.phase });
    }
    this.#persist();
    if (result.send !== undefined && result.state.attempt !== undefined) this.#sendRequest(result.send, result.state.attempt.cseq, now);
    this.#settle(now);
  }

  /** Writes the registration record when what survives a restart changed, and only then. */
  #persist(): void {
    if (this.#deleted) return;
    const record = recordOf(this.#reg);
    const json = JSON.stringify(record);
    if (json === this.#recordJson) return;
    this.#store.saveRecord(record);
    this.#recordJson = json;
  }

  /** What follows a stop, and closing a connection nothing needs. */
  #settle(now: number): void {
    const { phase } = this.#reg;
    if (phase === 'stopped' && this.#pending !== undefined) {
      const pending = this.#pending;
      this.#pending = undefined;
      if (pending.kind === 'delete') this.#finishDelete();
      else this.#apply(pending.link, now);
      return;
    }
    if ((phase === 'stopped' || phase === 'failed') && this.#inFlight.size === 0 && this.users?.holdsFlow() !== true && this.calls?.active() !== true && this.#connection !== undefined) {
      this.#connection.close('the link has nothing to send');
    }
  }

  #ensureConnection(): PbxFlow {
    if (this.#connection !== undefined && this.#connection.state !== 'closed') return this.#connection;
    const link = this.#link;
    if (link === undefined) throw new RangeError('a link without configuration has nowhere to connect');
    this.#flows += 1;
    const target = targetOf(link.config);
    const flow = `flow-${this.#flows}`;
    const onEvent = (from: PbxFlow, event: ConnectionEvent): void => this.#onConnectionEvent(from, event);
    const connection: PbxFlow = target.transport === 'tcp' || target.transport === 'tls'
      ? new LinkConnection(this.#host.connector, target, flow, onEvent)
      : new WebSocketFlow(this.#host.webSockets, target, link.config.id, flow, onEvent);
    this.#connection = connection;
    this.#keepalive = { pongSeen: false };
    return connection;
  }

  #sendRequest(request: SipRequest, cseq: number, now: number): void {
    const connection = this.#ensureConnection();
    const result = sendRequest(this.#table, request, { reliable: true, flow: connection.flow }, now);
    this.#table = result.table;
    this.#inFlight.set(result.key, { cseq, flow: connection.flow });
    this.#perform(result.actions, now);
  }

  #perform(actions: readonly TableAction[], now: number, failure = 'the connection failed'): void {
    for (const action of actions) {
      switch (action.type) {
        case 'send': {
          const connection = this.#connection;
          if (connection === undefined || connection.flow !== action.flow || !connection.send(action.wire)) {
            const result = reportTransportError(this.#table, action.key, now);
            this.#table = result.table;
            this.#perform(result.actions, now, 'the connection closed before the request could be sent');
          }
          break;
        }
        case 'deliver':
          if (action.message.kind === 'response') this.#drive({ type: 'response', response: action.message }, now);
          else this.#answer(action.message, action.key, now);
          break;
        case 'timeout':
        case 'transport-error': {
          const inFlight = this.#inFlight.get(action.key);
          this.#inFlight.delete(action.key);
          if (inFlight !== undefined) {
            const detail = action.type === 'timeout' ? 'no final response within 64*T1 (RFC 3261 §17.1.2.2, Timer F)' : failure;
            this.#drive({ type: 'no-response', cseq: inFlight.cseq, status: action.status, detail }, now);
          }
          break;
        }
        case 'terminated':
          if (this.#inFlight.delete(action.key)) this.#settle(now);
          break;
        case 'stray':
          break;
      }
    }
  }

  /** A response the calls chose for a request of the PBX they did not take (a refused INVITE). */
  #reply(connection: PbxFlow, message: SipMessage, status: number, reason: string): void {
    if (message.kind !== 'request') return;
    connection.send(serializeMessage(createResponse(message, status, reason, { toTag: randomTag() })));
  }

  /** A request from the PBX over the link's flow that no call took. */
  #answer(request: SipRequest, key: string, now: number): void {
    // RFC 3261 §11.2: OPTIONS (a keep-alive, or a probe) is answered as an INVITE would be; §12.2.2:
    // a request within a dialog no call has gets 481; §21.5.2: other methods are not implemented.
    const inDialog = getTo(request)?.params.some((param) => param.name.toLowerCase() === 'tag') === true;
    const status = request.method === 'OPTIONS' ? 200 : inDialog ? 481 : 501;
    const response = createResponse(request, status, undefined, { toTag: randomTag(), headers: [{ name: 'Allow', value: LINK_ALLOW }] });
    const result = sendResponse(this.#table, key, response, now);
    this.#table = result.table;
    this.#perform(result.actions, now);
  }

  #keepaliveInterval(): number {
    // RFC 5626 §4.4.1: a random time between 80 % and 100 % of the interval.
    return Math.round(KEEPALIVE_INTERVAL_MS * (0.8 + 0.2 * this.#host.random()));
  }

  #traced(connection: PbxFlow, direction: 'in' | 'out', wire: string, now: number): void {
    const { host, transport } = connection.target;
    // `remote` is the PBX's host (an address for the pcap export, `trace-pcap.ts`).
    this.trace?.record({ direction, transport: transport.toUpperCase(), flow: connection.flow, remote: host, wire, at: now });
    this.latency?.observe(direction, wire, now);
  }

  #onConnectionEvent(connection: PbxFlow, event: ConnectionEvent): void {
    const now = this.#host.clock.now();
    this.#handleConnectionEvent(connection, event, now);
    this.#changed();
  }

  #handleConnectionEvent(connection: PbxFlow, event: ConnectionEvent, now: number): void {
    const id = this.#link?.config.id;
    switch (event.kind) {
      case 'open':
        this.#log.info('pbx-link.connected', { link: id, flow: connection.flow, ...connection.target });
        if (connection === this.#connection) {
          this.#keepalive = { pongSeen: false, pingAt: now + this.#keepaliveInterval() };
          this.#callsGraceUntil = undefined;
          this.#callsReconnectAt = undefined;
          this.#callsReconnectDelay = 0;
        }
        return;
      case 'pong':
        if (connection === this.#connection) this.#keepalive = { pongSeen: true, ...(this.#keepalive.pingAt === undefined ? {} : { pingAt: this.#keepalive.pingAt }) };
        return;
      case 'unparsable':
        this.#log.warn('pbx-link.unparsable', { link: id, flow: connection.flow, detail: event.detail });
        return;
      case 'notice':
        this.#log.info('pbx-link.transport-notice', { link: id, flow: connection.flow, detail: event.detail });
        return;
      case 'sent':
        this.#traced(connection, 'out', event.wire, now);
        return;
      case 'message': {
        const flow = connection.flow;
        const message = event.message;
        this.#traced(connection, 'in', serializeMessage(message), now);
        if (this.users?.receive(message, now) === true) return;
        if (this.calls?.receive(message, (status, reason) => this.#reply(connection, message, status, reason)) === true) return;
        const result = event.message.kind === 'response'
          ? receiveResponse(this.#table, event.message, now)
          : receiveRequest(this.#table, event.message, { reliable: true, flow }, now);
        this.#table = result.table;
        this.#perform(result.actions, now);
        return;
      }
      case 'closed': {
        const detail = event.error ?? 'the PBX closed the connection';
        this.#log.info('pbx-link.disconnected', { link: id, flow: connection.flow, detail });
        if (connection === this.#connection) {
          this.#connection = undefined;
          this.#keepalive = { pongSeen: false };
          this.users?.flowLost(detail, now);
          if (this.calls?.active() === true) {
            this.#callsGraceUntil ??= now + CALLS_GRACE_MS;
            // 1, 2, 4, 8, 8 ... s between attempts while the grace runs.
            this.#callsReconnectDelay = Math.min(Math.max(this.#callsReconnectDelay * 2, 1_000), 8_000);
            this.#callsReconnectAt = now + this.#callsReconnectDelay;
          }
        }
        for (const [key, inFlight] of [...this.#inFlight]) {
          if (inFlight.flow !== connection.flow) continue;
          const result = reportTransportError(this.#table, key, now);
          this.#table = result.table;
          this.#perform(result.actions, now, detail);
        }
        this.#drive({ type: 'flow-lost', detail }, now);
        return;
      }
    }
  }
}
