/**
 * How a SipUser sends on a device's flow (RFC 5626): a socket the object holds itself, one another
 * SipUser holds (`deliverOnFlow`), or a SipConnection's socket (`SipConnection.deliver`). While a
 * request from a flow is handled with `collectSends`, what goes to that flow is kept and returned
 * with the answer instead of sent by an RPC of its own.
 */
import type { SipConnection } from '../connection/sip-connection.ts';
import { userSocketHolder } from '../connection/user-socket.ts';
import { errorFields, type Logger } from '../logger.ts';

/** Stubs of SipConnection objects kept per SipUser: a user has a few devices, each on one flow at a time. */
const MAX_CONNECTION_STUBS = 32;

export class UserFlows {
  readonly #ctx: DurableObjectState;
  readonly #env: Env;
  readonly #log: Logger;
  /** Per flow: what goes to it while a request from it is handled with `collectSends`. */
  readonly #collecting = new Map<string, string[]>();
  /** Stubs of the SipConnection objects of this user's flows, by flow (`#connection`). */
  readonly #connections = new Map<string, DurableObjectStub<SipConnection>>();

  constructor(ctx: DurableObjectState, env: Env, log: Logger) {
    this.#ctx = ctx;
    this.#env = env;
    this.#log = log;
  }

  /**
   * Starts keeping what goes to flow `connectionId`, and returns the list it fills; undefined when
   * another request of the flow is collecting already (that one delivers as usual).
   */
  collect(connectionId: string): string[] | undefined {
    if (this.#collecting.has(connectionId)) return undefined;
    const sent: string[] = [];
    this.#collecting.set(connectionId, sent);
    return sent;
  }

  stopCollecting(connectionId: string): void {
    this.#collecting.delete(connectionId);
  }

  /** Sends on a flow: a socket of this object, one another SipUser holds, or a SipConnection's. */
  deliver(connectionId: string, wire: string): Promise<boolean> {
    const collecting = this.#collecting.get(connectionId);
    if (collecting !== undefined) {
      collecting.push(wire);
      return Promise.resolve(true);
    }
    const holder = userSocketHolder(connectionId);
    if (holder === undefined) return this.#connection(connectionId).deliver(wire);
    if (holder === this.#ctx.id.toString()) return Promise.resolve(this.sendOnOwnSocket(connectionId, wire));
    return this.#env.SIP_USER.get(this.#env.SIP_USER.idFromString(holder)).deliverOnFlow(connectionId, wire);
  }

  /** Sends on flow `connectionId`, a socket this object holds; false when it is gone. */
  sendOnOwnSocket(connectionId: string, wire: string): boolean {
    const ws = this.#ctx.getWebSockets(connectionId)[0];
    if (ws === undefined || ws.readyState !== WebSocket.READY_STATE_OPEN) return false;
    try {
      ws.send(wire);
      return true;
    } catch (error) {
      this.#log.info('sip.flow.send-failed', errorFields(error));
      return false;
    }
  }

  /** The SipConnection holding flow `connectionId`: its stub is made once (`idFromString` and `get` cost more than the send). */
  #connection(connectionId: string): DurableObjectStub<SipConnection> {
    let stub = this.#connections.get(connectionId);
    if (stub === undefined) {
      if (this.#connections.size >= MAX_CONNECTION_STUBS) this.#connections.clear();
      stub = this.#env.SIP_CONNECTION.get(this.#env.SIP_CONNECTION.idFromString(connectionId));
      this.#connections.set(connectionId, stub);
    }
    return stub;
  }
}
