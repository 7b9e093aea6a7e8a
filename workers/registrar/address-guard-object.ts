/**
 * AddressGuard: one Durable Object per client address (named `addressGuardName(ip)`), holding the
 * brute-force state of that address across users (`address-guard.ts` says when it is asked).
 * It holds no socket and wakes only when a socket is accepted or an authentication fails.
 */
import { DurableObject } from 'cloudflare:workers';
import { createLogger, type Logger } from '../logger.ts';
import { ADDRESS_GUARD_POLICY, addressGuardName, blockOf, type AddressBlock } from './address-guard.ts';
import { OPEN_GUARD, recordFailure, type AuthGuardPolicy, type AuthGuardState } from './auth-guard.ts';

/** The storage key of the guard's state. */
const STATE_KEY = 'address-guard';

/** The guard object of a source address. */
export function addressGuard(env: Env, address: string): DurableObjectStub<AddressGuard> {
  return env.ADDRESS_GUARD.get(env.ADDRESS_GUARD.idFromName(addressGuardName(address)));
}

export class AddressGuard extends DurableObject<Env> {
  readonly #log: Logger;
  #state: AuthGuardState | undefined;
  /** The guard's numbers; tests shorten them with `runInDurableObject`. */
  policy: AuthGuardPolicy = ADDRESS_GUARD_POLICY;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#log = createLogger({ object: 'AddressGuard' });
  }

  /** The block on this address now, if any. */
  async admitAddress(): Promise<AddressBlock | undefined> {
    return blockOf(await this.#read(), Date.now());
  }

  /** A wrong answer to a digest challenge came from `address`: resolves to the block it is under from now on, if any. */
  async addressFailed(address: string): Promise<AddressBlock | undefined> {
    const now = Date.now();
    const failure = recordFailure(await this.#read(), now, this.policy);
    this.#state = failure.state;
    await this.ctx.storage.put(STATE_KEY, failure.state);
    const fields = { address, failures: failure.state.failures };
    if (failure.verdict.kind === 'open') this.#log.info('auth.address.failed', fields);
    else this.#log.warn(`auth.address.${failure.verdict.kind}`, { ...fields, retryAfter: failure.verdict.retryAfterSeconds });
    return blockOf(failure.state, now);
  }

  async #read(): Promise<AuthGuardState> {
    this.#state ??= (await this.ctx.storage.get<AuthGuardState>(STATE_KEY)) ?? OPEN_GUARD;
    return this.#state;
  }
}
