import { exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { userHA1 } from '../../shared/auth/index.ts';
import type { SipUser } from '../../workers/user/sip-user.ts';
import { Device } from './support/register-client.ts';
import { EDGE, openSipSocket } from './support/sip-socket.ts';
import { DOMAIN, operatorHeaders, putUser, userStub } from './support/users.ts';

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { pointer?: string; parameter?: string; detail: string }[];
}

describe('/api/v1/users', () => {
  it('refuses a request without the operator token with 401 and a Bearer challenge', async () => {
    const response = await exports.default.fetch(`${EDGE}/api/v1/users/carol`, { method: 'PUT', body: '{}' });
    expect(response.status).toBe(401);
    expect(response.headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
    expect(response.headers.get('Content-Type')).toBe('application/problem+json');
  });

  it('refuses a wrong operator token with 401', async () => {
    const response = await exports.default.fetch(`${EDGE}/api/v1/users/carol`, {
      method: 'PUT',
      headers: { Authorization: 'Bearer not-the-token', 'Content-Type': 'application/json' },
      body: JSON.stringify({ password: 'long enough password' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('WWW-Authenticate')).toContain('invalid_token');
  });

  it('names the invalid field in a problem document', async () => {
    const response = await putUser('carol', 'short');
    expect(response.status).toBe(400);
    const problem = (await response.json()) as ProblemBody;
    expect(problem.errors).toEqual([{ pointer: '#/password', detail: 'must be at least 8 characters' }]);
    expect(problem.detail).toContain('password');
  });

  it('names an unknown field and an invalid username', async () => {
    const unknown = await exports.default.fetch(`${EDGE}/api/v1/users/carol`, {
      method: 'PUT',
      headers: operatorHeaders(),
      body: JSON.stringify({ password: 'long enough password', admin: true }),
    });
    expect(((await unknown.json()) as ProblemBody).errors).toEqual([{ pointer: '#/admin', detail: 'is not a known field' }]);

    const badName = await putUser('-carol', 'long enough password');
    expect(badName.status).toBe(400);
    expect(((await badName.json()) as ProblemBody).errors?.[0]?.parameter).toBe('username');
  });

  it('refuses a body that is not JSON', async () => {
    const response = await exports.default.fetch(`${EDGE}/api/v1/users/carol`, { method: 'PUT', headers: operatorHeaders(), body: 'password=x' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as ProblemBody).title).toBe('Invalid JSON');
  });

  it('creates (201), replaces (200), shows, and deletes a user', async () => {
    const created = await putUser('dave', 'first password', 'Dave Example');
    expect(created.status).toBe(201);
    expect(created.headers.get('Location')).toBe('/api/v1/users/dave');
    expect(await created.json()).toEqual({ username: 'dave', aor: `dave@${DOMAIN}`, displayName: 'Dave Example' });

    expect((await putUser('dave', 'second password')).status).toBe(200);
    const shown = await exports.default.fetch(`${EDGE}/api/v1/users/dave`, { headers: operatorHeaders() });
    expect(await shown.json()).toEqual({ username: 'dave', aor: `dave@${DOMAIN}` });

    const deleted = await exports.default.fetch(`${EDGE}/api/v1/users/dave`, { method: 'DELETE', headers: operatorHeaders() });
    expect(deleted.status).toBe(204);
    const gone = await exports.default.fetch(`${EDGE}/api/v1/users/dave`, { headers: operatorHeaders() });
    expect(gone.status).toBe(404);
    const again = await exports.default.fetch(`${EDGE}/api/v1/users/dave`, { method: 'DELETE', headers: operatorHeaders() });
    expect(again.status).toBe(404);
  });

  it('stores HA1 for MD5 and SHA-256, never the password', async () => {
    await putUser('erin', 'erins secret password');
    const row = await runInDurableObject(userStub('erin'), (_instance: SipUser, state) => state.storage.sql.exec('SELECT * FROM account').one());
    expect(row.ha1_md5).toBe(userHA1('MD5', 'erin', DOMAIN, 'erins secret password'));
    expect(row.ha1_sha256).toBe(userHA1('SHA-256', 'erin', DOMAIN, 'erins secret password'));
    expect(JSON.stringify(row)).not.toContain('erins secret password');
  });

  it('makes a replaced password the only one that registers', async () => {
    await putUser('frank', 'old password');
    await putUser('frank', 'new password');
    const old = new Device(await openSipSocket(), { user: 'frank', password: 'old password' });
    expect((await old.register({ expires: 600 })).status).toBe(401);
    const current = new Device(await openSipSocket(), { user: 'frank', password: 'new password' });
    expect((await current.register({ expires: 600 })).status).toBe(200);
    old.socket.close();
    current.socket.close();
  });

  it('deletes the user bindings with the user', async () => {
    await putUser('grace', 'graces password');
    const device = new Device(await openSipSocket(), { user: 'grace', password: 'graces password' });
    expect((await device.register({ expires: 600 })).status).toBe(200);
    await exports.default.fetch(`${EDGE}/api/v1/users/grace`, { method: 'DELETE', headers: operatorHeaders() });
    expect(await userStub('grace').listBindings()).toEqual([]);
    expect(await runInDurableObject(userStub('grace'), (_instance: SipUser, state) => state.storage.getAlarm())).toBeNull();
    device.socket.close();
  });

  it('answers an unknown API path with a 404 problem', async () => {
    const response = await exports.default.fetch(`${EDGE}/api/v1/nothing`, { headers: operatorHeaders() });
    expect(response.status).toBe(404);
    expect(response.headers.get('Content-Type')).toBe('application/problem+json');
  });
});
