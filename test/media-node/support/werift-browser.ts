/**
 * A werift peer playing the browser: it offers what Chrome offers for audio (Opus 111, PCMU, PCMA,
 * telephone-event at 48 and 8 kHz), keeps ICE on 127.0.0.1, and sends and records plain RTP through
 * werift's track APIs. Every wait has a deadline.
 */
import { Buffer } from 'node:buffer';
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';
import { weriftIceConfig } from '../../../media-node/browser-leg/index.ts';

export const CHROME_AUDIO = {
  opus: 111,
  pcmu: 0,
  pcma: 8,
  telephoneEvent48k: 110,
  telephoneEvent8k: 126,
} as const;

export interface ReceivedRtp {
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly marker: boolean;
  readonly payload: Uint8Array;
}

function chromeCodecs(only?: readonly string[]): RTCRtpCodecParameters[] {
  const all = [
    new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, parameters: 'minptime=10;useinbandfec=1' }),
    new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, payloadType: 0 }),
    new RTCRtpCodecParameters({ mimeType: 'audio/PCMA', clockRate: 8000, payloadType: 8 }),
    new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 48000, payloadType: 110 }),
    new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 8000, payloadType: 126 }),
  ];
  return only === undefined ? all : all.filter((codec) => only.includes(codec.name.toLowerCase()));
}

export class WeriftBrowser {
  readonly pc: RTCPeerConnection;
  readonly received: ReceivedRtp[] = [];
  readonly #track = new MediaStreamTrack({ kind: 'audio' });
  #transceiver: RTCRtpTransceiver | undefined;

  /** `only`: lower-case codec names to offer (default: all of Chrome's audio list above). */
  constructor(only?: readonly string[]) {
    this.pc = new RTCPeerConnection({ ...weriftIceConfig(), codecs: { audio: chromeCodecs(only), video: [] }, headerExtensions: { audio: [], video: [] } });
    this.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((packet) => {
        const { header } = packet;
        this.received.push({
          payloadType: header.payloadType,
          sequenceNumber: header.sequenceNumber,
          timestamp: header.timestamp,
          ssrc: header.ssrc,
          marker: header.marker,
          payload: Uint8Array.from(packet.payload),
        });
      });
    });
  }

  async offer(): Promise<string> {
    this.#transceiver = this.pc.addTransceiver(this.#track, { direction: 'sendrecv' });
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.#gathered();
    return (this.pc.localDescription as { sdp: string }).sdp;
  }

  /**
   * A new offer once connected, as a browser's re-INVITE: an ICE restart (new ufrag and password)
   * and/or a new direction (`sendonly` or `inactive` for hold, `sendrecv` to resume).
   */
  async reoffer(options: { iceRestart?: boolean; direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' } = {}): Promise<string> {
    if (options.direction !== undefined) (this.#transceiver as RTCRtpTransceiver).setDirection(options.direction);
    await this.pc.setLocalDescription(await this.pc.createOffer(options.iceRestart ? { iceRestart: true } : {}));
    await this.#gathered();
    return (this.pc.localDescription as { sdp: string }).sdp;
  }

  /**
   * Limits the DTLS-SRTP profiles this peer accepts to one (RFC 5764 §4.1.2: 0x0001
   * AES_CM_128_HMAC_SHA1_80, 0x0007 AEAD_AES_128_GCM), as a browser without GCM would. Call after
   * `offer()`, before the handshake; werift reads the list when DTLS starts.
   */
  onlySrtpProfile(profile: 1 | 7): void {
    const dtls = (this.#transceiver as RTCRtpTransceiver).dtlsTransport as unknown as { srtpProfiles: number[] };
    dtls.srtpProfiles = [profile];
  }

  /** Sends raw bytes on the ICE-selected pair, as a peer could put anything on the wire. */
  async sendRaw(data: Uint8Array): Promise<void> {
    await (this.#transceiver as RTCRtpTransceiver).dtlsTransport.iceTransport.connection.send(Buffer.from(data));
  }

  async acceptAnswer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    // As a browser would: werift 0.25 restarts ICE on new credentials but starts no checks while
    // DTLS is up (the media node's browser leg works around the same).
    const ice = this.#transceiver?.dtlsTransport.iceTransport;
    if (ice !== undefined && ice.state !== 'closed' && this.pc.connectionState === 'connected' && ice.connection.nominated === undefined) void ice.start().catch(() => {});
  }

  /** For calls from the PBX: answers the media node's offer. */
  async answer(offer: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    const transceiver = this.pc.getTransceivers()[0] as RTCRtpTransceiver;
    this.#transceiver = transceiver;
    await transceiver.sender.replaceTrack(this.#track);
    transceiver.setDirection('sendrecv');
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.#gathered();
    return (this.pc.localDescription as { sdp: string }).sdp;
  }

  connected(timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pc.connectionState === 'connected') return resolve();
      const timer = setTimeout(() => reject(new Error(`werift browser not connected within ${timeoutMs} ms (${this.pc.connectionState})`)), timeoutMs);
      this.pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** Writes audio through the track (werift stamps its primary payload type). */
  writeAudio(sequenceNumber: number, timestamp: number, payload: Uint8Array, marker = false): void {
    this.#track.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 0, sequenceNumber, timestamp, marker, ssrc: 1 }), Buffer.from(payload)));
  }

  /**
   * Writes a packet of another negotiated format (telephone-event): werift's sender would stamp
   * its primary payload type, so its codec is swapped for the call, as the media node does.
   */
  writeWithPayloadType(payloadType: number, sequenceNumber: number, timestamp: number, payload: Uint8Array, marker = false): void {
    const sender = (this.#transceiver as RTCRtpTransceiver).sender;
    const primary = sender.codec;
    const format = this.pc.getTransceivers()[0]?.codecs.find((codec) => codec.payloadType === payloadType);
    if (format === undefined || primary === undefined) throw new Error(`payload type ${payloadType} was not negotiated`);
    sender.codec = format;
    try {
      void sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType, sequenceNumber, timestamp, marker, ssrc: 1 }), Buffer.from(payload)));
    } finally {
      sender.codec = primary;
    }
  }

  close(): Promise<void> {
    return this.pc.close();
  }

  #gathered(): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('werift browser did not finish gathering')), 5000);
      this.pc.iceGatheringStateChange.subscribe((state) => {
        if (state === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }
}
