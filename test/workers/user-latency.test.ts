/**
 * `GET /api/v1/users/:username/latency`: each registered device with when the edge last answered
 * its CRLF keep-alive, and its response times to the edge's requests, read off the user's trace
 * (a MESSAGE delivered to the device and answered after a set time on the user's fake clock).
 */
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { fakeClockFor, freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { Phone } from './support/phone.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders } from './support/users.ts';

interface Device {
  flow: string;
  lastKeepaliveAt: string | null;
  responses: { count: number; p50Ms: number | null; p95Ms: number | null; maxMs: number | null; unanswered: number };
  samples: { method: string; status: number | null; ms: number | null }[];
}

async function latency(user: string): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1/users/${user}/latency`, { headers: operatorHeaders() });
}

describe("a user's device latency", () => {
  it("shows the device's response time to a MESSAGE the edge delivered, and its last keep-alive", async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const clock = await fakeClockFor(bob!);
    const sender = await Phone.online(alice!, PASSWORD);
    const phone = await Phone.online(bob!, PASSWORD);

    const before = (await (await latency(bob!)).json()) as { devices: Device[] };
    expect(before.devices).toHaveLength(1);
    expect(before.devices[0]?.lastKeepaliveAt).toBeNull();
    expect(before.devices[0]?.responses).toEqual({ count: 0, p50Ms: null, p95Ms: null, maxMs: null, unanswered: 0 });

    const answered = sender.message(bob!, 'ping');
    const message = await phone.expectRequest('MESSAGE');
    clock.advance(45);
    phone.respond(message, 200, { toTag: 'p1' });
    expect((await answered).status).toBe(200);

    // RFC 5626 §4.4.1: a CRLFCRLF ping, answered with CRLF by the runtime.
    phone.socket.send('\r\n\r\n');
    expect(await phone.socket.next(3_000)).toBe('\r\n');

    const response = await latency(bob!);
    expect(response.status).toBe(200);
    const [device] = ((await response.json()) as { devices: Device[] }).devices;
    expect(device?.samples).toEqual([{ method: 'MESSAGE', status: 200, ms: 45, at: expect.any(String) }]);
    expect(device?.responses).toEqual({ count: 1, p50Ms: 45, p95Ms: 45, maxMs: 45, unanswered: 0 });
    expect(device?.lastKeepaliveAt).not.toBeNull();
    sender.socket.close();
    phone.socket.close();
  });

  it('answers 404 for a user that does not exist, 400 for a name that cannot be one, 401 without a token', async () => {
    expect((await latency('nobody-here')).status).toBe(404);
    expect((await latency('no%20body')).status).toBe(400);
    expect((await exports.default.fetch(`${EDGE}/api/v1/users/nobody-here/latency`)).status).toBe(401);
  });
});
