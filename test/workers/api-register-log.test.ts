/**
 * The register log (GET /api/v1/users/:u/registrations/log and /api/v1/me/registrations/log): each
 * REGISTER a device sent, with the answer, the user agent, where it came from, and the expiry asked
 * for and granted.
 */
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { Device } from './support/register-client.ts';
import { EDGE, openSipSocket } from './support/sip-socket.ts';
import { operatorHeaders } from './support/users.ts';

interface Entry {
  status?: number;
  reason?: string;
  userAgent?: string;
  transport: string;
  contact?: string;
  requestedExpires?: number;
  grantedExpires?: number;
  at: number;
}

async function registerLog(user: string, query = ''): Promise<Entry[]> {
  const response = await exports.default.fetch(`${EDGE}/api/v1/users/${user}/registrations/log${query}`, { headers: operatorHeaders() });
  expect(response.status).toBe(200);
  return ((await response.json()) as { entries: Entry[] }).entries;
}

describe('register log', () => {
  it('lists each REGISTER with its answer, user agent, transport and expiries, oldest first', async () => {
    const [gina] = await freshUsers('gina');
    const before = Date.now();
    const device = new Device(await openSipSocket(), { user: gina!, password: PASSWORD });
    expect((await device.register({ expires: 300, extraHeaders: ['User-Agent: TestPhone/1.0'] })).status).toBe(200);
    expect((await device.register({ expires: 0, extraHeaders: ['User-Agent: TestPhone/1.0'] })).status).toBe(200);
    const wrong = new Device(await openSipSocket(), { user: gina!, password: 'not the password' });
    expect((await wrong.register({ expires: 300 })).status).toBe(401);

    const entries = await registerLog(gina!);
    expect(entries.map((entry) => [entry.status, entry.requestedExpires, entry.grantedExpires])).toEqual([
      [401, 300, undefined],
      [200, 300, 300],
      // The second REGISTER reuses the nonce (next nc): no new challenge.
      [200, 0, undefined],
      // The wrong password: challenged, then refused twice (the device answers at most two challenges).
      [401, 300, undefined],
      [401, 300, undefined],
      [401, 300, undefined],
    ]);
    expect(entries[1]).toMatchObject({ reason: 'OK', userAgent: 'TestPhone/1.0', transport: 'WSS', contact: device.contactUri });
    expect(entries[0]!.at).toBeGreaterThanOrEqual(before);
    expect((await registerLog(gina!, '?limit=1')).length).toBe(1);
    device.socket.close();
    wrong.socket.close();
  });

  it('answers 404 for an unknown user and names a bad parameter', async () => {
    expect((await exports.default.fetch(`${EDGE}/api/v1/users/nobody-at-all/registrations/log`, { headers: operatorHeaders() })).status).toBe(404);
    const bad = await exports.default.fetch(`${EDGE}/api/v1/users/nobody-at-all/registrations/log?limit=0`, { headers: operatorHeaders() });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { parameter: string }[] }).errors[0]?.parameter).toBe('limit');
  });
});
