/**
 * The other objects a SipUser talks to by AOR: the other party of a call, message or subscription
 * (another SipUser, or a PbxLink for an AOR of a link), and the SipUser of another AOR whose
 * messages arrive on a socket this object holds. One stub per AOR, kept for the object's lifetime,
 * because calls on one stub arrive in the order they were made.
 */
import { linkIdOf } from '../call/peer-event.ts';
import type { SipUser } from './sip-user.ts';
import type { UserPeer } from './user-core.ts';

export class UserPeers {
  readonly #env: Env;
  readonly #peers = new Map<string, UserPeer>();
  readonly #users = new Map<string, DurableObjectStub<SipUser>>();

  constructor(env: Env) {
    this.#env = env;
  }

  /** The other party `aor` of a call, message or subscription. */
  peer(aor: string): UserPeer {
    let peer = this.#peers.get(aor);
    if (peer !== undefined) return peer;
    const linkId = linkIdOf(aor);
    if (linkId !== undefined) {
      // A call's other party is a PbxLink: it takes calls and their events, nothing else.
      const stub = this.#env.PBX_LINK.get(this.#env.PBX_LINK.idFromName(linkId));
      const refuse = (): never => {
        throw new TypeError(`${aor} is a PBX link, which takes only calls`);
      };
      peer = {
        offerCall: (offer) => stub.offerCall(offer),
        callEvent: (to, event) => stub.callEvent(to, event),
        receiveMessage: refuse,
        subscribe: refuse,
        notifyAnswered: refuse,
      };
    } else {
      const stub = this.#env.SIP_USER.get(this.#env.SIP_USER.idFromName(aor));
      peer = {
        offerCall: (offer) => stub.offerCall(offer),
        callEvent: (to, event) => stub.callEvent(to, event),
        receiveMessage: (page) => stub.receiveMessage(page),
        subscribe: (input) => stub.subscribe(input),
        notifyAnswered: (answer) => stub.notifyAnswered(answer),
      };
    }
    this.#peers.set(aor, peer);
    return peer;
  }

  /** The object of another AOR, for messages of that AOR on a socket of this object. */
  user(aor: string): DurableObjectStub<SipUser> {
    let stub = this.#users.get(aor);
    if (stub === undefined) {
      stub = this.#env.SIP_USER.get(this.#env.SIP_USER.idFromName(aor));
      this.#users.set(aor, stub);
    }
    return stub;
  }
}
