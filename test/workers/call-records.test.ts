/**
 * The Directory's call records (`workers/directory/call-records.ts`) on their own: writes from the
 * call's halves and its media node in any order make one record, and retention keeps the newest
 * calls of the retention window (small limits here; the Directory keeps 10,000 calls of 30 days).
 */
import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { CallRecords, type CallMedia } from '../../workers/directory/call-records.ts';

const DAY = 24 * 60 * 60 * 1000;
const MEDIA: CallMedia = { nodeId: 'n1', sessionId: 'link.t.c1', reason: 'closed', endedAt: '2026-11-23T20:00:00.000Z', summary: { browserToPbx: null, pbxToBrowser: null } };

/** A store over a fresh object's SQLite. */
async function withRecords<T>(name: string, keep: { calls: number; ms: number }, use: (records: CallRecords) => T): Promise<T> {
  const stub = env.DIRECTORY.get(env.DIRECTORY.idFromName(`call-records-${name}`));
  return runInDurableObject(stub, (_instance, state) => use(new CallRecords(state.storage.sql, keep)));
}

describe('call records', () => {
  it('make one record of writes in any order: the first end and status stay, the route and media follow the latest', async () => {
    await withRecords('order', { calls: 100, ms: DAY }, (records) => {
      // The media node's report can arrive before the call's own end.
      records.write({ id: 'c1', media: MEDIA }, 1_000);
      expect(records.get('c1')).toBeUndefined();
      records.write({ id: 'c1', startedAt: 1_000, caller: 'alice', callee: '4930', direction: 'local', user: 'alice', sipCallId: 'sip-1' }, 1_000);
      records.write({ id: 'c1', direction: 'outbound', linkId: 'trunk-a' }, 1_100);
      records.write({ id: 'c1', direction: 'outbound', linkId: 'trunk-b' }, 1_200);
      records.write({ id: 'c1', answeredAt: 2_000, status: 200, reason: 'OK' }, 2_000);
      records.write({ id: 'c1', endedAt: 9_000, endedBy: 'edge', endReason: 'media node: media-timeout' }, 9_000);
      records.write({ id: 'c1', endedAt: 9_500, endedBy: 'callee', endReason: 'BYE' }, 9_500);
      expect(records.get('c1')).toMatchObject({
        startedAt: 1_000, answeredAt: 2_000, endedAt: 9_000, direction: 'outbound', linkId: 'trunk-b', status: 200, endedBy: 'edge', endReason: 'media node: media-timeout', media: MEDIA,
      });
      expect(records.page({ limit: 10, live: true }).calls).toEqual([]);
    });
  });

  it('keep the newest calls of the window, the oldest deleted as new calls start', async () => {
    await withRecords('retention', { calls: 3, ms: DAY }, (records) => {
      for (let i = 1; i <= 5; i++) records.write({ id: `c${i}`, startedAt: i * 1_000, caller: 'a', callee: 'b', direction: 'local' }, i * 1_000);
      expect(records.page({ limit: 10 }).calls.map((call) => call.id)).toEqual(['c5', 'c4', 'c3']);
      // A day later, a new call: the others are past the window.
      records.write({ id: 'c6', startedAt: 5_000 + DAY + 1, caller: 'a', callee: 'b', direction: 'local' }, 5_000 + DAY + 1);
      expect(records.page({ limit: 10 }).calls.map((call) => call.id)).toEqual(['c6']);
    });
  });
});
