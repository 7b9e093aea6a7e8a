/**
 * The calls of one PbxLink: the link takes part in calls as a user's object does (`workers/call/`),
 * with its PBX in the place of the user's devices and its connection as their one flow.
 *
 * - Toward the PBX (a user dialled a number the routing plan sent here): the user's caller half
 *   offers the call (`offerCall`); the link's half is a callee half whose fork has one branch, the
 *   INVITE to `sip:<number>@<host>` over the link's connection, From the plan's caller ID. A 401 or
 *   407 is answered once with the link's credentials (`trunk-auth.ts`); the PBX's own failure goes
 *   back to the caller, which fails over to the plan's next attempt on 408 and 5xx.
 * - From the PBX: an INVITE on the connection that is no call's goes to inbound routing (the link's
 *   `endpoint` for calls to its registered contact, the user a proxy registration's Contact names
 *   (`user-registrations.ts`), else the Routing object's `routeInbound`), and
 *   the link's half is a caller half that offers the call to the user's object, which forks it to
 *   the user's devices as for a local call; several users ring in parallel (`ring-group.ts`).
 *   An out-of-dialog NOTIFY of message-summary (MWI) goes to the same user (`link-notify.ts`).
 * - Media: every call is anchored on a media node (`link-media.ts`). The link swaps the bodies as
 *   they cross: the browser's offer for the node's plain-RTP offer toward the PBX, the PBX's answer
 *   (a 183's or the 2xx's) for the node's WebRTC answer, and the other way round for inbound calls.
 *   A half that ends deletes its call's session; a session the node ends hangs the call up
 *   (`mediaEnded`). An INVITE without SDP from the PBX gets the node's offer in the 2xx, and its
 *   ACK's answer goes to the node. An offer within the dialog (re-INVITE or UPDATE with SDP: hold,
 *   resume, ICE restart) is answered by the node for the leg it came from; the other leg is not
 *   disturbed (488 when the node refuses it). DTMF in the browser's SIP INFO (`dtmf-info.ts`) goes
 *   to the PBX as RFC 4733 events from the node when the PBX's SDP has telephone-event (the INFO
 *   is answered 200 by the link), else the INFO is relayed; RFC 4733 from the PBX reaches the
 *   browser in-band.
 */
import type { DigestAccount } from '../../shared/auth/index.ts';
import { parseUri } from '../../shared/grammar/index.ts';
import { getCallId, getHeader, getTo, type SipMessage, type SipRequest } from '../../shared/message/index.ts';
import { CallHost, type CallPeer } from '../call/call-host.ts';
import { peerRole, type HalfCall } from '../call/call-half.ts';
import { CallStore } from '../call/call-store.ts';
import { callRecordFeed } from '../directory/call-record-feed.ts';
import { COMPLETED_ELSEWHERE } from '../call/callee-fork.ts';
import { dtmfKeyOf } from '../call/dtmf-info.ts';
import { forkFailure } from '../call/fork-outcome.ts';
import { INVITE_RELAY, linkAor, type CallOffer, type Content, type HalfAddress, type OfferResult, type PeerEvent } from '../call/peer-event.ts';
import type { Logger } from '../logger.ts';
import type { InboundRequest, InboundTarget, RoutingRpc } from '../routing/routing-contract.ts';
import { randomHex } from '../sip/edge-ua.ts';
import type { Flow } from '../sip/flow.ts';
import { EffectQueue } from '../user/effect-queue.ts';
import type { SummaryOutcome } from '../presence/message-summary.ts';
import { authUsername } from './link-config.ts';
import { isUnsolicitedSummary, relaySummary } from './link-notify.ts';
import type { LinkMedia } from './link-media.ts';
import type { StoredLink } from './link-store.ts';
import { allFailed, GROUP_AOR_PREFIX, groupToken, memberCallId, parseMemberCallId, RingGroupStore, withMember, type RingGroup } from './ring-group.ts';

/** The connection id of a link's calls: whichever connection to the PBX is current. */
export const LINK_FLOW = 'pbx';

export interface LinkCallsPorts {
  readonly domain: string;
  readonly log: Logger;
  readonly sql: SqlStorage;
  readonly media: LinkMedia;
  now(): number;
  link(): StoredLink | undefined;
  /** Writes on the link's connection, opening one if needed; false when there is none to be had. */
  send(wire: string): boolean;
  /** A user's object (SipUser RPC). */
  user(aor: string): CallPeer;
  /** The Routing object's inbound side; undefined when routing is not deployed. */
  routing(): Pick<RoutingRpc, 'routeInbound' | 'inboundCancelled'> | undefined;
  timersChanged(): Promise<void>;
  /** The edge username whose proxy registration (`user-registrations.ts`) uses this Contact user, if any. */
  proxiedUser?(contactUser: string): string | undefined;
  /** A user's object takes a message summary from the PBX (`link-notify.ts`). */
  messageSummary?(aor: string, body: string): Promise<SummaryOutcome | undefined>;
}

const SDP = 'application/sdp';

export class LinkCalls {
  readonly host: CallHost;
  readonly #ports: LinkCallsPorts;
  readonly #queue: EffectQueue;
  readonly #groups: RingGroupStore;

  constructor(ports: LinkCallsPorts) {
    this.#ports = ports;
    this.#groups = new RingGroupStore(ports.sql);
    this.#queue = new EffectQueue(ports.log);
    this.host = new CallHost(new CallStore(ports.sql), {
      domain: ports.domain,
      log: ports.log,
      queue: this.#queue,
      now: () => ports.now(),
      bindings: () => [],
      deliver: (_connectionId, wire) => Promise.resolve(ports.send(wire)),
      peer: (aor) => this.#toUser(aor),
      timersChanged: () => ports.timersChanged(),
      halfChanged: (half) => this.#halfChanged(half),
      callStepped: callRecordFeed(ports.domain, ports.log, () => ports.now()),
      credentials: () => this.#credentials(),
    });
  }

  get #linkId(): string {
    return this.#ports.link()?.config.id ?? '';
  }

  #flow(): Flow {
    return { connectionId: LINK_FLOW, transport: this.#ports.link()?.config.transport === 'tls' ? 'TLS' : 'TCP', remoteAddress: '', openedAt: 0 };
  }

  #credentials(): DigestAccount | undefined {
    const link = this.#ports.link();
    const username = link === undefined ? undefined : authUsername(link.config);
    return link?.password === undefined || username === undefined ? undefined : { username, password: link.password };
  }

  /** Waits for every effect queued so far (tests, and the object's RPC before it answers). */
  settle(): Promise<void> {
    return this.#queue.drain();
  }

  /** A user's caller half offers a call toward this link's PBX. */
  async offerCall(offer: CallOffer): Promise<OfferResult> {
    const link = this.#ports.link();
    if (link === undefined) return { ok: false, status: 503, reason: 'Service Unavailable (no such PBX link)' };
    if (!link.config.can_terminate) return { ok: false, status: 403, reason: 'Forbidden (the link takes no outbound calls)' };
    if (this.host.half(offer.id) !== undefined) return { ok: true };
    if (offer.content.body.length === 0) return { ok: false, status: 488, reason: 'Not Acceptable Here (an offer is required toward a PBX)' };
    const session = await this.#ports.media.open(offer.id, { browserOffer: offer.content.body });
    if (!session.ok || session.value.pbxOffer === undefined) return { ok: false, ...mediaRefusal(session.ok ? 500 : session.status) };
    const { host, port, transport } = link.config;
    const number = offer.trunk?.number ?? offer.calleeAor.slice(0, offer.calleeAor.lastIndexOf('@'));
    const caller = offer.trunk?.callerId ?? { user: offer.callerAor.slice(0, offer.callerAor.lastIndexOf('@')) };
    const display = caller.displayName === undefined ? '' : `"${caller.displayName.replace(/["\\]/g, '')}" `;
    const trunkOffer: CallOffer = {
      ...offer,
      // The caller ID in the domain the link is known by at the PBX (its registration's AOR).
      from: `${display}<sip:${caller.user}@${identityHost(link)}>`,
      to: `<sip:${number}@${host}>`,
      content: { contentType: SDP, body: session.value.pbxOffer },
    };
    const route = link.config.outbound_proxy === undefined ? [] : [`<${link.config.outbound_proxy};lr>`];
    const result = this.host.offer(trunkOffer, [{ bindingKey: '', contact: `<sip:${number}@${host}:${port};transport=${transport}>`, path: route, flow: this.#flow() }]);
    if (!result.ok) await this.#ports.media.close(offer.id);
    await this.settle();
    return result;
  }

  /** An event from a user's half of one of this link's calls. */
  async callEvent(to: HalfAddress, event: PeerEvent): Promise<void> {
    const half = this.host.half(to.id);
    if (half === undefined || half.role !== to.role) {
      if (!(await this.#fromMember(to, event))) this.host.peerEvent(to.role, to.id, event);
      return;
    }
    const from: HalfAddress = { aor: half.peerAor, role: peerRole(half.role), id: half.id };
    const dtmf = event.type === 'request' ? dtmfKeyOf(event.method, event.content) : undefined;
    if (event.type === 'request' && dtmf !== undefined) {
      // The browser's key goes in-band when the PBX's leg has telephone-event; otherwise its INFO goes on as it came.
      const sent = await this.#ports.media.dtmf(half.id, dtmf);
      if (sent.ok) {
        await this.#resolve(half.peerAor).callEvent(from, { type: 'answer', relayId: event.relayId, status: 200, reason: 'OK', content: { body: '' }, headers: [] });
        return;
      }
    }
    if (event.type === 'request' && isSdp(event.content)) {
      // The browser's new offer (hold, resume, ICE restart) is the node's business alone: the PBX's leg stays as it is.
      const updated = await this.#ports.media.update(half.id, { browserOffer: event.content.body });
      const answer = updated.ok && updated.value.browserAnswer !== undefined ? sdpAnswer(event.relayId, updated.value.browserAnswer) : renegotiationRefused(event.relayId);
      await this.#resolve(half.peerAor).callEvent(from, answer);
      return;
    }
    if (event.type === 'answer' && event.relayId === INVITE_RELAY && half.role === 'caller' && isSdp(event.content) && event.status >= 180 && event.status < 300) {
      // An inbound call: the browser's answer goes to the node; the PBX gets the node's answer, or
      // its offer when the PBX's INVITE had none (RFC 3261 §13.2.1: the offer is then in the 2xx, the answer in the ACK).
      const created = this.#ports.media.session(half.id)?.created;
      const pbxAnswer = created?.offeredBy === 'node' ? created.pbxOffer : created?.pbxAnswer;
      const answered = await this.#ports.media.answer(half.id, { browserAnswer: event.content.body });
      if ((!answered.ok && answered.reason !== 'already-answered') || pbxAnswer === undefined) {
        this.host.peerEvent(to.role, to.id, { ...event, status: 503, reason: 'Service Unavailable (media)', content: { body: '' }, headers: [] });
        if (event.status >= 200) await this.#resolve(half.peerAor).callEvent(from, { type: 'bye', reason: 'SIP;cause=503;text="Media session failed"' });
        return;
      }
      this.host.peerEvent(to.role, to.id, { ...event, content: { contentType: SDP, body: pbxAnswer } });
    } else {
      this.host.peerEvent(to.role, to.id, event);
    }
    await this.settle();
  }

  /**
   * A message from the PBX on the link's connection: true when it belongs to calls (one of this
   * link's, or a new INVITE); false leaves it to the link (its own transactions, OPTIONS).
   */
  receive(message: SipMessage, reply: (status: number, reason: string) => void): boolean {
    if (message.kind === 'response') return this.host.deviceResponse(message);
    const callId = getCallId(message);
    const inDialog = getTo(message)?.params.some((param) => param.name.toLowerCase() === 'tag') === true;
    if (this.host.owns(callId) && (inDialog || message.method === 'CANCEL' || message.method === 'ACK' || this.host.isRetransmission(message))) {
      if (message.method === 'CANCEL' && this.host.halfWithCallId(callId)?.phase === 'setup') this.#cancelled(message);
      return this.host.deviceRequest(message, this.#flow());
    }
    if (message.method === 'ACK') return true;
    if (isUnsolicitedSummary(message)) {
      void relaySummary(message, this.#ports, reply);
      return true;
    }
    if (message.method !== 'INVITE' || inDialog) return false;
    void this.#inbound(message, reply).catch((error: unknown) => {
      this.#ports.log.error('pbx-link.inbound-failed', { error: String(error) });
      reply(500, 'Server Internal Error');
    });
    return true;
  }

  /** Some call is under way on the link. */
  active(): boolean {
    return this.host.list().length > 0;
  }

  /**
   * The link's flow to the PBX was lost and not restored within the grace (`CALLS_GRACE_MS`):
   * every call ends, BYE toward the user's side and the media session deleted at once; the BYE
   * toward the PBX waits for the next connection (the dialog may live on there, and a PBX that
   * never hears it ends the call on its own RTP or session timer).
   */
  flowLost(detail: string): void {
    const ids = new Set(this.host.list().map((half) => half.id));
    for (const id of ids) this.host.hangUp(id, `SIP;cause=503;text="${detail.replace(/"/g, '')}"`);
    if (ids.size > 0) this.#ports.log.warn('pbx-link.calls-ended', { link: this.#linkId, calls: ids.size, detail });
  }

  /** The node ended call `callId`'s media session on its own: the call ends on both legs. */
  mediaEnded(callId: string, reason: string): boolean {
    return this.host.hangUp(callId, `SIP;cause=503;text="Media session ended (${reason.replace(/"/g, '')})"`);
  }

  /** The PBX's caller gave up before an answer: routing's inbound-cancel webhook hears of it. */
  #cancelled(cancel: SipRequest): void {
    const link = this.#ports.link();
    const routing = this.#ports.routing();
    if (link === undefined || routing === undefined) return;
    this.#queue.push(async () => {
      try {
        await routing.inboundCancelled(inboundRequest(cancel, link.config.id));
      } catch (error) {
        this.#ports.log.warn('pbx-link.inbound-cancelled-failed', { error: String(error) });
      }
    });
  }

  /** The node at `controlUrl` lost its sessions: every call with one there ends; returns how many. */
  mediaNodeLost(controlUrl: string, reason: string): number {
    let ended = 0;
    for (const callId of this.#ports.media.callsOn(controlUrl)) {
      if (this.mediaEnded(callId, reason)) ended += 1;
      // A session whose call is already gone (its delete failed) is forgotten now.
      else this.#queue.push(() => this.#ports.media.close(callId));
    }
    return ended;
  }

  async #inbound(request: SipRequest, reply: (status: number, reason: string) => void): Promise<void> {
    const link = this.#ports.link();
    if (link === undefined) return reply(404, 'Not Found');
    const target = await this.#route(request, link);
    if (!target.ok) return reply(target.status, target.reason);
    const domain = this.#ports.domain.toLowerCase();
    const [user, ...others] = target.users;
    if (user === undefined) return reply(404, 'Not Found');
    let callee = `${user}@${domain}`;
    if (others.length > 0) {
      const token = randomHex(8);
      this.#groups.save({ token, members: target.users.map((each) => ({ aor: `${each}@${domain}`, state: 'offered' })) });
      callee = `${GROUP_AOR_PREFIX}${token}`;
    }
    this.#ports.log.info('pbx-link.inbound-call', { link: link.config.id, users: target.users, callId: getCallId(request) });
    this.host.startCall(request, this.#flow(), linkAor(link.config.id), callee);
    await this.settle();
  }

  /**
   * Who takes an INVITE from the PBX: a call to the link's registered contact goes to its
   * `endpoint` (Asterisk's option of the same name), a call to a proxied user's contact to that
   * user; anything else to inbound routing, or without it, to the user the Request-URI names.
   * With `line`, the Request-URI's `line` parameter names the link as Asterisk's does: this
   * link's token goes to its `endpoint` whatever the user part; any other token is 404.
   */
  async #route(request: SipRequest, link: StoredLink): Promise<InboundTarget> {
    let user: string | undefined;
    let line: string | undefined;
    try {
      const uri = parseUri(request.uri);
      if (uri.kind === 'sip') {
        user = uri.user;
        line = uri.params.find((param) => param.name.toLowerCase() === 'line')?.value;
      }
    } catch {
      return { ok: false, status: 400, reason: 'Bad Request-URI' };
    }
    if (line !== undefined) {
      if (!link.config.line || line !== link.identity.line) return { ok: false, status: 404, reason: 'Not Found (unknown line)' };
      if (link.config.endpoint !== undefined) return { ok: true, users: [link.config.endpoint] };
    }
    if (link.config.endpoint !== undefined && user === link.config.contact_user) return { ok: true, users: [link.config.endpoint] };
    const proxied = user === undefined ? undefined : this.#ports.proxiedUser?.(user);
    if (proxied !== undefined) return { ok: true, users: [proxied] };
    const routing = this.#ports.routing();
    if (routing === undefined) return user === undefined ? { ok: false, status: 404, reason: 'Not Found' } : { ok: true, users: [user] };
    return routing.routeInbound(inboundRequest(request, link.config.id));
  }

  /** A user's object, or the ring group that stands for several. */
  #resolve(aor: string): CallPeer {
    const token = groupToken(aor);
    return token === undefined ? this.#ports.user(aor) : this.#groupPeer(token);
  }

  /** The ring group as the link's caller half sees it: one peer, which offers to every member and follows the winner. */
  #groupPeer(token: string): CallPeer {
    return {
      offerCall: async (offer) => {
        const initial = this.#groups.byToken(token);
        if (initial === undefined) return { ok: false, status: 480, reason: 'Temporarily Unavailable' };
        this.#groups.save({ ...initial, callId: offer.id });
        const results = await Promise.all(initial.members.map(async (member, index): Promise<OfferResult> => {
          try {
            return await this.#ports.user(member.aor).offerCall({ ...offer, id: memberCallId(offer.id, index), calleeAor: member.aor, to: `<sip:${member.aor}>` });
          } catch {
            return { ok: false, status: 503, reason: 'Service Unavailable' };
          }
        }));
        // Members' answers may have come in meanwhile: the stored group is the current one.
        let group = this.#groups.byToken(token) ?? { ...initial, callId: offer.id };
        for (const [index, result] of results.entries()) if (!result.ok) group = withMember(group, index, { state: 'failed', status: result.status });
        this.#groups.save(group);
        if (!allFailed(group)) return { ok: true };
        return { ok: false, ...forkFailure(group.members.map((member) => member.status ?? 480)) };
      },
      callEvent: async (_to, event) => {
        const group = this.#groups.byToken(token);
        if (group?.callId === undefined) return;
        const callId = group.callId;
        const send = (index: number): Promise<void> => {
          const member = group.members[index];
          return member === undefined ? Promise.resolve() : this.#ports.user(member.aor).callEvent({ aor: member.aor, role: 'callee', id: memberCallId(callId, index) }, event);
        };
        if (group.winner !== undefined) return send(group.winner);
        if (event.type !== 'cancel' && event.type !== 'bye') return;
        await Promise.all(group.members.map((member, index) => (member.state === 'failed' ? Promise.resolve() : send(index))));
      },
    };
  }

  /** An event from a ring group's member: the winner's pass to the call; the others' settle the race. */
  async #fromMember(to: HalfAddress, event: PeerEvent): Promise<boolean> {
    const parsed = parseMemberCallId(to.id);
    if (parsed === undefined || to.role !== 'caller') return false;
    let group = this.#groups.byCallId(parsed.callId);
    const member = group?.members[parsed.index];
    if (group === undefined || member === undefined) return false;
    const { index } = parsed;
    const own: HalfAddress = { aor: to.aor, role: 'caller', id: parsed.callId };
    const memberAddress: HalfAddress = { aor: member.aor, role: 'callee', id: to.id };
    const failed = async (before: RingGroup, status: number): Promise<void> => {
      const current = withMember(before, index, { state: 'failed', status });
      this.#groups.save(current);
      if (current.winner !== undefined || !allFailed(current)) return;
      const best = forkFailure(current.members.map((each) => each.status ?? 480));
      await this.callEvent(own, { type: 'answer', relayId: INVITE_RELAY, status: best.status, reason: best.reason, content: { body: '' }, headers: [] });
    };
    if (group.winner === index) {
      await this.callEvent(own, event);
      return true;
    }
    if (event.type === 'answer' && event.relayId === INVITE_RELAY) {
      if (event.status >= 300) {
        await failed(group, event.status);
        return true;
      }
      if (group.winner !== undefined) {
        // RFC 3261 §13.2.2.4 by analogy: a member that answered after the winner is hung up.
        if (event.status >= 200) await this.#ports.user(member.aor).callEvent(memberAddress, { type: 'bye', reason: COMPLETED_ELSEWHERE });
        return true;
      }
      if (event.status >= 200) {
        group = { ...withMember(group, index, { state: 'answered', status: event.status }), winner: index };
        this.#groups.save(group);
        const others = group.members.flatMap((each, at) => (at === index || each.state === 'failed' ? [] : [{ each, at }]));
        await Promise.all(others.map(({ each, at }) => this.#ports.user(each.aor).callEvent({ aor: each.aor, role: 'callee', id: memberCallId(parsed.callId, at) }, { type: 'cancel', reason: COMPLETED_ELSEWHERE })));
      } else if (member.state === 'offered') {
        this.#groups.save(withMember(group, index, { state: 'ringing' }));
      }
      await this.callEvent(own, event);
      return true;
    }
    // A member whose fork gave up before any answer is one failure more.
    if (event.type === 'bye' && group.winner === undefined) await failed(group, 480);
    return true;
  }

  /** The way from this link's halves to a user's object (or a ring group), with the media swap on the way out. */
  #toUser(aor: string): CallPeer {
    const user = this.#resolve(aor);
    return {
      offerCall: async (offer) => {
        // An inbound call: the PBX's offer goes to the node; the browser gets the node's.
        const session = await this.#ports.media.open(offer.id, offer.content.body.length === 0 ? {} : { pbxOffer: offer.content.body });
        if (!session.ok || session.value.browserOffer === undefined) return { ok: false, ...mediaRefusal(session.ok ? 500 : session.status) };
        const result = await user.offerCall({ ...offer, content: { contentType: SDP, body: session.value.browserOffer } });
        return result;
      },
      callEvent: async (to, event) => {
        const own: HalfAddress = { aor: linkAor(this.#linkId), role: peerRole(to.role), id: to.id };
        if (event.type === 'request' && isSdp(event.content)) {
          // The PBX's new offer is answered by the node for the PBX's leg; the browser's leg stays as it is.
          const updated = await this.#ports.media.update(to.id, { pbxOffer: event.content.body });
          this.host.peerEvent(own.role, own.id, updated.ok && updated.value.pbxAnswer !== undefined ? sdpAnswer(event.relayId, updated.value.pbxAnswer) : renegotiationRefused(event.relayId));
          return;
        }
        if (event.type === 'ack' && own.role === 'caller' && isSdp(event.content)) {
          // The PBX's answer to the node's offer in the 2xx (an INVITE without SDP) arrives in its ACK.
          await this.#ports.media.answer(to.id, { pbxAnswer: event.content.body });
          return user.callEvent(to, { ...event, content: { body: '' } });
        }
        if (event.type === 'answer' && event.relayId === INVITE_RELAY && own.role === 'callee' && isSdp(event.content) && event.status >= 180 && event.status < 300) {
          // Toward a trunk: the PBX's answer (in a 183 or the 2xx) goes to the node; the browser gets the node's.
          const browserAnswer = this.#ports.media.session(to.id)?.created.browserAnswer;
          const answered = await this.#ports.media.answer(to.id, { pbxAnswer: event.content.body });
          // A 2xx whose SDP differs from the 183's changes nothing: the early answer stands (RFC 3261 §13.2.1).
          if ((!answered.ok && answered.reason !== 'already-answered') || browserAnswer === undefined) {
            if (event.status < 200) return user.callEvent(to, { ...event, content: { body: '' } });
            this.host.hangUp(to.id, 'SIP;cause=488;text="Media negotiation failed"');
            return user.callEvent(to, { ...event, status: 488, reason: 'Not Acceptable Here', content: { body: '' }, headers: [] });
          }
          return user.callEvent(to, { ...event, content: { contentType: SDP, body: browserAnswer } });
        }
        return user.callEvent(to, event);
      },
    };
  }

  #halfChanged(half: HalfCall): void {
    if (half.phase !== 'ended') return;
    // The host queues this step's effects (the BYE or CANCEL to the other leg among them) right
    // after this call: the clean-up is queued behind them, so the other leg hears of the end first
    // and a ring group is still known while its members are told.
    this.#queue.push(async () => {
      this.#queue.push(async () => {
        this.#groups.deleteCall(half.id);
        await this.#ports.media.close(half.id);
      });
    });
  }
}

/** The host of the link's `client_uri` (the AOR it registers), else the PBX's host. */
function identityHost(link: StoredLink): string {
  try {
    const uri = parseUri(link.config.client_uri);
    if (uri.kind === 'sip') return uri.port === undefined ? uri.host : `${uri.host}:${uri.port}`;
  } catch {
    // A client_uri the API accepted always parses; the host is the fallback all the same.
  }
  return link.config.host;
}

/** What inbound routing (and its webhooks) learns of a request from the PBX; credentials never leave. */
function inboundRequest(request: SipRequest, linkId: string): InboundRequest {
  const body = new TextDecoder().decode(request.body);
  return {
    linkId,
    requestUri: request.uri,
    to: getHeader(request, 'To') ?? '',
    from: getHeader(request, 'From') ?? '',
    headers: request.headers.filter((field) => !/^(authorization|proxy-authorization)$/i.test(field.name)),
    ...(body.length === 0 ? {} : { sdp: body }),
  };
}

function isSdp(content: Content): boolean {
  return content.body.length > 0 && (content.contentType ?? SDP).toLowerCase().startsWith(SDP);
}

function sdpAnswer(relayId: string, body: string): PeerEvent {
  return { type: 'answer', relayId, status: 200, reason: 'OK', content: { contentType: SDP, body }, headers: [] };
}

function renegotiationRefused(relayId: string): PeerEvent {
  return { type: 'answer', relayId, status: 488, reason: 'Not Acceptable Here (the media node refused the new offer)', content: { body: '' }, headers: [] };
}

/** A media node's refusal as the SIP answer to the call: no common codec is 488, anything else 503 (the plan may try the next trunk). */
function mediaRefusal(status: number): { status: number; reason: string } {
  return status === 422 || status === 400 ? { status: 488, reason: 'Not Acceptable Here (media)' } : { status: 503, reason: 'Service Unavailable (no media node)' };
}
