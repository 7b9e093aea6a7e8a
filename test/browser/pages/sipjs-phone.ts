/**
 * The SIP.js test page: the real `sip.js` package (bundled by esbuild from node_modules) with its
 * own Web SessionDescriptionHandler, as a softphone page would use it, minus any STUN server.
 */
import { Inviter, Messager, Registerer, SessionState, UserAgent, Web, type Invitation, type Session } from 'sip.js';
import { inboundAudioPackets, installLoopbackOnly } from './loopback-only.ts';
import { PageQueue } from './page-queue.ts';
import type { PhoneConfig } from './phone-api.ts';

installLoopbackOnly();

let ua: UserAgent | undefined;
let domain = '';
let session: Session | undefined;
let endedCall: Promise<void> = Promise.resolve();
const invitations = new PageQueue<Invitation>();
const messages = new PageQueue<string>();
const media = { constraints: { audio: true, video: false } };

function agent(): UserAgent {
  if (ua === undefined) throw new Error('not registered');
  return ua;
}

function target(username: string) {
  const uri = UserAgent.makeURI(`sip:${username}@${domain}`);
  if (uri === undefined) throw new Error(`bad target ${username}`);
  return uri;
}

/** Follows `next` until Established; records when it ends. */
function follow(next: Session): Promise<void> {
  session = next;
  let endedNow: () => void = () => undefined;
  endedCall = new Promise((resolve) => (endedNow = resolve));
  return new Promise((resolve, reject) => {
    next.stateChange.addListener((state) => {
      if (state === SessionState.Established) resolve();
      if (state === SessionState.Terminated) {
        endedNow();
        reject(new Error('the call ended before it was established'));
      }
    });
  });
}

window.phone = {
  async register(config: PhoneConfig) {
    domain = config.domain;
    ua = new UserAgent({
      uri: target(config.username),
      transportOptions: { server: config.webSocketUrl },
      authorizationUsername: config.username,
      authorizationPassword: config.password,
      logLevel: 'error',
      // No STUN server: SIP.js would otherwise default to a public one.
      sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] }, iceGatheringTimeout: 3000 },
      delegate: {
        onInvite: (invitation) => invitations.push(invitation),
        onMessage: (message) => {
          void message.accept();
          messages.push(message.request.body);
        },
      },
    });
    await ua.start();
    const registerer = new Registerer(ua);
    return new Promise<number>((resolve) => {
      void registerer.register({
        requestDelegate: {
          onAccept: (response) => resolve(response.message.statusCode ?? 0),
          onReject: (response) => resolve(response.message.statusCode ?? 0),
        },
      });
    });
  },
  async call(username) {
    const inviter = new Inviter(agent(), target(username), { sessionDescriptionHandlerOptions: media });
    const established = follow(inviter);
    await inviter.invite();
    await established;
  },
  async answerNextCall() {
    const invitation = await invitations.next();
    const established = follow(invitation);
    await invitation.accept({ sessionDescriptionHandlerOptions: media });
    await established;
  },
  async hangUp() {
    if (session?.state === SessionState.Established) await session.bye();
  },
  ended: () => endedCall,
  inboundAudioPackets() {
    const handler = session?.sessionDescriptionHandler;
    return inboundAudioPackets(handler instanceof Web.SessionDescriptionHandler ? handler.peerConnection : undefined);
  },
  sendMessage(username, body) {
    return new Promise<number>((resolve, reject) => {
      new Messager(agent(), target(username), body, 'text/plain;charset=utf-8')
        .message({
          requestDelegate: {
            onAccept: (response) => resolve(response.message.statusCode ?? 0),
            onReject: (response) => resolve(response.message.statusCode ?? 0),
          },
        })
        .catch(reject);
    });
  },
  nextMessage: () => messages.next(),
};
