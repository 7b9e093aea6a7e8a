/**
 * The PBX side of a call: plain RTP/AVP (RFC 3551) on a UDP port pair from the configured range.
 *
 * Everything from the network is suspect. Each datagram is size-checked, then parsed (RTP header
 * validity, RFC 3550 §5.1 and A.1; RTCP compound validity, A.2), then checked against what was
 * negotiated (payload types, and the SSRC when one was signalled), and only then offered to the
 * symmetric latch (RFC 4961), which decides where replies go. Whatever fails is dropped and
 * counted by reason; nothing that arrives can throw out of a socket handler.
 *
 * On an RTP/SAVP leg (SDES, RFC 4568) every datagram is first authenticated and decrypted with
 * the PBX's key (RFC 3711), before it is parsed or can move the latch, and everything sent is
 * protected with the node's key; one that fails authentication or replays is dropped and counted.
 *
 * RTCP normally uses the odd port above RTP (RFC 3550 §11) or the one an `a=rtcp` line names
 * (RFC 3605); RTCP arriving on the RTP port is accepted as well (RFC 5761 multiplexing).
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Clock } from '../../shared/clock/index.ts';
import { systemClock } from '../../shared/clock/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { bindUdp } from '../port-cycle.ts';
import { literalLookup } from '../udp-literal-lookup.ts';
import { readRtcpCompound, type RtcpCompound } from '../rtp/rtcp-compound.ts';
import { looksLikeRtcp, readRtpHeader, type RtpHeaderFields } from '../rtp/rtp-header.ts';
import type { SrtpReceiver, SrtpRefusal, SrtpSender } from '../srtp/index.ts';
import { PortRangeExhaustedError, type PortRange } from './port-range.ts';
import { SymmetricLatch, type TransportAddress } from './symmetric-latch.ts';

/** The far end as its SDP describes it: `c=` address, `m=` port, optional `a=rtcp` port. */
export interface PbxRemote {
  readonly address: string;
  readonly rtpPort: number;
  /** RFC 3605; default `rtpPort + 1`. */
  readonly rtcpPort?: number;
}

/** SDES-SRTP on the leg: the node's sending context, and the PBX's once its SDP gave its key. */
export interface PbxSrtp {
  readonly sender: SrtpSender;
  readonly receiver: SrtpReceiver | undefined;
}

export interface PbxLegOptions {
  readonly ports: PortRange;
  /** Local address to bind, e.g. '0.0.0.0', or '127.0.0.1' in tests. */
  readonly bindAddress: string;
  /** Payload types negotiated for this leg; RTP of any other type is dropped. */
  readonly payloadTypes: Iterable<number>;
  readonly remote?: PbxRemote;
  /** The PBX's SSRC if its SDP stated one (RFC 5576 `a=ssrc`); other SSRCs are then refused. */
  readonly expectedSsrc?: number;
  /** RTP/SAVP; plain RTP/AVP without. */
  readonly srtp?: PbxSrtp;
  /** Datagrams larger than this are dropped unread; default 1,500 octets (an Ethernet MTU). */
  readonly maxPacketOctets?: number;
  /** See `SymmetricLatchOptions`; default never. */
  readonly relatchAfterSilenceMs?: number;
  /** How many port pairs to try when others hold ports of the range; default 16. */
  readonly bindAttempts?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface PbxLegHandlers {
  /** A valid RTP packet from the latched source, a buffer of its own the handler may rewrite and forward. */
  onRtp(packet: Uint8Array, header: RtpHeaderFields): void;
  /** A valid RTCP compound packet from the latched RTCP source. */
  onRtcp?(packet: Uint8Array, compound: RtcpCompound): void;
}

export type PbxLegDropReason =
  | 'oversized'
  | 'malformed-rtp'
  | 'malformed-rtcp'
  | 'unexpected-payload-type'
  | 'unexpected-ssrc'
  | 'unexpected-source'
  /** SRTP or SRTCP whose authentication tag is wrong (RFC 3711 §3.3 step 5), or too short to carry one. */
  | 'srtp-authentication'
  /** SRTP or SRTCP whose index was already received (RFC 3711 §3.3.2). */
  | 'srtp-replayed'
  /** On an RTP/SAVP leg before the PBX's key is known. */
  | 'srtp-no-key';

export interface PbxLegCounters {
  rtpIn: number;
  rtpOut: number;
  rtcpIn: number;
  rtcpOut: number;
  octetsIn: number;
  octetsOut: number;
  dropped: Record<PbxLegDropReason, number>;
  sendErrors: number;
  socketErrors: number;
  /** Exceptions thrown by the handlers: logged and counted, never fatal to the leg. */
  handlerErrors: number;
}

const DEFAULT_MAX_PACKET_OCTETS = 1500;

export class PbxLeg {
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly counters: PbxLegCounters = {
    rtpIn: 0,
    rtpOut: 0,
    rtcpIn: 0,
    rtcpOut: 0,
    octetsIn: 0,
    octetsOut: 0,
    dropped: {
      oversized: 0,
      'malformed-rtp': 0,
      'malformed-rtcp': 0,
      'unexpected-payload-type': 0,
      'unexpected-ssrc': 0,
      'unexpected-source': 0,
      'srtp-authentication': 0,
      'srtp-replayed': 0,
      'srtp-no-key': 0,
    },
    sendErrors: 0,
    socketErrors: 0,
    handlerErrors: 0,
  };
  readonly #ports: PortRange;
  readonly #rtp: Socket;
  readonly #rtcp: Socket;
  readonly #handlers: PbxLegHandlers;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #maxPacketOctets: number;
  readonly #rtpLatch: SymmetricLatch;
  readonly #rtcpLatch: SymmetricLatch;
  /** The RTCP port, or the RTP port once the PBX multiplexes RTCP onto it (RFC 5761). */
  #rtcpSocket: Socket;
  #payloadTypes: Set<number>;
  #expectedSsrc: number | undefined;
  #signalled: PbxRemote | undefined;
  #srtp: PbxSrtp | undefined;
  #closed = false;
  /** One send-completion callback per kind for the leg's life, rather than a closure per packet. */
  readonly #afterRtpSend = (error: Error | null): void => this.#afterSend(error, 'rtp');
  readonly #afterRtcpSend = (error: Error | null): void => this.#afterSend(error, 'rtcp');

  private constructor(options: PbxLegOptions, handlers: PbxLegHandlers, sockets: { port: number; rtp: Socket; rtcp: Socket }) {
    this.rtpPort = sockets.port;
    this.rtcpPort = sockets.port + 1;
    this.#ports = options.ports;
    this.#rtp = sockets.rtp;
    this.#rtcp = sockets.rtcp;
    this.#rtcpSocket = sockets.rtcp;
    this.#handlers = handlers;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#maxPacketOctets = options.maxPacketOctets ?? DEFAULT_MAX_PACKET_OCTETS;
    this.#payloadTypes = new Set(options.payloadTypes);
    this.#expectedSsrc = options.expectedSsrc;
    const remote = options.remote;
    this.#signalled = remote;
    this.#srtp = options.srtp;
    const latchOptions = { relatchAfterSilenceMs: options.relatchAfterSilenceMs };
    this.#rtpLatch = new SymmetricLatch({ ...latchOptions, signalled: remote && rtpAddress(remote) });
    this.#rtcpLatch = new SymmetricLatch({ ...latchOptions, signalled: remote && rtcpAddress(remote) });
    this.#rtp.on('message', (message, info) => this.#onDatagram(message, info, 'rtp-port'));
    this.#rtcp.on('message', (message, info) => this.#onDatagram(message, info, 'rtcp-port'));
    for (const socket of [this.#rtp, this.#rtcp]) {
      socket.on('error', (error) => {
        this.counters.socketErrors++;
        this.#logger.warn('pbx leg socket error', { port: this.rtpPort, error: String(error) });
      });
    }
  }

  /** Binds a port pair from the range, skipping ports other processes hold. */
  static async open(options: PbxLegOptions, handlers: PbxLegHandlers): Promise<PbxLeg> {
    const attempts = options.bindAttempts ?? 16;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const port = options.ports.take();
      if (port === undefined) break;
      const sockets = await bindPair(options.bindAddress, port);
      if (sockets !== undefined) return new PbxLeg(options, handlers, { port, ...sockets });
      // Held by another process: give it back; the range has already moved on past it.
      options.ports.release(port);
    }
    throw new PortRangeExhaustedError(`no free RTP/RTCP port pair in ${options.ports.first}-${options.ports.last}`);
  }

  /** Where RTP goes: the latched source, or the signalled address until one is latched. */
  get rtpDestination(): TransportAddress | undefined {
    return this.#rtpLatch.destination;
  }

  get rtcpDestination(): TransportAddress | undefined {
    return this.#rtcpLatch.destination;
  }

  /** Sends one RTP packet toward the PBX; false if there is nowhere to send it yet. */
  sendRtp(packet: Uint8Array): boolean {
    const destination = this.#rtpLatch.destination;
    if (this.#closed || destination === undefined) return false;
    return this.#send(this.#rtp, destination, this.#srtp === undefined ? packet : this.#srtp.sender.protectRtp(packet), 'rtp');
  }

  /** Sends one RTCP compound packet from the RTCP port (or the RTP port, when multiplexing). */
  sendRtcp(packet: Uint8Array): boolean {
    const destination = this.#rtcpLatch.destination;
    if (this.#closed || destination === undefined) return false;
    return this.#send(this.#rtcpSocket, destination, this.#srtp === undefined ? packet : this.#srtp.sender.protectRtcp(packet), 'rtcp');
  }

  /** True on an RTP/SAVP leg. */
  get secure(): boolean {
    return this.#srtp !== undefined;
  }

  /**
   * The PBX's SDP changed (its answer, a re-INVITE): perhaps new payload types, perhaps a new
   * address. A new address opens both latches again, so the next valid packets choose where
   * replies go; without one the latched source stays (a hold or a codec change keeps the path).
   */
  update(changes: { remote?: PbxRemote; payloadTypes?: Iterable<number>; expectedSsrc?: number; srtp?: PbxSrtp | null }): void {
    if (changes.payloadTypes !== undefined) this.#payloadTypes = new Set(changes.payloadTypes);
    if (changes.srtp !== undefined) this.#srtp = changes.srtp ?? undefined;
    if ('expectedSsrc' in changes) this.#expectedSsrc = changes.expectedSsrc;
    if (changes.remote === undefined) return;
    this.#signalled = changes.remote;
    this.#rtpLatch.reopen(rtpAddress(changes.remote));
    this.#rtcpLatch.reopen(rtcpAddress(changes.remote));
  }

  /** The PBX's address as its latest SDP gave it. */
  get signalled(): PbxRemote | undefined {
    return this.#signalled;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([closeSocket(this.#rtp), closeSocket(this.#rtcp)]);
    this.#ports.release(this.rtpPort);
  }

  #onDatagram(message: Buffer, info: RemoteInfo, arrivedOn: 'rtp-port' | 'rtcp-port'): void {
    if (message.length > this.#maxPacketOctets) {
      this.#drop('oversized', info);
      return;
    }
    // The datagram's own RemoteInfo (fresh per datagram) serves as its source address.
    const source: TransportAddress = info;
    if (arrivedOn === 'rtcp-port' || looksLikeRtcp(message)) {
      this.#onRtcp(message, source, arrivedOn);
      return;
    }
    const packet = this.#unprotect(message, 'rtp', source);
    if (packet === undefined) return;
    const parsed = readRtpHeader(packet);
    if (!parsed.ok) {
      this.#drop('malformed-rtp', info);
      return;
    }
    const header = parsed.value;
    if (!this.#payloadTypes.has(header.payloadType)) {
      this.#drop('unexpected-payload-type', info);
      return;
    }
    if (this.#expectedSsrc !== undefined && header.ssrc !== this.#expectedSsrc) {
      this.#drop('unexpected-ssrc', info);
      return;
    }
    const decision = this.#rtpLatch.offer(source, this.#clock.now());
    if (decision === 'unexpected-source') {
      this.#drop('unexpected-source', info);
      return;
    }
    if (decision === 'latched') this.#logger.info('pbx leg latched rtp', { port: this.rtpPort, source });
    this.counters.rtpIn++;
    this.counters.octetsIn += message.length;
    // Per packet, so no closure through #deliver.
    try {
      this.#handlers.onRtp(packet, header);
    } catch (error) {
      this.#handlerThrew(error);
    }
  }

  /** The datagram itself on a plain leg; authenticated and decrypted on an RTP/SAVP one (undefined: dropped). */
  #unprotect(message: Uint8Array, kind: 'rtp' | 'rtcp', source: TransportAddress): Uint8Array | undefined {
    const srtp = this.#srtp;
    if (srtp === undefined) return message;
    if (srtp.receiver === undefined) {
      this.#drop('srtp-no-key', source);
      return undefined;
    }
    const result = kind === 'rtp' ? srtp.receiver.unprotectRtp(message) : srtp.receiver.unprotectRtcp(message);
    if (result.ok) return result.packet;
    this.#drop(SRTP_DROP[result.error], source);
    return undefined;
  }

  #onRtcp(message: Buffer, source: TransportAddress, arrivedOn: 'rtp-port' | 'rtcp-port'): void {
    const packet = this.#unprotect(message, 'rtcp', source);
    if (packet === undefined) return;
    const parsed = readRtcpCompound(packet);
    if (!parsed.ok) {
      this.#drop('malformed-rtcp', source);
      return;
    }
    const decision = this.#rtcpLatch.offer(source, this.#clock.now());
    if (decision === 'unexpected-source') {
      this.#drop('unexpected-source', source);
      return;
    }
    if (decision === 'latched') {
      this.#rtcpSocket = arrivedOn === 'rtp-port' ? this.#rtp : this.#rtcp;
      this.#logger.info('pbx leg latched rtcp', { port: this.rtpPort, source, arrivedOn });
    }
    this.counters.rtcpIn++;
    this.counters.octetsIn += message.length;
    const onRtcp = this.#handlers.onRtcp;
    if (onRtcp !== undefined) this.#deliver(() => onRtcp(packet, parsed.value));
  }

  #deliver(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#handlerThrew(error);
    }
  }

  #handlerThrew(error: unknown): void {
    this.counters.handlerErrors++;
    this.#logger.error('pbx leg handler threw', { port: this.rtpPort, error: String(error) });
  }

  #drop(reason: PbxLegDropReason, source: TransportAddress): void {
    this.counters.dropped[reason]++;
    this.#logger.debug('pbx leg dropped a datagram', { port: this.rtpPort, reason, source: `${source.address}:${source.port}` });
  }

  #send(socket: Socket, destination: TransportAddress, packet: Uint8Array, kind: 'rtp' | 'rtcp'): boolean {
    if (kind === 'rtp') this.counters.rtpOut++;
    else this.counters.rtcpOut++;
    this.counters.octetsOut += packet.length;
    socket.send(packet, destination.port, destination.address, kind === 'rtp' ? this.#afterRtpSend : this.#afterRtcpSend);
    return true;
  }

  #afterSend(error: Error | null, kind: 'rtp' | 'rtcp'): void {
    if (error === null) return;
    this.counters.sendErrors++;
    this.#logger.warn('pbx leg send failed', { port: this.rtpPort, kind, error: String(error) });
  }
}

const SRTP_DROP: Readonly<Record<SrtpRefusal, PbxLegDropReason>> = {
  'too-short': 'srtp-authentication',
  authentication: 'srtp-authentication',
  replayed: 'srtp-replayed',
};

function rtpAddress(remote: PbxRemote): TransportAddress {
  return { address: remote.address, port: remote.rtpPort };
}

function rtcpAddress(remote: PbxRemote): TransportAddress {
  return { address: remote.address, port: remote.rtcpPort ?? remote.rtpPort + 1 };
}

/** Binds RTP and RTCP sockets on `port` and `port + 1`, or returns undefined if either is taken. */
async function bindPair(address: string, port: number): Promise<{ rtp: Socket; rtcp: Socket } | undefined> {
  const type = isIPv6(address) ? 'udp6' : 'udp4';
  const rtp = await bindOne(type, address, port);
  if (rtp === undefined) return undefined;
  const rtcp = await bindOne(type, address, port + 1);
  if (rtcp === undefined) {
    await closeSocket(rtp);
    return undefined;
  }
  return { rtp, rtcp };
}

async function bindOne(type: 'udp4' | 'udp6', address: string, port: number): Promise<Socket | undefined> {
  const socket = await bindUdp({ type, reuseAddr: false, lookup: literalLookup }, address, port);
  // Until the leg attaches its own listener, an 'error' event must not become an exception.
  socket?.on('error', () => {});
  return socket;
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
