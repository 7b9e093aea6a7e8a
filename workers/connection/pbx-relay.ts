/**
 * WebSocket registration mode (README, "Registration modes"): a browser socket whose user is in
 * that mode is relayed, message for message, to the PBX's own SIP over WebSocket endpoint
 * (RFC 7118). The browser registers and authenticates to the PBX with its own PBX credentials; the
 * edge is neither registrar nor B2BUA for it, and only records each message in the user's SIP
 * trace (`workers/trace/`, credentials redacted there).
 *
 * One outgoing WebSocket per browser socket, opened when the socket turns out to be relayed: the
 * PBX sees one flow per browser, so its RFC 5626 outbound keeps the flows apart. Closing either
 * side closes the other. The outgoing socket keeps the holder's object in memory: a relayed socket
 * does not hibernate.
 *
 * Which socket is relayed is decided once per socket, on its first message, by its holder:
 * - on `/sip/<user>`: the user's own object knows its mode (no RPC);
 * - on the shared `/sip`: only a first request whose address (To of a REGISTER, From otherwise) is
 *   outside every domain the edge serves, which the edge would otherwise refuse, makes the
 *   SipConnection ask the SipUser named by that address's user part in the installation's domain
 *   (SIPEDGE_DOMAIN); a socket of a served domain (proxy mode) costs nothing more than reading its
 *   first message's address (and the cached lookup of its domain). Users of other domains in this
 *   mode connect on their per-user URL, `/sip/<user>@<domain>`.
 */
import { unescapeUri } from '../../shared/grammar/index.ts';
import { getFrom, getTo, parseMessage, SipParseError } from '../../shared/message/index.ts';
import type { Logger } from '../logger.ts';
import { errorFields } from '../logger.ts';
import type { PbxTarget } from '../pbx/socket-connector.ts';
import { webSocketOpener } from '../pbx/websocket-opener.ts';
import { aorForUser } from '../sip/address-of-record.ts';
import type { Flow } from '../sip/flow.ts';
import type { TraceEntry } from '../trace/trace-record.ts';

/** Where a user in WebSocket registration mode is relayed to: its PbxLink's WebSocket endpoint. */
export interface RelayTarget {
  readonly link: string;
  readonly target: PbxTarget;
}

export interface PbxRelayPorts {
  readonly flow: Flow;
  readonly log: Logger;
  /** Writes on the browser's socket. */
  toBrowser(data: string | ArrayBuffer): void;
  /** Closes the browser's socket. */
  closeBrowser(code: number, reason: string): void;
  /** Adds messages to the user's SIP trace. */
  record(entries: TraceEntry[]): void;
}

/** Opens the PBX side: SIP over WebSocket with the `sip` subprotocol, the certificate verified. */
export type PbxSocketOpener = (relay: RelayTarget) => Promise<WebSocket>;

/** The opener of a relay's PBX side (a `wss` link's URL, as the PbxLink's own flow uses). */
export const openPbxSocket: PbxSocketOpener = (() => {
  const opener = webSocketOpener({ fetch: (input, init) => fetch(input, init), secret: () => undefined, pickNode: async () => undefined });
  return (relay: RelayTarget) => opener(relay.target, relay.link);
})();

/** Close codes a peer may send (RFC 6455 §7.4): 1005, 1006 and 1015 only describe what happened. */
function sendableCode(code: number): number {
  return code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
}

function textOf(data: string | ArrayBuffer): string {
  return typeof data === 'string' ? data : new TextDecoder().decode(data);
}

export class PbxRelay {
  readonly #ports: PbxRelayPorts;
  #pbx: WebSocket | undefined;
  /** Browser messages that arrived before the PBX side opened. */
  #waiting: (string | ArrayBuffer)[] = [];
  #closed = false;
  /** Trace entries gathered in this turn, recorded together. */
  #entries: TraceEntry[] = [];

  constructor(opening: Promise<WebSocket>, ports: PbxRelayPorts) {
    this.#ports = ports;
    opening.then(
      (socket) => this.#attach(socket),
      (error: unknown) => this.#end(1011, 'the PBX cannot be reached', errorFields(error)),
    );
  }

  /** A message from the browser: to the PBX, and to the trace. */
  fromBrowser(data: string | ArrayBuffer): void {
    if (this.#closed) return;
    this.#trace('in', data);
    if (this.#pbx === undefined) {
      this.#waiting.push(data);
      return;
    }
    this.#sendToPbx(data);
  }

  /** The browser's socket closed: so does the PBX side. */
  browserClosed(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flush();
    this.#ports.log.info('sip.relay.closed', { by: 'browser', code });
    try {
      this.#pbx?.close(sendableCode(code), reason.slice(0, 100));
    } catch {
      // Already closing.
    }
  }

  #attach(socket: WebSocket): void {
    if (this.#closed) {
      socket.close(1000, 'the browser left');
      return;
    }
    this.#pbx = socket;
    socket.addEventListener('message', (event) => this.#fromPbx(event.data as string | ArrayBuffer));
    socket.addEventListener('close', (event) => this.#end(sendableCode(event.code), event.reason === '' ? 'the PBX closed the WebSocket' : event.reason, { code: event.code }));
    socket.addEventListener('error', () => this.#end(1011, 'the PBX WebSocket failed', {}));
    this.#ports.log.info('sip.relay.opened', { flow: this.#ports.flow.connectionId });
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const data of waiting) this.#sendToPbx(data);
  }

  #fromPbx(data: string | ArrayBuffer): void {
    if (this.#closed) return;
    this.#trace('out', data);
    try {
      this.#ports.toBrowser(data);
    } catch (error) {
      this.#end(1000, 'the browser left', errorFields(error));
    }
  }

  #sendToPbx(data: string | ArrayBuffer): void {
    try {
      this.#pbx?.send(data);
    } catch (error) {
      this.#end(1011, 'the PBX WebSocket failed', errorFields(error));
    }
  }

  /** The PBX side ended (or never opened): the browser's socket closes too. */
  #end(code: number, reason: string, fields: Record<string, unknown>): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting = [];
    this.#flush();
    this.#ports.log.info('sip.relay.closed', { by: 'pbx', reason, ...fields });
    try {
      this.#ports.closeBrowser(code, reason);
    } catch {
      // Already closing.
    }
  }

  #trace(direction: 'in' | 'out', data: string | ArrayBuffer): void {
    const wire = textOf(data);
    // Keep-alives (RFC 5626 §4.4.1) are relayed, not traced.
    if (wire.trim() === '') return;
    const flow = this.#ports.flow;
    this.#entries.push({ direction, transport: flow.transport, flow: flow.connectionId, remote: flow.remoteAddress, wire, at: Date.now() });
    if (this.#entries.length === 1) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    if (this.#entries.length === 0) return;
    const entries = this.#entries;
    this.#entries = [];
    try {
      this.#ports.record(entries);
    } catch (error) {
      this.#ports.log.warn('sip.relay.trace-failed', errorFields(error));
    }
  }
}

/**
 * On the shared `/sip`: the address a socket's first message may belong to a relayed user by, when
 * it is a request whose address (To of a REGISTER, From otherwise) names a user: its user part
 * (unescaped) and host. Undefined for everything else.
 */
export function relayCandidate(data: string | ArrayBuffer): { readonly user: string; readonly host: string } | undefined {
  let address;
  try {
    const message = parseMessage(textOf(data));
    if (message.kind !== 'request') return undefined;
    address = message.method === 'REGISTER' ? getTo(message) : getFrom(message);
  } catch (error) {
    if (error instanceof SipParseError) return undefined;
    throw error;
  }
  if (address === undefined) return undefined;
  const uri = address.uri;
  if (uri.kind !== 'sip' || uri.user === undefined || uri.user === '') return undefined;
  return { user: unescapeUri(uri.user), host: uri.host };
}

/** Which domains the shared `/sip` serves: a candidate's host in one of them is the edge's own business. */
export interface RelayDomains {
  /** SIPEDGE_DOMAIN: the domain of the users a relayed address names. */
  readonly installation: string;
  /** Whether `host` is the name or an alias of a served domain. */
  served(host: string): Promise<boolean>;
}

/** What the shared `/sip` socket's holder asks the SipUser of a candidate AOR. */
export interface RelayedUser {
  relayTarget(): Promise<RelayTarget | undefined>;
  recordRelayed(entries: TraceEntry[]): Promise<void>;
}

/**
 * On the shared `/sip`: whether the socket whose first message is `first` is relayed. Undefined for a
 * keep-alive, which decides nothing (the next message does); otherwise resolves to the relay, or to
 * undefined for a socket the edge handles itself.
 */
export function relayOnFirstMessage(
  first: string | ArrayBuffer,
  domains: RelayDomains,
  user: (aor: string) => RelayedUser,
  open: PbxSocketOpener,
  ports: Omit<PbxRelayPorts, 'record'>,
): Promise<PbxRelay | undefined> | undefined {
  if (textOf(first).trim() === '') return undefined;
  const candidate = relayCandidate(first);
  if (candidate === undefined) return Promise.resolve(undefined);
  return domains.served(candidate.host).then(
    (served) => (served ? undefined : relayTo(aorForUser(candidate.user, domains.installation), user, open, ports)),
    (error: unknown) => {
      ports.log.warn('sip.relay.lookup-failed', { host: candidate.host, ...errorFields(error) });
      return undefined;
    },
  );
}

function relayTo(aor: string, user: (aor: string) => RelayedUser, open: PbxSocketOpener, ports: Omit<PbxRelayPorts, 'record'>): Promise<PbxRelay | undefined> {
  const stub = user(aor);
  return stub.relayTarget().then(
    (target) => startRelay(target, open, { ...ports, record: (entries) => void stub.recordRelayed(entries).catch((error: unknown) => ports.log.warn('sip.relay.trace-failed', errorFields(error))) }),
    (error: unknown) => {
      ports.log.warn('sip.relay.lookup-failed', { aor, ...errorFields(error) });
      return undefined;
    },
  );
}

/** Starts relaying a socket to `target`; undefined when there is none (the user is in proxy mode, or its link is not `wss`). */
export function startRelay(target: RelayTarget | undefined, open: PbxSocketOpener, ports: PbxRelayPorts): PbxRelay | undefined {
  if (target === undefined) return undefined;
  return new PbxRelay(open(target), ports);
}
