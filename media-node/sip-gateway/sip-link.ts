/**
 * One PbxLink's SIP over UDP: a socket of its own toward one PBX, and the UDP-only half of RFC 3261
 * §17 done here so the edge is woken once per message, not once per retransmission.
 *
 * The edge's requests (client transactions, §17.1):
 *   INVITE: resent after T1, 2*T1, 4*T1, ... (Timer A) until any response; none by 64*T1 (Timer B):
 *   `timeout`. Other methods: resent after T1, doubling up to T2 (Timer E), every T2 once a
 *   provisional came, until a final response; none by 64*T1 (Timer F): `timeout`. ACK is sent once.
 *   A response identical to one already forwarded is a retransmission: not forwarded again; a final
 *   INVITE response the edge has ACKed gets that ACK again (§17.1.1.3, §13.2.2.4).
 * The PBX's requests (server transactions, §17.2):
 *   the first is forwarded; a retransmission gets the edge's last response again, or nothing while
 *   the edge has not answered (§17.2.1, §17.2.2). A final INVITE response is resent after T1,
 *   doubling up to T2 (Timer G), until the ACK; none by 64*T1 (Timer H): `ack-timeout`. An ACK for a
 *   2xx is forwarded once (the dialog needs it); one for a non-2xx only stops Timer G.
 *   Responses go back to where the request came from (RFC 3581 symmetric response routing).
 *
 * Only the PBX's address may talk to the link; other senders are dropped and counted. Transactions
 * are forgotten 64*T1 after they end (Timers J and K's purpose: absorbing late retransmissions).
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:dgram';
import { silentLogger, type Logger } from '../logger.ts';
import type { GatewayFrame, TransportAddress } from './gateway-protocol.ts';
import { bindOn, type LinkPortRange } from './link-port-range.ts';
import { dialogRequestKey, identify, transactionKey, type MessageIdentity } from './transaction-identity.ts';

export interface SipTiming {
  /** RFC 3261 §17.1.1.1: 500 ms. */
  readonly t1: number;
  /** 4 s. */
  readonly t2: number;
}

export const DEFAULT_SIP_TIMING: SipTiming = { t1: 500, t2: 4000 };

/** Real timers by default; a test may pass its own. */
export interface LinkTimers {
  after(ms: number, run: () => void): () => void;
}

const realTimers: LinkTimers = {
  after(ms, run) {
    const timer = setTimeout(run, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export interface SipLinkOptions {
  readonly bindAddress: string;
  /** The address the edge writes in Via and Contact: the link's own as the PBX reaches it. */
  readonly publicAddress: string;
  /** Where the link's port comes from; default any free port. */
  readonly ports?: LinkPortRange | undefined;
  readonly timing?: SipTiming;
  readonly timers?: LinkTimers;
  readonly logger?: Logger;
}

export interface SipLinkCounters {
  requestsSent: number;
  responsesSent: number;
  retransmissions: number;
  received: number;
  /** Retransmissions from the PBX answered or dropped here instead of forwarded. */
  absorbed: number;
  /** Datagrams from anyone but the PBX. */
  strangers: number;
  /** Datagrams that are not SIP the gateway can read (forwarded all the same when from the PBX). */
  unreadable: number;
  timeouts: number;
}

interface ClientTransaction {
  readonly invite: boolean;
  readonly id: string | undefined;
  readonly identity: MessageIdentity;
  readonly bytes: Buffer;
  /** Texts of the responses forwarded. */
  readonly forwarded: Set<string>;
  interval: number;
  state: 'calling' | 'proceeding' | 'completed';
  cancelRetransmit: () => void;
  cancelTimeout: () => void;
}

interface ServerTransaction {
  readonly identity: MessageIdentity;
  readonly from: TransportAddress;
  lastResponse: Buffer | undefined;
  final: boolean;
  acked: boolean;
  cancelRetransmit: () => void;
  cancelTimeout: () => void;
}

export class SipLink {
  readonly id: string;
  readonly counters: SipLinkCounters = { requestsSent: 0, responsesSent: 0, retransmissions: 0, received: 0, absorbed: 0, strangers: 0, unreadable: 0, timeouts: 0 };
  readonly #socket: Socket;
  readonly #local: TransportAddress;
  readonly #timing: SipTiming;
  readonly #timers: LinkTimers;
  readonly #logger: Logger;
  readonly #ports: LinkPortRange | undefined;
  readonly #clients = new Map<string, ClientTransaction>();
  readonly #servers = new Map<string, ServerTransaction>();
  /** The edge's ACK for each INVITE (by Call-ID and CSeq), to answer the final response's retransmissions. */
  readonly #acks = new Map<string, Buffer>();
  #pbx: TransportAddress;
  #sink: (frame: GatewayFrame) => void = () => {};
  #closed = false;

  private constructor(id: string, socket: Socket, local: TransportAddress, pbx: TransportAddress, options: SipLinkOptions) {
    this.id = id;
    this.#socket = socket;
    this.#local = local;
    this.#pbx = pbx;
    this.#timing = options.timing ?? DEFAULT_SIP_TIMING;
    this.#timers = options.timers ?? realTimers;
    this.#logger = options.logger ?? silentLogger;
    this.#ports = options.ports;
    socket.on('message', (message, info) => this.#onDatagram(message, { address: info.address, port: info.port }));
    socket.on('error', (error) => this.#logger.warn('sip link socket error', { link: id, error: String(error) }));
  }

  /**
   * Binds a UDP socket (from `options.ports`, else any free port) for a link toward `pbx` (an IP
   * address); throws `LinkPortsExhaustedError` when the range has no free port.
   */
  static async open(id: string, pbx: TransportAddress, options: SipLinkOptions): Promise<SipLink> {
    const socket = options.ports === undefined ? await bindOn(options.bindAddress, 0) : await options.ports.bind(options.bindAddress);
    if (socket === undefined) throw new Error(`cannot bind a UDP socket on ${options.bindAddress}`);
    return new SipLink(id, socket, { address: options.publicAddress, port: socket.address().port }, pbx, options);
  }

  /** The address and port to name in Via and Contact. */
  get local(): TransportAddress {
    return this.#local;
  }

  get pbx(): TransportAddress {
    return this.#pbx;
  }

  set pbx(pbx: TransportAddress) {
    this.#pbx = pbx;
  }

  /** Where frames for the edge go: its current WebSocket, or a holding queue while it has none. */
  set sink(sink: (frame: GatewayFrame) => void) {
    this.#sink = sink;
  }

  /** A SIP message from the edge for the PBX. Returns why it cannot be sent, or undefined. */
  send(text: string, id: string | undefined): string | undefined {
    if (this.#closed) return 'the link is closed';
    const read = identify(text);
    if (!read.ok) return read.error;
    const identity = read.value;
    const bytes = Buffer.from(text, 'utf8');
    if (identity.kind === 'response') return this.#sendResponse(identity, bytes, id);
    if (identity.method === 'ACK') {
      this.#acks.set(dialogRequestKey(identity), bytes);
      this.#timers.after(64 * this.#timing.t1, () => this.#acks.delete(dialogRequestKey(identity)));
      this.#transmit(bytes, this.#pbx, id);
      this.counters.requestsSent++;
      return undefined;
    }
    const key = transactionKey(identity);
    const existing = this.#clients.get(key);
    if (existing !== undefined) {
      // The edge retried a request the gateway is already retransmitting.
      return undefined;
    }
    const invite = identity.method === 'INVITE';
    const transaction: ClientTransaction = {
      invite,
      id,
      identity,
      bytes,
      forwarded: new Set(),
      interval: this.#timing.t1,
      state: 'calling',
      cancelRetransmit: () => {},
      cancelTimeout: () => {},
    };
    this.#clients.set(key, transaction);
    this.#transmit(bytes, this.#pbx, id);
    this.counters.requestsSent++;
    this.#scheduleRequestRetransmit(transaction);
    // Timer B / Timer F.
    transaction.cancelTimeout = this.#timers.after(64 * this.#timing.t1, () => {
      if (transaction.state === 'completed') return;
      transaction.cancelRetransmit();
      this.#clients.delete(key);
      this.counters.timeouts++;
      this.#emit({ type: 'timeout', ...(id === undefined ? {} : { id }), method: identity.method, branch: identity.branch, callId: identity.callId });
    });
    return undefined;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const transaction of this.#clients.values()) {
      transaction.cancelRetransmit();
      transaction.cancelTimeout();
    }
    for (const transaction of this.#servers.values()) {
      transaction.cancelRetransmit();
      transaction.cancelTimeout();
    }
    this.#clients.clear();
    this.#servers.clear();
    return new Promise((resolve) =>
      this.#socket.close(() => {
        this.#ports?.release(this.#local.port);
        resolve();
      }),
    );
  }

  #scheduleRequestRetransmit(transaction: ClientTransaction): void {
    transaction.cancelRetransmit = this.#timers.after(transaction.interval, () => {
      if (this.#closed || transaction.state === 'completed') return;
      this.#transmit(transaction.bytes, this.#pbx, transaction.id);
      this.counters.retransmissions++;
      // Timer A doubles without bound; Timer E doubles up to T2, and stays at T2 once proceeding.
      if (transaction.invite) transaction.interval *= 2;
      else transaction.interval = transaction.state === 'proceeding' ? this.#timing.t2 : Math.min(transaction.interval * 2, this.#timing.t2);
      this.#scheduleRequestRetransmit(transaction);
    });
  }

  #sendResponse(identity: MessageIdentity, bytes: Buffer, id: string | undefined): string | undefined {
    const transaction = this.#servers.get(transactionKey(identity));
    if (transaction === undefined) return `no request from the PBX with branch ${identity.branch} and method ${identity.method} is waiting for a response`;
    transaction.lastResponse = bytes;
    this.#transmit(bytes, transaction.from, id);
    this.counters.responsesSent++;
    if (identity.status < 200 || transaction.final) return undefined;
    transaction.final = true;
    transaction.cancelTimeout();
    if (identity.method === 'INVITE') {
      this.#retransmitFinal(transaction, this.#timing.t1);
      // Timer H.
      transaction.cancelTimeout = this.#timers.after(64 * this.#timing.t1, () => {
        transaction.cancelRetransmit();
        if (!transaction.acked) {
          this.counters.timeouts++;
          this.#emit({ type: 'ack-timeout', ...(id === undefined ? {} : { id }), callId: identity.callId, cseq: identity.cseq });
        }
        this.#forgetLater(transaction);
      });
    } else this.#forgetLater(transaction);
    return undefined;
  }

  /** Timer G: the final INVITE response again, T1 doubling up to T2, until the ACK. */
  #retransmitFinal(transaction: ServerTransaction, interval: number): void {
    transaction.cancelRetransmit = this.#timers.after(interval, () => {
      if (this.#closed || transaction.acked || transaction.lastResponse === undefined) return;
      this.#transmit(transaction.lastResponse, transaction.from, undefined);
      this.counters.retransmissions++;
      this.#retransmitFinal(transaction, Math.min(interval * 2, this.#timing.t2));
    });
  }

  #forgetLater(transaction: ServerTransaction): void {
    const key = transactionKey(transaction.identity);
    this.#timers.after(64 * this.#timing.t1, () => {
      if (this.#servers.get(key) === transaction) this.#servers.delete(key);
    });
  }

  #onDatagram(message: Buffer, from: TransportAddress): void {
    if (this.#closed) return;
    if (from.address !== this.#pbx.address) {
      this.counters.strangers++;
      return;
    }
    const text = message.toString('utf8');
    if (/^\s*$/.test(text)) return; // RFC 5626 §4.4.1 keep-alive (CRLF): nothing to forward.
    const read = identify(text);
    if (!read.ok) {
      // The edge answers malformed requests (400) itself: forward as is.
      this.counters.unreadable++;
      this.#forward(text, from);
      return;
    }
    const identity = read.value;
    if (identity.kind === 'response') this.#onResponse(identity, text);
    else this.#onRequest(identity, text, from);
  }

  #onResponse(identity: MessageIdentity, text: string): void {
    const ack = identity.method === 'INVITE' && identity.status >= 200 ? this.#acks.get(dialogRequestKey(identity)) : undefined;
    if (ack !== undefined) {
      // A final response the edge has ACKed, again: the ACK was lost.
      this.counters.absorbed++;
      this.#transmit(ack, this.#pbx, undefined);
      return;
    }
    const transaction = this.#clients.get(transactionKey(identity));
    if (transaction !== undefined) {
      if (transaction.forwarded.has(text)) {
        this.counters.absorbed++;
        return;
      }
      transaction.forwarded.add(text);
      if (identity.status >= 200) {
        transaction.state = 'completed';
        transaction.cancelRetransmit();
        transaction.cancelTimeout();
        const key = transactionKey(identity);
        // Timer K / the INVITE's 2xx retransmissions: identical copies are absorbed a while longer.
        this.#timers.after(64 * this.#timing.t1, () => {
          if (this.#clients.get(key) === transaction) this.#clients.delete(key);
        });
      } else if (transaction.state === 'calling') {
        transaction.state = 'proceeding';
        if (transaction.invite) transaction.cancelRetransmit();
      }
    }
    this.#forward(text, this.#pbx);
  }

  #onRequest(identity: MessageIdentity, text: string, from: TransportAddress): void {
    const key = transactionKey(identity);
    const existing = this.#servers.get(key);
    if (identity.method === 'ACK') {
      const invite = existing ?? this.#inviteFor(identity);
      if (invite !== undefined) {
        const firstAck = !invite.acked;
        invite.acked = true;
        invite.cancelRetransmit();
        // The ACK of a non-2xx belongs to the transaction (§17.2.1); that of a 2xx to the dialog.
        const twoHundred = invite.lastResponse !== undefined && /^SIP\/2\.0 2/i.test(invite.lastResponse.toString('latin1', 0, 12));
        if (!twoHundred || !firstAck) {
          this.counters.absorbed++;
          return;
        }
      }
      this.#forward(text, from);
      return;
    }
    if (existing !== undefined) {
      this.counters.absorbed++;
      if (existing.lastResponse !== undefined) {
        this.#transmit(existing.lastResponse, existing.from, undefined);
        this.counters.retransmissions++;
      }
      return;
    }
    const transaction: ServerTransaction = { identity, from, lastResponse: undefined, final: false, acked: false, cancelRetransmit: () => {}, cancelTimeout: () => {} };
    this.#servers.set(key, transaction);
    // An edge that never answers: the entry goes after a few minutes all the same.
    transaction.cancelTimeout = this.#timers.after(360 * this.#timing.t1, () => {
      if (this.#servers.get(key) === transaction) this.#servers.delete(key);
    });
    this.#forward(text, from);
  }

  /** The INVITE server transaction an ACK for a 2xx (a branch of its own) belongs to. */
  #inviteFor(ack: MessageIdentity): ServerTransaction | undefined {
    const key = dialogRequestKey(ack);
    for (const transaction of this.#servers.values()) {
      if (transaction.identity.method === 'INVITE' && dialogRequestKey(transaction.identity) === key) return transaction;
    }
    return undefined;
  }

  #forward(text: string, from: TransportAddress): void {
    this.counters.received++;
    this.#emit({ type: 'received', message: text, from });
  }

  #emit(frame: GatewayFrame): void {
    try {
      this.#sink(frame);
    } catch (error) {
      this.#logger.error('sip link sink threw', { link: this.id, error: String(error) });
    }
  }

  #transmit(bytes: Buffer, to: TransportAddress, id: string | undefined): void {
    this.#socket.send(bytes, to.port, to.address, (error) => {
      if (error === null || error === undefined) return;
      this.#logger.warn('sip link send failed', { link: this.id, error: String(error) });
      this.#emit({ type: 'send-failed', ...(id === undefined ? {} : { id }), detail: String(error) });
    });
  }
}
