/**
 * The MediaFleet object inside workerd, with a fake clock: which node a call gets, when a node
 * stops counting, the replay record of nonces, session-end reports. Each test has a fleet object
 * of its own (by name), so none sees another's nodes.
 */
import { env } from 'cloudflare:workers';
import { evictDurableObject, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Heartbeat } from '../../workers/media/media-node-record.ts';
import type { MediaFleet } from '../../workers/media/media-fleet.ts';
import { FakeClock } from '../support/fake-clock.ts';

const T0 = Date.UTC(2100, 0, 1);
/** wrangler.toml's SIPEDGE_MEDIA_HEARTBEAT_MS is 10 s: three missed beats. */
const STALE_AFTER_MS = 30_000;

let serial = 0;

interface Fleet {
  readonly stub: DurableObjectStub<MediaFleet>;
  readonly clock: FakeClock;
  run<T>(fn: (fleet: MediaFleet) => T): Promise<T>;
}

function freshFleet(): Fleet {
  serial += 1;
  const stub = env.MEDIA_FLEET.get(env.MEDIA_FLEET.idFromName(`test-fleet-${serial}`));
  const clock = new FakeClock(T0);
  return {
    stub,
    clock,
    run: (fn) =>
      runInDurableObject(stub, (fleet: MediaFleet) => {
        fleet.clock = clock;
        return fn(fleet);
      }),
  };
}

function beat(nodeId: string, fields: Partial<Heartbeat> = {}): Heartbeat {
  const capacity = fields.capacity ?? 100;
  const sessions = fields.sessions ?? 0;
  return {
    nodeId,
    region: 'eu',
    state: 'up',
    controlUrl: `http://${nodeId}.example:8090`,
    pbxAddress: '192.0.2.10',
    capacity,
    sessions,
    load: sessions / capacity,
    cpu: 0.1,
    startedAt: '2099-12-31T00:00:00.000Z',
    sentAt: new Date(T0).toISOString(),
    ...fields,
  };
}

async function picked(fleet: Fleet, region?: string): Promise<string | undefined> {
  return fleet.run((instance) => instance.pick(region)?.nodeId);
}

describe('MediaFleet.pick', () => {
  it('gives the least-loaded healthy node in the caller region', async () => {
    const fleet = freshFleet();
    await fleet.run((instance) => {
      instance.heartbeat(beat('eu-busy', { sessions: 60 }));
      instance.heartbeat(beat('eu-quiet', { sessions: 10 }));
      instance.heartbeat(beat('us-idle', { region: 'us', sessions: 0 }));
    });
    expect(await picked(fleet, 'eu')).toBe('eu-quiet');
    expect(await picked(fleet, 'us')).toBe('us-idle');
  });

  it('compares load, not sessions, between nodes of different capacity', async () => {
    const fleet = freshFleet();
    await fleet.run((instance) => {
      instance.heartbeat(beat('small', { capacity: 10, sessions: 5 }));
      instance.heartbeat(beat('large', { capacity: 200, sessions: 20 }));
    });
    expect(await picked(fleet, 'eu')).toBe('large');
  });

  it('falls back to another region when the caller region has no healthy node', async () => {
    const fleet = freshFleet();
    await fleet.run((instance) => {
      instance.heartbeat(beat('eu-stopping', { state: 'stopping' }));
      instance.heartbeat(beat('us-1', { region: 'us', sessions: 3 }));
    });
    expect(await picked(fleet, 'eu')).toBe('us-1');
    expect(await picked(fleet, 'ap')).toBe('us-1');
    expect(await picked(fleet)).toBe('us-1');
  });

  it('never gives a node that missed three heartbeats, and gives it again once it beats', async () => {
    const fleet = freshFleet();
    await fleet.run((instance) => {
      instance.heartbeat(beat('eu-1', { sessions: 0 }));
      instance.heartbeat(beat('eu-2', { sessions: 50 }));
    });
    fleet.clock.advance(STALE_AFTER_MS - 10_000);
    await fleet.run((instance) => instance.heartbeat(beat('eu-2', { sessions: 50 })));
    fleet.clock.advance(10_001);
    // eu-1 last beat 30.001 s ago: stale, though the least loaded.
    expect(await picked(fleet, 'eu')).toBe('eu-2');
    const listing = await fleet.run((instance) => instance.listNodes());
    expect(listing.staleAfterMs).toBe(STALE_AFTER_MS);
    expect(listing.nodes.map((node) => [node.nodeId, node.health, node.silentMs])).toEqual([
      ['eu-1', 'stale', STALE_AFTER_MS + 1],
      ['eu-2', 'healthy', 10_001],
    ]);

    await fleet.run((instance) => instance.heartbeat(beat('eu-1', { sessions: 0 })));
    expect(await picked(fleet, 'eu')).toBe('eu-1');
  });

  it('still gives a node at exactly three intervals of silence', async () => {
    const fleet = freshFleet();
    await fleet.run((instance) => instance.heartbeat(beat('eu-1')));
    fleet.clock.advance(STALE_AFTER_MS);
    expect(await picked(fleet, 'eu')).toBe('eu-1');
  });

  it('never gives a node that said it is stopping, nor a full one', async () => {
    const fleet = freshFleet();
    await fleet.run((instance) => {
      instance.heartbeat(beat('eu-stopping', { state: 'stopping', sessions: 0 }));
      instance.heartbeat(beat('eu-full', { capacity: 20, sessions: 20 }));
    });
    expect(await picked(fleet, 'eu')).toBeUndefined();
    const health = await fleet.run((instance) => instance.listNodes().nodes.map((node) => [node.nodeId, node.health]));
    expect(health).toEqual([
      ['eu-full', 'full'],
      ['eu-stopping', 'stopping'],
    ]);
  });

  it('spreads calls given between two heartbeats instead of sending them all to one node', async () => {
    const fleet = freshFleet();
    await fleet.run((instance) => {
      instance.heartbeat(beat('eu-a', { capacity: 4, sessions: 0 }));
      instance.heartbeat(beat('eu-b', { capacity: 4, sessions: 1 }));
    });
    const choices = await fleet.run((instance) => Array.from({ length: 8 }, () => instance.pick('eu')?.nodeId ?? 'none'));
    // a (0/4), then a again (tie at 1/4 with as many free: by id), b, a, b, a, b: both full.
    expect(choices.filter((id) => id === 'eu-a')).toHaveLength(4);
    expect(choices.filter((id) => id === 'eu-b')).toHaveLength(3);
    expect(choices.at(-1)).toBe('none');
    // The next heartbeat brings the node's own count, which replaces the guesses.
    await fleet.run((instance) => instance.heartbeat(beat('eu-b', { capacity: 4, sessions: 0 })));
    expect(await picked(fleet, 'eu')).toBe('eu-b');
  });
});

describe('MediaFleet storage', () => {
  it('keeps heartbeats in SQLite: after an eviction the new instance lists the same node', async () => {
    const fleet = freshFleet();
    await fleet.run((instance) => instance.heartbeat(beat('eu-1', { controlUrl: 'https://media-1.example' })));
    await evictDurableObject(fleet.stub);
    const rows = await fleet.run((instance) => instance.store.nodes());
    expect(rows).toEqual([expect.objectContaining({ nodeId: 'eu-1', controlUrl: 'https://media-1.example', lastSeen: T0, cpu: 0.1 })]);
    expect(await picked(fleet, 'eu')).toBe('eu-1');
  });

  it('writes one row per heartbeat and one per nonce (what Cloudflare bills)', async () => {
    const fleet = freshFleet();
    const written = await fleet.run((instance) => {
      const before = instance.store.rowsWritten;
      instance.rememberNonce('nonce-0123456789abcdef', T0 / 1000);
      instance.heartbeat(beat('eu-1'));
      instance.heartbeat(beat('eu-1', { sessions: 1 }));
      return instance.store.rowsWritten - before;
    });
    expect(written).toBe(3);
  });

  it('remembers a nonce for the replay window and forgets it afterwards', async () => {
    const fleet = freshFleet();
    const stamp = T0 / 1000;
    expect(await fleet.run((instance) => instance.rememberNonce('nonce-0123456789abcdef', stamp))).toBe(true);
    expect(await fleet.run((instance) => instance.rememberNonce('nonce-0123456789abcdef', stamp))).toBe(false);
    expect(await fleet.run((instance) => instance.rememberNonce('nonce-fedcba9876543210', stamp))).toBe(true);
    // By then a request stamped `stamp` is stale anyway (30 s skew and a second's margin).
    fleet.clock.advance(31_000);
    expect(await fleet.run((instance) => instance.rememberNonce('nonce-0123456789abcdef', stamp + 31))).toBe(true);
  });

  it('stores a session-end report once and sees the retry as a duplicate', async () => {
    const fleet = freshFleet();
    const report = { nodeId: 'eu-1', sessionId: 'call-1', reason: 'media-timeout', endedAt: new Date(T0).toISOString(), stats: { packets: 3 } };
    expect(await fleet.run((instance) => instance.sessionEnded(report))).toEqual({ duplicate: false });
    expect(await fleet.run((instance) => instance.sessionEnded(report))).toEqual({ duplicate: true });
    const stored = await fleet.run((instance) => instance.store.sessionEnds());
    expect(stored).toEqual([{ nodeId: 'eu-1', sessionId: 'call-1', reason: 'media-timeout', endedAt: report.endedAt, receivedAt: T0, report }]);
    // Ten minutes later it is forgotten, when the next report arrives.
    fleet.clock.advance(10 * 60 * 1000 + 1);
    await fleet.run((instance) => instance.sessionEnded({ ...report, sessionId: 'call-2' }));
    expect((await fleet.run((instance) => instance.store.sessionEnds())).map((end) => end.sessionId)).toEqual(['call-2']);
  });
});
