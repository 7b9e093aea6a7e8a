/**
 * SipUser: one Durable Object per address-of-record (`user@domain`): the account, the registrar,
 * the user's half of every call it takes part in (the edge is a B2BUA, `workers/call/call-half.ts`
 * says which half owns what), and the messages waiting for it.
 *
 * Messages from devices arrive over RPC from SipConnection objects (`receiveRequest` returns the
 * response to send back on the same flow, when there is one at once); the object reaches a device
 * through the flow of its binding (`SipConnection.deliver`, by connection id), and the other party
 * of a call or message through that user's object (`offerCall`, `callEvent`, `receiveMessage`).
 *
 * Thin by design (STYLE.md): each handler delegates to `UserCore` and catches and logs. Time comes
 * from `clock`, which tests replace.
 */
import { DurableObject } from 'cloudflare:workers';
import { systemClock, type Clock } from '../../shared/clock/index.ts';
import { createResponse, serializeMessage, type SipMessage, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import type { HalfCall } from '../call/call-half.ts';
import type { CallOffer, HalfAddress, OfferResult, PeerEvent } from '../call/peer-event.ts';
import { createLogger, errorFields, type Logger } from '../logger.ts';
import type { MessageOutcome, PageMessage } from '../message/page-message.ts';
import type { NotifyAnswer, SubscribeAnswer, SubscribeInput } from '../presence/subscription.ts';
import type { Binding } from '../registrar/binding.ts';
import type { Flow } from '../sip/flow.ts';
import { randomTag } from '../sip/wire.ts';
import type { TraceQuery } from '../trace/sip-trace.ts';
import type { TraceRecord } from '../trace/trace-record.ts';
import { viewOf, type Account, type AccountView } from './account.ts';
import { UserCore, type UserPeer } from './user-core.ts';
import { UserStore } from './user-store.ts';

export class SipUser extends DurableObject<Env> {
  /** The object's time source; tests put a fake clock here with `runInDurableObject`. */
  clock: Clock = systemClock;
  readonly store: UserStore;
  readonly core: UserCore;
  readonly #log: Logger;
  /** One stub per peer: calls on one stub arrive in the order they were made. */
  readonly #peers = new Map<string, UserPeer>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new UserStore(ctx.storage.sql);
    this.#log = createLogger({ object: 'SipUser' });
    this.core = new UserCore({
      domain: env.SIPEDGE_DOMAIN,
      log: this.#log,
      sql: ctx.storage.sql,
      store: this.store,
      now: () => this.clock.now(),
      nonceSecret: () => env.SIPEDGE_NONCE_SECRET,
      deliver: (connectionId, wire) => env.SIP_CONNECTION.get(env.SIP_CONNECTION.idFromString(connectionId)).deliver(wire),
      peer: (aor) => this.#peer(aor),
      alarm: {
        get: () => ctx.storage.getAlarm(),
        set: (at) => ctx.storage.setAlarm(at),
        clear: () => ctx.storage.deleteAlarm(),
      },
    });
  }

  /** RPC from a SipConnection: a request of (or for) this AOR. Resolves to the response to send at once, if any. */
  async receiveRequest(aor: string, request: SipRequest, flow: Flow): Promise<SipResponse | undefined> {
    this.#record('in', request, flow);
    let response: SipResponse | undefined;
    try {
      response = await this.core.receiveRequest(aor, request, flow);
    } catch (error) {
      this.#log.error('sip-user.request-failed', { aor, method: request.method, ...errorFields(error) });
      response = request.method === 'ACK' ? undefined : createResponse(request, 500, undefined, { toTag: randomTag() });
    }
    if (response !== undefined) this.#record('out', response, flow);
    return response;
  }

  /** RPC from a SipConnection: a response from one of this user's devices. */
  async receiveResponse(aor: string, response: SipResponse, flow: Flow): Promise<void> {
    this.#record('in', response, flow);
    try {
      await this.core.receiveResponse(response);
    } catch (error) {
      this.#log.error('sip-user.response-failed', { aor, status: response.status, ...errorFields(error) });
    }
  }

  /** RPC from the caller's SipUser: fork a call to this user's devices. */
  async offerCall(offer: CallOffer): Promise<OfferResult> {
    try {
      return this.core.offerCall(offer);
    } catch (error) {
      this.#log.error('sip-user.offer-failed', { call: offer.id, ...errorFields(error) });
      return { ok: false, status: 500, reason: 'Server Internal Error' };
    }
  }

  /** RPC from the other half of a call. */
  async callEvent(to: HalfAddress, event: PeerEvent): Promise<void> {
    try {
      this.core.callEvent(to, event);
    } catch (error) {
      this.#log.error('sip-user.call-event-failed', { call: to.id, type: event.type, ...errorFields(error) });
    }
  }

  /** RPC from the sender's SipUser: a MESSAGE for this user; resolves to 200 (delivered), 202 (stored) or a refusal. */
  async receiveMessage(page: PageMessage): Promise<MessageOutcome> {
    try {
      return await this.core.receiveMessage(page);
    } catch (error) {
      this.#log.error('sip-user.message-failed', { from: page.senderAor, ...errorFields(error) });
      return { status: 500, reason: 'Server Internal Error' };
    }
  }

  /** RPC from the watcher's SipUser: an authenticated SUBSCRIBE to this user (`workers/presence/`). */
  async subscribe(input: SubscribeInput): Promise<SubscribeAnswer> {
    try {
      return this.core.presence.accept(input);
    } catch (error) {
      this.#log.error('sip-user.subscribe-failed', { watcher: input.watcherAor, ...errorFields(error) });
      return { status: 500 };
    }
  }

  /** RPC from the watcher's SipUser: its device answered a NOTIFY of this user. */
  async notifyAnswered(answer: NotifyAnswer): Promise<void> {
    try {
      this.core.presence.notifyAnswered(answer);
    } catch (error) {
      this.#log.error('sip-user.notify-answer-failed', errorFields(error));
    }
  }

  /** RPC from the API: the user's SIP trace, oldest first (`workers/trace/`). */
  async readTrace(query: TraceQuery = {}): Promise<TraceRecord[]> {
    return this.core.trace.read(query);
  }

  /** RPC from the API: creates or replaces the account; true when it is new. */
  async putAccount(account: Account): Promise<{ created: boolean }> {
    return { created: this.core.putAccount(account) };
  }

  /** RPC from the API: the account, without its HA1s. */
  async getAccount(): Promise<AccountView | undefined> {
    const account = this.core.account();
    return account === undefined ? undefined : viewOf(account);
  }

  /** RPC from the API: forgets the user, its bindings, any lock-out and its stored messages; false when there was none. */
  async deleteAccount(): Promise<boolean> {
    return this.core.deleteAccount();
  }

  /** The current (unexpired) bindings; for the API and tests. */
  async listBindings(): Promise<Binding[]> {
    return this.core.bindings();
  }

  /** The halves of calls this object holds; for the API and tests. */
  async listCalls(): Promise<HalfCall[]> {
    return this.core.calls.list();
  }

  override async alarm(): Promise<void> {
    try {
      await this.core.alarm();
    } catch (error) {
      this.#log.error('sip-user.alarm-failed', errorFields(error));
      // Rethrown so that the runtime retries the alarm.
      throw error;
    }
  }

  /** Records a message in the user's trace; the trace never fails the message. */
  #record(direction: 'in' | 'out', message: SipMessage, flow: Flow): void {
    try {
      this.core.trace.record({ direction, transport: flow.transport, flow: flow.connectionId, remote: flow.remoteAddress, wire: serializeMessage(message) });
    } catch (error) {
      this.#log.warn('sip-user.trace-failed', errorFields(error));
    }
  }

  #peer(aor: string): UserPeer {
    let peer = this.#peers.get(aor);
    if (peer === undefined) {
      const stub = this.env.SIP_USER.get(this.env.SIP_USER.idFromName(aor));
      peer = {
        offerCall: (offer) => stub.offerCall(offer),
        callEvent: (to, event) => stub.callEvent(to, event),
        receiveMessage: (page) => stub.receiveMessage(page),
        subscribe: (input) => stub.subscribe(input),
        notifyAnswered: (answer) => stub.notifyAnswered(answer),
      };
      this.#peers.set(aor, peer);
    }
    return peer;
  }
}
