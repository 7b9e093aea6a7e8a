/**
 * SipUser: one Durable Object per address-of-record (`user@domain`). Today it holds the account
 * and the registrar; calls, presence, messages and the trace join it with the rest of issue 3.
 *
 * Messages arrive over RPC from SipConnection objects (`receiveRequest` returns the response to
 * send back on the same flow); the object reaches a device through the flow of its binding
 * (`SipConnection.deliver`, by connection id).
 *
 * Thin by design (STYLE.md): each handler initialises once, delegates to `user-registrar.ts`, and
 * catches and logs. Time comes from `clock`, which tests replace.
 */
import { DurableObject } from 'cloudflare:workers';
import { systemClock, nextDeadline, type Clock } from '../../shared/clock/index.ts';
import { createResponse, type SipRequest, type SipResponse } from '../../shared/message/index.ts';
import { createLogger, errorFields, type Logger } from '../logger.ts';
import type { Binding } from '../registrar/binding.ts';
import type { Flow } from '../sip/flow.ts';
import { EDGE_ALLOW } from '../sip/edge-methods.ts';
import { randomTag } from '../sip/wire.ts';
import { viewOf, type Account, type AccountView } from './account.ts';
import { UserStore } from './user-store.ts';
import { expireBindings, handleRegister, loadUserState, type UserState } from './user-registrar.ts';

export class SipUser extends DurableObject<Env> {
  /** The object's time source; tests put a fake clock here with `runInDurableObject`. */
  clock: Clock = systemClock;
  readonly store: UserStore;
  readonly #log: Logger;
  #state: UserState | undefined;
  /** The alarm as last set or read; undefined until read once. */
  #armed: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new UserStore(ctx.storage.sql);
    this.#log = createLogger({ object: 'SipUser' });
  }

  /** RPC from a SipConnection: a request of (or for) this AOR. Resolves to the response to send. */
  async receiveRequest(aor: string, request: SipRequest, flow: Flow): Promise<SipResponse | undefined> {
    try {
      const now = this.clock.now();
      const state = this.#load(now);
      switch (request.method) {
        case 'REGISTER': {
          const nonceSecret = this.env.SIPEDGE_NONCE_SECRET;
          if (typeof nonceSecret !== 'string' || nonceSecret.length < 16) {
            this.#log.error('config.nonce-secret-missing', { detail: 'set SIPEDGE_NONCE_SECRET (16 characters or more): wrangler secret put SIPEDGE_NONCE_SECRET' });
            return createResponse(request, 500, 'Server Misconfigured', { toTag: randomTag() });
          }
          const handled = handleRegister(state, {
            aor,
            request,
            flow,
            now,
            domain: this.env.SIPEDGE_DOMAIN,
            nonceSecret,
            store: this.store,
            log: this.#log,
          });
          this.#state = handled.state;
          await this.#syncAlarm();
          return handled.response;
        }
        case 'ACK':
          return undefined;
        case 'OPTIONS':
          // RFC 3261 §11.2: what the edge would do with an INVITE, without one.
          return createResponse(request, 200, undefined, { toTag: randomTag(), headers: [{ name: 'Allow', value: EDGE_ALLOW }] });
        default:
          // RFC 3261 §21.5.2: calls, messages and presence arrive with the rest of issue 3.
          return createResponse(request, 501, undefined, { toTag: randomTag(), headers: [{ name: 'Allow', value: EDGE_ALLOW }] });
      }
    } catch (error) {
      this.#log.error('sip-user.request-failed', { aor, method: request.method, ...errorFields(error) });
      return request.method === 'ACK' ? undefined : createResponse(request, 500, undefined, { toTag: randomTag() });
    }
  }

  /** RPC from a SipConnection: a response from one of this user's devices. */
  async receiveResponse(aor: string, response: SipResponse, _flow: Flow): Promise<void> {
    // Nothing sends requests to devices yet (calls and presence arrive with the rest of issue 3).
    this.#log.info('sip-user.response-unmatched', { aor, status: response.status });
  }

  /** RPC from the API: creates or replaces the account; true when it is new. */
  async putAccount(account: Account): Promise<{ created: boolean }> {
    const now = this.clock.now();
    const state = this.#load(now);
    this.store.saveAccount(account, now);
    this.#state = { ...state, account };
    return { created: state.account === undefined };
  }

  /** RPC from the API: the account, without its HA1s. */
  async getAccount(): Promise<AccountView | undefined> {
    const account = this.#load(this.clock.now()).account;
    return account === undefined ? undefined : viewOf(account);
  }

  /** RPC from the API: forgets the user, its bindings and any lock-out; false when there was none. */
  async deleteAccount(): Promise<boolean> {
    const existed = this.#load(this.clock.now()).account !== undefined;
    this.store.deleteAll();
    this.#state = undefined;
    await this.ctx.storage.deleteAlarm();
    this.#armed = null;
    return existed;
  }

  /** The current (unexpired) bindings; for the API and tests. */
  async listBindings(): Promise<Binding[]> {
    const now = this.clock.now();
    return this.#load(now).bindings.filter((binding) => binding.expiresAt > now);
  }

  override async alarm(): Promise<void> {
    // The alarm that rang is no longer armed.
    this.#armed = null;
    try {
      const now = this.clock.now();
      this.#state = expireBindings(this.#load(now), now, this.store, this.#log);
      await this.#syncAlarm();
    } catch (error) {
      this.#log.error('sip-user.alarm-failed', errorFields(error));
      // Rethrown so that the runtime retries the alarm.
      throw error;
    }
  }

  #load(now: number): UserState {
    this.#state ??= loadUserState(this.store, now);
    return this.#state;
  }

  /** One alarm for every timer (DESIGN.md): armed for the earliest deadline, and only when that changes. */
  async #syncAlarm(): Promise<void> {
    const wanted = (this.#state === undefined ? undefined : nextDeadline(this.#state.timers)) ?? null;
    if (this.#armed === undefined) this.#armed = await this.ctx.storage.getAlarm();
    if (wanted === this.#armed) return;
    if (wanted === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(wanted);
    this.#armed = wanted;
  }
}
