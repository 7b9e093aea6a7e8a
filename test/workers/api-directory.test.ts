/**
 * The domain's user list (the Directory object): GET /api/v1/users paged and filtered, kept in
 * step by PUT, DELETE and the CSV import, and healing itself when its write was lost.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { directoryOf, type Directory } from '../../workers/directory/directory.ts';
import { EDGE } from './support/sip-socket.ts';
import { DOMAIN, operatorHeaders, putUser } from './support/users.ts';

interface Page {
  users: { username: string; displayName?: string }[];
  next?: string;
}

async function list(query: string): Promise<Page> {
  const response = await exports.default.fetch(`${EDGE}/api/v1/users?${query}`, { headers: operatorHeaders() });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Page;
}

function directory() {
  return directoryOf(env, DOMAIN);
}

describe('GET /api/v1/users', () => {
  it('lists users by username, page by page, and filters by prefix', async () => {
    for (const name of ['pg-carl', 'pg-anna', 'pg-bert', 'pg-dora', 'pg-emil']) await putUser(name, 'a long password', name === 'pg-anna' ? 'Anna' : undefined);
    const first = await list('q=pg-&limit=2');
    expect(first.users).toEqual([{ username: 'pg-anna', displayName: 'Anna' }, { username: 'pg-bert' }]);
    const second = await list(`q=pg-&limit=2&cursor=${first.next!}`);
    expect(second.users.map((user) => user.username)).toEqual(['pg-carl', 'pg-dora']);
    const last = await list(`q=pg-&limit=2&cursor=${second.next!}`);
    expect(last).toEqual({ users: [{ username: 'pg-emil' }] });
    expect((await list('q=pg-d')).users.map((user) => user.username)).toEqual(['pg-dora']);
    expect((await list('q=nobody-starts-so')).users).toEqual([]);
  });

  it('follows deletions and the CSV import', async () => {
    await putUser('dl-one', 'a long password');
    await putUser('dl-two', 'a long password');
    await exports.default.fetch(`${EDGE}/api/v1/users/dl-one`, { method: 'DELETE', headers: operatorHeaders() });
    expect((await list('q=dl-')).users).toEqual([{ username: 'dl-two' }]);

    const imported = await exports.default.fetch(`${EDGE}/api/v1/users/import`, {
      method: 'POST',
      headers: { ...operatorHeaders(), 'Content-Type': 'text/csv' },
      body: 'im-b,a long password,Bea\r\nim-a,another password\r\n',
    });
    expect(imported.status).toBe(200);
    expect((await list('q=im-')).users).toEqual([{ username: 'im-a' }, { username: 'im-b', displayName: 'Bea' }]);
  });

  it('heals a listing whose write was lost: a user read is listed again, a listed user that is gone is unlisted', async () => {
    await putUser('heal-me', 'a long password');
    await runInDurableObject(directory(), (instance: Directory) => instance.users.remove('heal-me'));
    expect((await list('q=heal-')).users).toEqual([]);
    expect((await exports.default.fetch(`${EDGE}/api/v1/users/heal-me`, { headers: operatorHeaders() })).status).toBe(200);
    expect((await list('q=heal-')).users).toEqual([{ username: 'heal-me' }]);

    await runInDurableObject(directory(), (instance: Directory) => instance.putUser({ username: 'heal-ghost' }));
    expect((await list('q=heal-')).users.map((user) => user.username)).toEqual(['heal-ghost', 'heal-me']);
    expect((await exports.default.fetch(`${EDGE}/api/v1/users/heal-ghost`, { headers: operatorHeaders() })).status).toBe(404);
    expect((await list('q=heal-')).users).toEqual([{ username: 'heal-me' }]);
  });

  it('writes nothing when a read finds the listing already right', async () => {
    await putUser('quiet', 'a long password', 'Quiet');
    const before = await runInDurableObject(directory(), (instance: Directory) => instance.users.rowsWritten);
    await exports.default.fetch(`${EDGE}/api/v1/users/quiet`, { headers: operatorHeaders() });
    expect(await runInDurableObject(directory(), (instance: Directory) => instance.users.rowsWritten)).toBe(before);
  });

  it('refuses a bad limit or cursor with a problem naming the parameter', async () => {
    for (const query of ['limit=501', 'limit=abc', 'cursor=a']) {
      const response = await exports.default.fetch(`${EDGE}/api/v1/users?${query}`, { headers: operatorHeaders() });
      expect(response.status, query).toBe(400);
      const problem = (await response.json()) as { errors: { parameter: string }[] };
      expect(problem.errors[0]?.parameter).toBe(query.split('=')[0]);
    }
  });

  it('shows the number of users on /health', async () => {
    await putUser('counted', 'a long password');
    const health = (await (await exports.default.fetch(`${EDGE}/health`)).json()) as { users: number };
    expect(health.users).toBe(await directory().countUsers());
    expect(health.users).toBeGreaterThan(0);
  });
});
