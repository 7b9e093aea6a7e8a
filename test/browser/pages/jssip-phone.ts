/**
 * The JsSIP test page: the real `jssip` package (bundled by esbuild from node_modules), creating
 * its RTCPeerConnections itself, as a softphone page would use it, minus any STUN server.
 */
import * as JsSIP from 'jssip';
import type { RTCSession } from 'jssip/lib/RTCSession';
import type { IncomingMessageEvent, OutgoingMessageEvent, RTCSessionEvent } from 'jssip/lib/UA';
import { inboundAudioPackets, installLoopbackOnly } from './loopback-only.ts';
import { PageQueue } from './page-queue.ts';
import type { PhoneConfig } from './phone-api.ts';

installLoopbackOnly();

let ua: JsSIP.UA | undefined;
let domain = '';
let session: RTCSession | undefined;
let endedCall: Promise<void> = Promise.resolve();
const sessions = new PageQueue<RTCSession>();
const messages = new PageQueue<string>();
const options = { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } };

function agent(): JsSIP.UA {
  if (ua === undefined) throw new Error('not registered');
  return ua;
}

/** Follows `next` until confirmed; records when it ends. */
function follow(next: RTCSession): Promise<void> {
  session = next;
  let endedNow: () => void = () => undefined;
  endedCall = new Promise((resolve) => (endedNow = resolve));
  next.on('ended', () => endedNow());
  next.on('failed', () => endedNow());
  return new Promise((resolve, reject) => {
    next.on('confirmed', () => resolve());
    next.on('failed', (event: { cause?: string }) => reject(new Error(`the call failed: ${event.cause ?? '?'}`)));
  });
}

window.phone = {
  register(config: PhoneConfig) {
    domain = config.domain;
    JsSIP.debug.disable();
    ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(config.webSocketUrl)],
      uri: `sip:${config.username}@${config.domain}`,
      password: config.password,
      register: true,
    });
    ua.on('newRTCSession', (event: RTCSessionEvent) => {
      if (event.originator === 'remote') sessions.push(event.session);
    });
    ua.on('newMessage', (event: IncomingMessageEvent | OutgoingMessageEvent) => {
      if (event.originator === 'remote') messages.push(event.request.body);
    });
    const registered = new Promise<number>((resolve) => {
      agent().on('registered', (event) => resolve(event.response.status_code));
      agent().on('registrationFailed', (event) => resolve(event.response?.status_code ?? 0));
    });
    ua.start();
    return registered;
  },
  call(username) {
    return follow(agent().call(`sip:${username}@${domain}`, options));
  },
  async answerNextCall() {
    const next = await sessions.next();
    const established = follow(next);
    next.answer(options);
    await established;
  },
  hangUp() {
    if (session?.isEstablished()) session.terminate();
    return Promise.resolve();
  },
  ended: () => endedCall,
  inboundAudioPackets: () => inboundAudioPackets(session?.connection),
  sendMessage(username, body) {
    return new Promise<number>((resolve) => {
      agent().sendMessage(`sip:${username}@${domain}`, body, {
        contentType: 'text/plain;charset=utf-8',
        eventHandlers: {
          succeeded: (event: { response: { status_code: number } }) => resolve(event.response.status_code),
          failed: (event: { response?: { status_code: number } | null }) => resolve(event.response?.status_code ?? 0),
        },
      });
    });
  },
  nextMessage: () => messages.next(),
};
