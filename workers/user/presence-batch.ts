/**
 * The domain's presence hub as a SipUser's presence feed reaches it (`workers/presence/presence-feed.ts`),
 * with each user's changes held for `PRESENCE_BATCH_MS` and only the last one told, when it differs
 * from the last one told. A call flips its parties' `onCall` twice: told at once, that is four RPCs
 * per call to one object per domain; held, a state that lasts less than the batch (a call refused
 * at once, a call set up and hung up by a load generator) costs none, and one that lasts reaches
 * the API's event streams that much later. The changes of one object go out in order, and nothing
 * waits for them: a hub that does not answer costs a log line.
 */
import { errorFields, type Logger } from '../logger.ts';
import type { PresenceHubRpc } from '../presence/presence-feed.ts';
import type { PresenceChange } from '../presence/presence-hub.ts';

/** How long a change waits for the next one of the same user (as the call records' batches, `CALL_RECORD_BATCH_MS`). */
export const PRESENCE_BATCH_MS = 200;

/** `hub`, with each user's changes batched (one object's users: its own, usually one). */
export function batchedPresenceHub(hub: (domain: string) => PresenceHubRpc, log: Logger): (domain: string) => PresenceHubRpc {
  /** Per `domain username`: the latest change not told yet. */
  const pending = new Map<string, { readonly domain: string; readonly change: PresenceChange }>();
  /** Per `domain username`: the JSON of the presence last told. */
  const told = new Map<string, string>();
  let sending: Promise<void> = Promise.resolve();
  const flush = (): void => {
    const batch = [...pending.values()];
    pending.clear();
    for (const { domain, change } of batch) {
      const key = `${domain} ${change.username}`;
      const json = JSON.stringify(change.presence);
      if (told.get(key) === json) continue;
      told.set(key, json);
      sending = sending.then(async () => {
        try {
          await hub(domain).changed(change);
        } catch (error) {
          log.warn('presence.hub-failed', errorFields(error));
        }
      });
    }
  };
  return (domain) => ({
    changed: (change) => {
      if (pending.size === 0) setTimeout(flush, PRESENCE_BATCH_MS);
      pending.set(`${domain} ${change.username}`, { domain, change });
      return Promise.resolve();
    },
  });
}
