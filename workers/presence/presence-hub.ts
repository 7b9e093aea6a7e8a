/**
 * PresenceHub: one Durable Object per SIP domain (named by the domain) through which presence
 * changes reach the API's event streams (`workers/api/presence.ts`) as they happen.
 *
 * - An event stream `follow`s a set of the domain's users: the answer is a byte stream of
 *   newline-delimited JSON `PresenceChange`s for those users, open until the stream's reader
 *   cancels it (the API client went away).
 * - A SipUser tells the hub of each change of its user's presence as the API shows it
 *   (`PresenceFeed`, `presence-feed.ts`): registered or not, publication, on a call or not, the
 *   user deleted. The hub passes it to every stream following that user and keeps nothing.
 * - Every HEARTBEAT_MS, while some stream follows, each gets an empty line: the API turns it into
 *   an SSE comment that keeps proxies from closing an idle stream, and it is how the hub learns
 *   that a stream's reader went away (a cancelled RPC stream fails on its next write; the cancel
 *   itself does not reach this object), so a follower is forgotten within that time.
 *
 * Followers live in memory only: when the object restarts, their streams end with an error and
 * the clients (EventSource reconnects by itself) follow again, getting a fresh snapshot. A
 * follower that stops reading while changes pile up is dropped the same way rather than buffered
 * without limit.
 */
import { DurableObject } from 'cloudflare:workers';
import type { PresenceSnapshot } from './presence-host.ts';

/** A user's presence as the event streams show it: the snapshot without the PIDF document. */
export type PresenceView = Omit<PresenceSnapshot, 'pidf'>;

/** One change: the user's presence now, or `null` when the user was deleted. */
export interface PresenceChange {
  readonly username: string;
  readonly presence: PresenceView | null;
}

/** Changes queued for one follower beyond which it is dropped (it is not reading). */
const MAX_BACKLOG = 512;
const HEARTBEAT_MS = 20_000;

interface Follower {
  readonly users: ReadonlySet<string>;
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
}

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode('\n');

export class PresenceHub extends DurableObject<Env> {
  readonly #followers = new Set<Follower>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  /** The changes of `users` from now on, as newline-delimited JSON `PresenceChange`s, and empty lines as heartbeats. */
  follow(users: readonly string[]): ReadableStream<Uint8Array> {
    let follower: Follower | undefined;
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          follower = { users: new Set(users), controller };
          this.#followers.add(follower);
          this.#heartbeat ??= setInterval(() => this.heartbeat(), HEARTBEAT_MS);
        },
        cancel: () => {
          if (follower !== undefined) this.#forget(follower);
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** From a SipUser: its user's presence changed. */
  changed(change: PresenceChange): void {
    let line: Uint8Array | undefined;
    for (const follower of this.#followers) {
      if (!follower.users.has(change.username)) continue;
      line ??= encoder.encode(`${JSON.stringify(change)}\n`);
      this.#send(follower, line);
    }
  }

  /** An empty line to every follower (on the interval; tests call it to skip the wait). */
  heartbeat(): void {
    for (const follower of this.#followers) this.#send(follower, HEARTBEAT);
  }

  #send(follower: Follower, line: Uint8Array): void {
    if ((follower.controller.desiredSize ?? 0) < -MAX_BACKLOG) {
      this.#forget(follower);
      follower.controller.error(new Error('the follower fell behind'));
      return;
    }
    follower.controller.enqueue(line);
  }

  #forget(follower: Follower): void {
    this.#followers.delete(follower);
    if (this.#followers.size > 0 || this.#heartbeat === undefined) return;
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /** How many streams follow some user of the domain (for the tests and the curious). */
  followers(): number {
    return this.#followers.size;
  }
}

/** The hub of `domain`. */
export function presenceHub(env: Env, domain: string): DurableObjectStub<PresenceHub> {
  return env.PRESENCE_HUB.get(env.PRESENCE_HUB.idFromName(domain.toLowerCase()));
}
