/**
 * The presence changes a call makes, as they reach the domain's hub (workers/user/presence-batch.ts):
 * each user's changes are held for a moment and only the last one is told, so a call that is over
 * before the batch goes (its `onCall` on, then off) costs the hub nothing, and a change that
 * repeats what was told is not told again. (That a lasting call's changes reach the API's event
 * streams is test/workers/api-presence-events.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import type { PresenceChange, PresenceView } from '../../workers/presence/presence-hub.ts';
import { silentLogger } from '../../workers/logger.ts';
import { batchedPresenceHub } from '../../workers/user/presence-batch.ts';

const view = (onCall: boolean, registered = true): PresenceView => ({ basic: 'open', source: 'registration', registered, onCall });

/** A hub that records what it is told; `told(n)` resolves once it has been told `n` changes. */
function recordingHub(): { hub: () => { changed(change: PresenceChange): Promise<void> }; told(count: number): Promise<PresenceChange[]> } {
  const changes: PresenceChange[] = [];
  const waiting: { count: number; resolve: (changes: PresenceChange[]) => void }[] = [];
  return {
    hub: () => ({
      changed: async (change) => {
        changes.push(change);
        for (const each of waiting.filter((wait) => changes.length >= wait.count)) each.resolve([...changes]);
      },
    }),
    told: (count) => new Promise((resolve) => (changes.length >= count ? resolve([...changes]) : waiting.push({ count, resolve }))),
  };
}

describe('presence changes batched on their way to the hub', () => {
  it('tell only the last change of a batch, and never a repeat of what was told', async () => {
    const recording = recordingHub();
    const hub = batchedPresenceHub(recording.hub, silentLogger)('demo.sipedge.local');
    // A call set up and hung up within one batch: only where it ended is told.
    await hub.changed({ username: 'alice', presence: view(true) });
    await hub.changed({ username: 'alice', presence: view(false) });
    expect(await recording.told(1)).toEqual([{ username: 'alice', presence: view(false) }]);

    // The next batch: a repeat of alice's last state, and bob's first.
    await hub.changed({ username: 'alice', presence: view(false) });
    await hub.changed({ username: 'bob', presence: view(true) });
    expect((await recording.told(2)).map((change) => change.username)).toEqual(['alice', 'bob']);

    // Then a change of alice's: it follows bob's, so the repeat above was never told.
    await hub.changed({ username: 'alice', presence: view(false, false) });
    expect(await recording.told(3)).toEqual([
      { username: 'alice', presence: view(false) },
      { username: 'bob', presence: view(true) },
      { username: 'alice', presence: view(false, false) },
    ]);
  });
});
