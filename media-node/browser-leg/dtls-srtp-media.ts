/**
 * The browser leg's RTP on the node's own SRTP contexts (`../srtp/`), keyed by the DTLS-SRTP
 * handshake werift ran (RFC 5764 §4.2: the "EXTRACTOR-dtls_srtp" exporter and the profile the
 * handshake chose, AES_CM_128_HMAC_SHA1_80 or AEAD_AES_128_GCM). werift keeps ICE (checks, consent,
 * restarts), DTLS, SRTCP and reading the browser's RTCP; the node takes the RTP packets themselves,
 * which werift's RTP stack would parse, clone and account for several times each, and sends the
 * leg's RTCP reports (`browser-rtcp-reports.ts`) in place of werift's two report loops.
 *
 * - Receiving: the ICE connection's data event is hooked before werift's subscribers. Of what it
 *   carries (everything but STUN), RTP (RFC 7983 §7: first octet 128-191, and not an RTCP packet
 *   type, RFC 5761 §4) is checked and decrypted here; DTLS and SRTCP go on to werift.
 * - Sending: the packet is protected here and written to the selected pair's UDP socket, while
 *   consent is fresh (RFC 7675), with the address taken as it is (`udp-literal-lookup.ts`).
 * - The reports stay right: they read werift's sender counters and timestamps, updated here
 *   (RFC 3550 §6.4.1), and its receiver statistics, fed here (§6.4.2, A.3, A.8). The first packet
 *   of each received SSRC goes through werift's own path, which creates that source's record.
 *
 * This reaches into werift 0.25's objects (the fields named in `WeriftInternals`); `start` checks
 * they are there and returns undefined otherwise, leaving the leg on werift's path.
 */
import type { Socket } from 'node:dgram';
import type { RTCDtlsTransport, RTCRtpTransceiver } from 'werift';
import { RTP_HEADER_SIZE, ntpFromUnixMs, readRtpHeader, writeRtpHeader, type RtpHeaderRewrite } from '../rtp/index.ts';
import {
  GCM_MASTER_SALT_OCTETS,
  MASTER_KEY_OCTETS,
  MASTER_SALT_OCTETS,
  SrtpReceiver,
  SrtpSender,
  type SrtpRefusal,
  type SrtpSuite,
} from '../srtp/index.ts';
import { answerLiteralsAtOnce } from '../udp-literal-lookup.ts';
import { BrowserRtcpReports, hasReportInternals } from './browser-rtcp-reports.ts';

/** DTLS-SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2). */
const PROFILES: Readonly<Record<number, { readonly suite: SrtpSuite; readonly saltOctets: number }>> = {
  0x0001: { suite: 'AES_CM_128_HMAC_SHA1_80', saltOctets: MASTER_SALT_OCTETS },
  0x0007: { suite: 'AEAD_AES_128_GCM', saltOctets: GCM_MASTER_SALT_OCTETS },
};
/** Large enough for any audio packet the relay builds (Opus frames stay under 1275 octets). */
const SEND_BUFFER_OCTETS = 1500;

/** One received RTP packet, decrypted: the header's fields and the payload (which the handler may keep). */
export interface BrowserRtp {
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly marker: boolean;
  readonly payload: Uint8Array;
}

/** The record werift's stream statistics read from a packet (`StreamStatistics.add`). */
interface StatisticsRecord {
  readonly header: { sequenceNumber: number; timestamp: number; serializeSize: number };
  readonly payload: { length: number };
}

/** The parts of werift 0.25 this module uses beyond its typed surface. */
interface WeriftInternals {
  readonly dtls: {
    readonly srtp: { readonly srtpProfile?: number };
    extractSessionKeys(keyLength: number, saltLength: number): { localKey: Uint8Array; localSalt: Uint8Array; remoteKey: Uint8Array; remoteSalt: Uint8Array };
  };
  /** werift's own SRTP session: replaced when DTLS is renegotiated, so the node rekeys too. */
  readonly srtp: object;
  readonly iceTransport: { readonly connection: IceConnection };
}

interface IceConnection {
  readonly onData: { execute: (data: Buffer) => void };
  readonly nominated?: CandidatePair;
  canSendApplicationData(): boolean;
  send(data: Uint8Array): Promise<void>;
}

interface CandidatePair {
  readonly protocol: { readonly type: string; readonly transport?: { readonly socket?: Socket; readonly closed?: boolean } };
  readonly remoteAddr: readonly [string, number];
  packetsSent: number;
  bytesSent: number;
}

interface SenderInternals {
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  octetCount: number;
  packetCount: number;
}

interface ReceiverInternals {
  readonly remoteStreams: Record<number, { add(packet: StatisticsRecord, now?: number): void } | undefined>;
}

export interface DtlsSrtpHandlers {
  onRtp(packet: BrowserRtp): void;
  /** SRTP that failed authentication or replay checks, or whose RTP header is malformed: dropped. */
  onRefused(reason: SrtpRefusal | 'malformed'): void;
  /** An RTP packet or an RTCP report that could not be sent. */
  onSendError(error: unknown): void;
}

export class DtlsSrtpMedia {
  readonly suite: SrtpSuite;
  readonly #saltOctets: number;
  readonly #dtls: RTCDtlsTransport & WeriftInternals;
  readonly #connection: IceConnection;
  readonly #sender: SenderInternals;
  readonly #receiver: ReceiverInternals;
  readonly #handlers: DtlsSrtpHandlers;
  readonly #ssrc: number;
  readonly #weriftData: (data: Buffer) => void;
  readonly #reports: BrowserRtcpReports;
  readonly #buffer = new Uint8Array(SEND_BUFFER_OCTETS);
  readonly #record = { header: { sequenceNumber: 0, timestamp: 0, serializeSize: RTP_HEADER_SIZE }, payload: { length: 0 } };
  #keyedFrom: object;
  #srtpSender: SrtpSender;
  #srtpReceiver: SrtpReceiver;
  #stopped = false;
  /** The selected pair's socket last seen by `sendRtp`, already fitted (`answerLiteralsAtOnce`). */
  #fittedSocket: Socket | undefined;
  readonly #afterSend = (error: Error | null): void => {
    if (error !== null) this.#handlers.onSendError(error);
  };
  /** The hook on the ICE connection's data event: one function for the leg's life. */
  readonly #onData = (data: Buffer): void => {
    if (this.#stopped || !isRtp(data)) {
      this.#weriftData(data);
      return;
    }
    this.#receive(data);
  };

  private constructor(
    transceiver: RTCRtpTransceiver,
    dtls: RTCDtlsTransport & WeriftInternals,
    profile: { readonly suite: SrtpSuite; readonly saltOctets: number },
    handlers: DtlsSrtpHandlers,
  ) {
    this.#dtls = dtls;
    this.#connection = dtls.iceTransport.connection;
    this.#sender = transceiver.sender as unknown as SenderInternals;
    this.#receiver = transceiver.receiver as unknown as ReceiverInternals;
    this.#handlers = handlers;
    this.#ssrc = transceiver.sender.ssrc;
    this.suite = profile.suite;
    this.#saltOctets = profile.saltOctets;
    this.#keyedFrom = dtls.srtp;
    [this.#srtpSender, this.#srtpReceiver] = contexts(dtls, profile.suite, profile.saltOctets);
    const event = this.#connection.onData;
    this.#weriftData = event.execute;
    event.execute = this.#onData;
    this.#reports = BrowserRtcpReports.start(transceiver.sender, transceiver.receiver, dtls, handlers.onSendError);
  }

  /**
   * Takes the leg's RTP over once werift's DTLS transport is connected with SRTP keys. Undefined
   * when the transport is not connected, the profile is not one the node speaks, or werift's objects
   * are not shaped as expected: the leg then stays on werift's path.
   */
  static start(transceiver: RTCRtpTransceiver, handlers: DtlsSrtpHandlers): DtlsSrtpMedia | undefined {
    const dtls = transceiver.dtlsTransport as RTCDtlsTransport & Partial<WeriftInternals>;
    if (dtls.state !== 'connected' || !hasInternals(dtls, transceiver)) return undefined;
    const profile = PROFILES[dtls.dtls.srtp.srtpProfile ?? -1];
    if (profile === undefined) return undefined;
    return new DtlsSrtpMedia(transceiver, dtls, profile, handlers);
  }

  /**
   * Protects and sends one packet: the header is written here, with the sender's SSRC whatever
   * `header` says (RFC 3550 §8: the leg's own). Returns false when it cannot go now (DTLS closed,
   * no selected pair, consent expired, a packet too large).
   */
  sendRtp(header: RtpHeaderRewrite, payload: Uint8Array): boolean {
    const connection = this.#connection;
    const pair = connection.nominated;
    if (this.#stopped || this.#dtls.state !== 'connected' || pair === undefined || !connection.canSendApplicationData()) return false;
    if (RTP_HEADER_SIZE + payload.length > SEND_BUFFER_OCTETS) return false;
    this.#rekeyIfRenegotiated();
    const packet = this.#buffer.subarray(0, RTP_HEADER_SIZE + payload.length);
    writeRtpHeader(packet, header);
    writeSsrc(packet, this.#ssrc);
    packet.set(payload, RTP_HEADER_SIZE);
    const out = this.#srtpSender.protectRtp(packet);
    const socket = pair.protocol.type === 'stun' ? pair.protocol.transport?.socket : undefined;
    if (socket !== undefined && pair.protocol.transport?.closed !== true) {
      if (socket !== this.#fittedSocket) {
        answerLiteralsAtOnce(socket);
        this.#fittedSocket = socket;
      }
      const [host, port] = pair.remoteAddr;
      socket.send(out, port, host, this.#afterSend);
      pair.packetsSent++;
      pair.bytesSent += out.length;
    } else {
      connection.send(out).catch(this.#handlers.onSendError);
    }
    const sender = this.#sender;
    sender.ntpTimestamp = ntpFromUnixMs(Date.now());
    sender.rtpTimestamp = header.timestamp;
    sender.octetCount += payload.length;
    sender.packetCount = (sender.packetCount + 1) >>> 0;
    return true;
  }

  /** Gives the ICE connection's data back to werift alone and sends no more reports: the leg's media has ended. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#reports.stop();
    const event = this.#connection.onData;
    if (event.execute === this.#onData) event.execute = this.#weriftData;
  }

  #receive(data: Buffer): void {
    // The first packet of a source goes through werift, which starts its statistics for it.
    const ssrc = data.length >= RTP_HEADER_SIZE ? data.readUInt32BE(8) : -1;
    const statistics = this.#receiver.remoteStreams[ssrc];
    if (statistics === undefined) {
      this.#weriftData(data);
      return;
    }
    this.#rekeyIfRenegotiated();
    const opened = this.#srtpReceiver.unprotectRtp(data);
    if (!opened.ok) {
      this.#handlers.onRefused(opened.error);
      return;
    }
    const packet = opened.packet;
    const header = readRtpHeader(packet);
    if (!header.ok) {
      this.#handlers.onRefused('malformed');
      return;
    }
    const fields = header.value;
    const record = this.#record;
    record.header.sequenceNumber = fields.sequenceNumber;
    record.header.timestamp = fields.timestamp;
    record.header.serializeSize = fields.payloadOffset;
    record.payload.length = fields.payloadLength;
    statistics.add(record);
    this.#handlers.onRtp({
      payloadType: fields.payloadType,
      sequenceNumber: fields.sequenceNumber,
      timestamp: fields.timestamp,
      ssrc: fields.ssrc,
      marker: fields.marker,
      payload: packet.subarray(fields.payloadOffset, fields.payloadOffset + fields.payloadLength),
    });
  }

  /** A DTLS renegotiation gives werift new SRTP keys (RFC 5764 §4.2): the node takes them too. */
  #rekeyIfRenegotiated(): void {
    if (this.#dtls.srtp === this.#keyedFrom) return;
    this.#keyedFrom = this.#dtls.srtp;
    [this.#srtpSender, this.#srtpReceiver] = contexts(this.#dtls, this.suite, this.#saltOctets);
  }
}

function contexts(dtls: WeriftInternals, suite: SrtpSuite, saltOctets: number): [SrtpSender, SrtpReceiver] {
  const keys = dtls.dtls.extractSessionKeys(MASTER_KEY_OCTETS, saltOctets);
  return [
    new SrtpSender({ key: Uint8Array.from(keys.localKey), salt: Uint8Array.from(keys.localSalt) }, suite),
    new SrtpReceiver({ key: Uint8Array.from(keys.remoteKey), salt: Uint8Array.from(keys.remoteSalt) }, suite),
  ];
}

function writeSsrc(packet: Uint8Array, ssrc: number): void {
  packet[8] = (ssrc >>> 24) & 0xff;
  packet[9] = (ssrc >>> 16) & 0xff;
  packet[10] = (ssrc >>> 8) & 0xff;
  packet[11] = ssrc & 0xff;
}

/** RFC 7983 §7 and RFC 5761 §4: RTP, not RTCP (packet types 192-223 in the second octet). */
function isRtp(data: Buffer): boolean {
  if (data.length < RTP_HEADER_SIZE) return false;
  const first = data[0] as number;
  if (first < 128 || first > 191) return false;
  const second = data[1] as number;
  return second < 192 || second > 223;
}

function hasInternals(dtls: RTCDtlsTransport & Partial<WeriftInternals>, transceiver: RTCRtpTransceiver): dtls is RTCDtlsTransport & WeriftInternals {
  const connection = dtls.iceTransport?.connection as Partial<IceConnection> | undefined;
  const sender = transceiver.sender as unknown as Partial<SenderInternals>;
  const receiver = transceiver.receiver as unknown as Partial<ReceiverInternals>;
  return (
    typeof dtls.dtls?.extractSessionKeys === 'function' &&
    typeof dtls.srtp === 'object' &&
    typeof connection?.onData?.execute === 'function' &&
    typeof connection.canSendApplicationData === 'function' &&
    typeof sender.packetCount === 'number' &&
    typeof sender.octetCount === 'number' &&
    typeof receiver.remoteStreams === 'object' &&
    hasReportInternals(transceiver.sender, transceiver.receiver)
  );
}
