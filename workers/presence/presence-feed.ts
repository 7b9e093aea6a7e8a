/**
 * A SipUser's side of the presence hub (`presence-hub.ts`): tells the domain's hub when its
 * user's presence, as the API's event streams show it, changed.
 *
 * Only changes go out: the view last told is kept in memory (after the object restarts, the first
 * change is told even when the hub saw it already; the streams drop repeats). The calls go out
 * one after the other, in order, and nothing waits for them: a hub that does not answer costs a
 * log line, never a SIP transaction.
 */
import { errorFields, type Logger } from '../logger.ts';
import type { PresenceChange, PresenceView } from './presence-hub.ts';

/** The hub, as a SipUser talks to it. */
export interface PresenceHubRpc {
  changed(change: PresenceChange): Promise<void>;
}

export class PresenceFeed {
  readonly #hub: (domain: string) => PresenceHubRpc;
  readonly #log: Logger;
  /** The JSON of the view last told, per AOR. */
  readonly #told = new Map<string, string>();
  #sending: Promise<void> = Promise.resolve();

  constructor(hub: (domain: string) => PresenceHubRpc, log: Logger) {
    this.#hub = hub;
    this.#log = log;
  }

  /** `aor`'s presence is now `view` (null: the user is gone); told to the hub when it differs from the last. */
  update(aor: string, view: PresenceView | null): void {
    const json = JSON.stringify(view);
    if (this.#told.get(aor) === json) return;
    this.#told.set(aor, json);
    const at = aor.lastIndexOf('@');
    const change: PresenceChange = { username: aor.slice(0, at), presence: view };
    const domain = aor.slice(at + 1);
    this.#sending = this.#sending.then(async () => {
      try {
        await this.#hub(domain).changed(change);
      } catch (error) {
        this.#log.warn('presence.hub-failed', errorFields(error));
      }
    });
  }
}
