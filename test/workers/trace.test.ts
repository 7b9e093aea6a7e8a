/**
 * The per-user SIP trace: every message in and out of the user's object, digest credentials
 * redacted before anything is kept, filtered by Call-ID, bounded by count, size and age, written
 * in batches (an idle device's refreshes write nothing), and served by the operator API.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { SipTrace, type TracePolicy } from '../../workers/trace/sip-trace.ts';
import { redactCredentials } from '../../workers/trace/trace-record.ts';
import { TraceStore } from '../../workers/trace/trace-store.ts';
import type { SipUser } from '../../workers/user/sip-user.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { fakeClockFor, freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { Phone } from './support/phone.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders, userStub } from './support/users.ts';

const AUTH = 'Digest username="alice", realm="demo.sipedge.local", nonce="n0nce-secret", uri="sip:demo.sipedge.local", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="c1", qop=auth, nc=00000001';

function wire(method: string, callId: string, extra: string[] = []): string {
  return [`${method} sip:bob@demo.sipedge.local SIP/2.0`, `Call-ID: ${callId}`, `CSeq: 1 ${method}`, ...extra, 'Content-Length: 0', '', ''].join('\r\n');
}

describe('redaction', () => {
  it('keeps who and what of Authorization and Proxy-Authorization, never the response hash or the nonce', () => {
    const text = redactCredentials(wire('INVITE', 'c1', [`Authorization: ${AUTH}`, `proxy-authorization :${AUTH}`, '  , opaque="folded"']));
    expect(text).not.toContain('6629fae49393a05397450978507c4ef1');
    expect(text).not.toContain('n0nce-secret');
    expect(text).not.toContain('folded');
    expect(text).toContain('Authorization: Digest username="alice", realm="demo.sipedge.local", uri="sip:demo.sipedge.local", algorithm=MD5, qop=auth, response="[redacted]"');
    expect(text).toContain('proxy-authorization : Digest username="alice"');
    expect(text.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });
});

describe('SIP trace of a user', () => {
  it('records the REGISTER exchange with the credentials redacted, and a MESSAGE by Call-ID, in order', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const sender = await Phone.online(alice!, PASSWORD);
    expect((await sender.message(bob!, 'hello')).status).toBe(202);
    const records = await userStub(alice!).readTrace();
    const summaries = records.map((record) => `${record.direction} ${record.summary}`);
    expect(summaries.slice(0, 4)).toEqual([
      `in REGISTER sip:demo.sipedge.local SIP/2.0`,
      'out SIP/2.0 401 Unauthorized',
      `in REGISTER sip:demo.sipedge.local SIP/2.0`,
      'out SIP/2.0 200 OK',
    ]);
    const authorized = records[2]!;
    expect(authorized.message).toMatch(/Authorization: Digest username="alice\d+"/);
    expect(authorized.message).toContain('response="[redacted]"');
    expect(authorized.message).not.toMatch(/nonce="/);
    expect(authorized.transport).toBe('WSS');
    // The test phone sends its authenticated MESSAGE with a new Call-ID: that exchange alone.
    const messageCallId = records.findLast((record) => record.summary.startsWith('MESSAGE'))!.callId!;
    const filtered = await userStub(alice!).readTrace({ callId: messageCallId });
    expect(filtered.map((record) => `${record.direction} ${record.summary}`)).toEqual([`in MESSAGE sip:${bob!}@demo.sipedge.local SIP/2.0`, 'out SIP/2.0 202 Accepted']);
    expect(filtered[0]!.message).toContain('Proxy-Authorization: Digest');
    expect(filtered[0]!.message).not.toMatch(/nonce="|cnonce=/);
    expect((await userStub(alice!).readTrace({ limit: 2 })).length).toBe(2);
    sender.socket.close();
  });

  it('writes nothing for registration refreshes, and one batch for a MESSAGE exchange when the flush timer rings', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const clock = await fakeClockFor(alice!);
    const sender = await Phone.online(alice!, PASSWORD);
    for (let round = 0; round < 3; round += 1) expect((await sender.device.register({ expires: 600 })).status).toBe(200);
    const written = (): Promise<number> => runInDurableObject(userStub(alice!), (_instance: SipUser, state) => {
      const exists = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'trace_batch'").toArray().length > 0;
      return exists ? Number(state.storage.sql.exec('SELECT count(*) AS n FROM trace_batch').one().n) : 0;
    });
    expect(await written()).toBe(0);
    expect((await sender.message(bob!, 'hello')).status).toBe(202);
    expect(await written()).toBe(0);
    clock.advance(5_000);
    expect(await runDurableObjectAlarm(userStub(alice!))).toBe(true);
    expect(await written()).toBe(1);
    // The batch carried the refreshes too: everything so far is stored, in one row.
    const records = await userStub(alice!).readTrace({ limit: 2000 });
    expect(records.length).toBeGreaterThanOrEqual(12);
    sender.socket.close();
  });

  it('never writes for registrations alone, however many, and keeps the newest of them readable', async () => {
    const [erin] = await freshUsers('erin');
    await runInDurableObject(userStub(erin!), (_instance: SipUser, state) => {
      const clock = new FakeClock(1_000_000);
      const policy: TracePolicy = { maxRecords: 100, maxBytes: 100_000, maxAgeMs: 60_000, batchRecords: 8, batchBytes: 100_000, flushDelayMs: 1_000 };
      const store = new TraceStore(state.storage.sql);
      const trace = new SipTrace({ store, policy, now: () => clock.now(), timersChanged: () => undefined });
      for (let index = 0; index < 50; index += 1) {
        trace.record({ direction: 'in', transport: 'WSS', flow: 'f', wire: wire('REGISTER', `reg-${index}`) });
        clock.advance(10);
      }
      expect(store.rowsWritten).toBe(0);
      const records = trace.read({ limit: 1000 });
      expect(records.length).toBeGreaterThanOrEqual(4);
      expect(records.at(-1)?.callId).toBe('reg-49');
      // A call's message makes the next batch worth writing, the newest registrations with it.
      trace.record({ direction: 'in', transport: 'WSS', flow: 'f', wire: wire('INVITE', 'call-1') });
      trace.flush();
      expect(Number(state.storage.sql.exec('SELECT count(*) AS n FROM trace_batch').one().n)).toBe(1);
      expect(trace.read({ limit: 1000 }).at(-1)?.callId).toBe('call-1');
    });
  });

  it('is bounded by records, bytes and age', async () => {
    const [carol] = await freshUsers('carol');
    await runInDurableObject(userStub(carol!), (_instance: SipUser, state) => {
      const clock = new FakeClock(1_000_000);
      const policy: TracePolicy = { maxRecords: 10, maxBytes: 4_000, maxAgeMs: 60_000, batchRecords: 3, batchBytes: 100_000, flushDelayMs: 1_000 };
      const store = new TraceStore(state.storage.sql);
      const trace = new SipTrace({ store, policy, now: () => clock.now(), timersChanged: () => undefined });
      for (let index = 0; index < 30; index += 1) {
        trace.record({ direction: 'in', transport: 'WSS', flow: 'f', wire: wire('INFO', `call-${index}`) });
        clock.advance(10);
      }
      const records = trace.read({ limit: 1000 });
      // Pruned a batch at a time: at most maxRecords, at least maxRecords less one batch.
      expect(records.length).toBeLessThanOrEqual(10);
      expect(records.length).toBeGreaterThanOrEqual(7);
      expect(records.at(-1)?.callId).toBe('call-29');
      const stored = Number(state.storage.sql.exec('SELECT sum(records) AS n FROM trace_batch').one().n);
      expect(stored).toBeLessThanOrEqual(12);

      const big = 'x'.repeat(1_500);
      for (let index = 0; index < 3; index += 1) trace.record({ direction: 'out', transport: 'WSS', flow: 'f', wire: wire('MESSAGE', `big-${index}`, [`Subject: ${big}`]) });
      const bounded = trace.read({ limit: 1000 });
      expect(bounded.reduce((sum, record) => sum + record.bytes, 0)).toBeLessThanOrEqual(4_000);
      expect(bounded.at(-1)?.callId).toBe('big-2');

      clock.advance(61_000);
      expect(trace.read()).toEqual([]);
      trace.record({ direction: 'in', transport: 'WSS', flow: 'f', wire: wire('BYE', 'late') });
      trace.flush();
      expect(Number(state.storage.sql.exec('SELECT count(*) AS n FROM trace_batch').one().n)).toBe(1);
    });
  });

  it('is served by GET /api/v1/users/:username/trace to the operator', async () => {
    const [dave] = await freshUsers('dave');
    const phone = await Phone.online(dave!, PASSWORD);
    const response = await exports.default.fetch(`${EDGE}/api/v1/users/${dave!}/trace?limit=3`, { headers: operatorHeaders() });
    expect(response.status).toBe(200);
    const body = await response.json<{ records: { summary: string }[] }>();
    expect(body.records.length).toBe(3);
    expect((await exports.default.fetch(`${EDGE}/api/v1/users/${dave!}/trace`)).status).toBe(401);
    expect((await exports.default.fetch(`${EDGE}/api/v1/users/nobody-x/trace`, { headers: operatorHeaders() })).status).toBe(404);
    expect((await exports.default.fetch(`${EDGE}/api/v1/users/${dave!}/trace?limit=0`, { headers: operatorHeaders() })).status).toBe(400);
    phone.socket.close();
  });
});
