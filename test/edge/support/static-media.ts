/**
 * Media for SIP.js and JsSIP in Node, where there is no WebRTC: fixed WebRTC-like SDP (ICE, DTLS,
 * Opus), which the edge passes through untouched, so a test can check what each side received.
 *
 * - SIP.js asks its `sessionDescriptionHandlerFactory` for a handler per session: this one answers
 *   with fixed SDP (with `a=sendonly` when SIP.js puts the call on hold) and records what it got.
 * - JsSIP calls the browser's `RTCPeerConnection` itself: `installFakeWebRtc` puts a minimal one
 *   on the global object (ICE gathering already complete), which JsSIP drives like the real one.
 */
import type { BodyAndContentType, Session, SessionDescriptionHandler, SessionDescriptionHandlerFactory, SessionDescriptionHandlerOptions } from 'sip.js';

export function webRtcSdp(origin: string): string {
  return [
    'v=0',
    `o=- ${origin} 2 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    'a=msid-semantic: WMS',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 0',
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:u${origin.slice(-4)}`,
    'a=ice-pwd:0123456789abcdefghijklmn',
    'a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF',
    'a=setup:actpass',
    'a=mid:0',
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=rtpmap:0 PCMU/8000',
    'a=candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host',
    '',
  ].join('\r\n');
}

/** A SIP.js session description handler with fixed SDP. */
export class StaticDescriptionHandler implements SessionDescriptionHandler {
  readonly local: string;
  /** Every remote description set, in order. */
  readonly remote: string[] = [];

  constructor(local: string) {
    this.local = local;
  }

  close(): void {}

  getDescription(options?: SessionDescriptionHandlerOptions): Promise<BodyAndContentType> {
    const hold = options !== undefined && 'hold' in options && options.hold === true;
    return Promise.resolve({ body: hold ? this.local.replace('a=sendrecv', 'a=sendonly') : this.local, contentType: 'application/sdp' });
  }

  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }

  setDescription(sdp: string): Promise<void> {
    this.remote.push(sdp);
    return Promise.resolve();
  }

  sendDtmf(): boolean {
    return false;
  }
}

/** A factory whose handlers all answer with `local`; `created` collects them for the test. */
export function staticDescriptionHandlers(local: string, created: StaticDescriptionHandler[]): SessionDescriptionHandlerFactory {
  return (_session: Session) => {
    const handler = new StaticDescriptionHandler(local);
    created.push(handler);
    return handler;
  };
}

interface DescriptionInit {
  readonly type: string;
  readonly sdp: string;
}

/** The part of RTCPeerConnection that JsSIP 3.13 uses when no media is asked for. */
class FakePeerConnection extends EventTarget {
  static sdp = webRtcSdp('0000');
  /** Every connection made, for the test to read what JsSIP set. */
  static readonly made: FakePeerConnection[] = [];
  localDescription: DescriptionInit | null = null;
  remoteDescription: DescriptionInit | null = null;
  signalingState = 'stable';
  iceGatheringState = 'complete';
  iceConnectionState = 'new';
  connectionState = 'new';

  constructor() {
    super();
    FakePeerConnection.made.push(this);
  }

  createOffer(): Promise<DescriptionInit> {
    return Promise.resolve({ type: 'offer', sdp: FakePeerConnection.sdp });
  }

  createAnswer(): Promise<DescriptionInit> {
    return Promise.resolve({ type: 'answer', sdp: FakePeerConnection.sdp });
  }

  setLocalDescription(description: DescriptionInit): Promise<void> {
    this.localDescription = description;
    this.signalingState = description.type === 'offer' ? 'have-local-offer' : 'stable';
    return Promise.resolve();
  }

  setRemoteDescription(description: DescriptionInit): Promise<void> {
    this.remoteDescription = description;
    this.signalingState = description.type === 'offer' ? 'have-remote-offer' : 'stable';
    return Promise.resolve();
  }

  getSenders(): [] {
    return [];
  }

  getReceivers(): [] {
    return [];
  }

  getTransceivers(): [] {
    return [];
  }

  addTrack(): void {}

  close(): void {
    this.signalingState = 'closed';
  }
}

class FakeSessionDescription {
  readonly type: string;
  readonly sdp: string;

  constructor(init: DescriptionInit) {
    this.type = init.type;
    this.sdp = init.sdp;
  }
}

/** Puts the fake on the global object for JsSIP (its code reads `window.RTCPeerConnection`); returns the connections made. */
export function installFakeWebRtc(sdp: string): { readonly made: readonly FakePeerConnection[] } {
  FakePeerConnection.sdp = sdp;
  const global = globalThis as Record<string, unknown>;
  global.window ??= globalThis;
  global.RTCPeerConnection = FakePeerConnection;
  global.RTCSessionDescription = FakeSessionDescription;
  return { made: FakePeerConnection.made };
}
