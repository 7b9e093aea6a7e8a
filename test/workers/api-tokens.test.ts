/**
 * API tokens: created through the API (shown once), kept as SHA-256 digests, listed without their
 * secrets, revoked at once, expiring; user tokens that open only /api/v1/me; and a token of
 * another domain that sees nothing of this one.
 */
import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { directoryOf, type Directory } from '../../workers/directory/directory.ts';
import { EDGE } from './support/sip-socket.ts';
import { DOMAIN, operatorHeaders, putUser } from './support/users.ts';

interface CreatedToken {
  id: string;
  kind: string;
  name: string;
  domain: string;
  username?: string;
  token: string;
  expiresAt?: string;
}

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
}

async function call(path: string, headers: Record<string, string>, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1${path}`, { method: init.method ?? 'GET', headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) });
}

async function createToken(body: unknown, headers = operatorHeaders()): Promise<CreatedToken> {
  const response = await call('/tokens', headers, { method: 'POST', body });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as CreatedToken;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

describe('operator tokens', () => {
  it('creates a token that works at once, shows its secret only in the creation answer, and keeps only its digest', async () => {
    const created = await createToken({ name: 'provisioning script' });
    expect(created).toMatchObject({ kind: 'operator', name: 'provisioning script', domain: DOMAIN });
    expect((await call('/users', bearer(created.token))).status).toBe(200);

    const listing = await (await call('/tokens', operatorHeaders())).text();
    expect(listing).toContain(created.id);
    expect(listing).not.toContain(created.token.split('.')[3]);
    expect(JSON.parse(listing).tokens[0]).toEqual({ id: 'operator-secret', kind: 'operator', name: 'SIPEDGE_OPERATOR_TOKEN', domain: DOMAIN });

    const secret = created.token.split('.')[3]!;
    const row = await runInDurableObject(directoryOf(env, DOMAIN), (_instance: Directory, state) => state.storage.sql.exec('SELECT * FROM api_token WHERE id = ?', created.id).one());
    expect(row.secret_sha256).toBe(await sha256Hex(secret));
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it('refuses a revoked token, and keeps the secret token working', async () => {
    const created = await createToken({ name: 'to revoke' });
    const revoked = await call(`/tokens/${created.id}`, bearer(created.token), { method: 'DELETE' });
    expect(revoked.status).toBe(204);
    const refused = await call('/users', bearer(created.token));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('WWW-Authenticate')).toContain('invalid_token');
    expect((await call(`/tokens/${created.id}`, operatorHeaders(), { method: 'DELETE' })).status).toBe(404);
    const secret = await call('/tokens/operator-secret', operatorHeaders(), { method: 'DELETE' });
    expect(secret.status).toBe(409);
    expect((await call('/users', operatorHeaders())).status).toBe(200);
  });

  it('refuses a token past its expiry, and an expiry in the past', async () => {
    const past = await call('/tokens', operatorHeaders(), { method: 'POST', body: { name: 'late', expiresAt: '2020-01-01T00:00:00Z' } });
    expect(past.status).toBe(400);
    expect(((await past.json()) as { errors: unknown }).errors).toEqual([{ pointer: '#/expiresAt', detail: 'must be in the future' }]);

    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const created = await createToken({ name: 'one hour', expiresAt });
    expect(created.expiresAt).toBe(expiresAt);
    expect((await call('/users', bearer(created.token))).status).toBe(200);
    await runInDurableObject(directoryOf(env, DOMAIN), (instance: Directory) => {
      instance.clock = { now: () => Date.now() + 2 * 3_600_000 };
    });
    expect((await call('/users', bearer(created.token))).status).toBe(401);
    await runInDurableObject(directoryOf(env, DOMAIN), (instance: Directory) => {
      instance.clock = { now: () => Date.now() };
    });
  });

  it('refuses a mistyped token and invalid input with problems naming the field', async () => {
    const created = await createToken({ name: 'typo' });
    const mistyped = `${created.token.slice(0, -1)}${created.token.endsWith('A') ? 'B' : 'A'}`;
    expect((await call('/users', bearer(mistyped))).status).toBe(401);
    const invalid = await call('/tokens', operatorHeaders(), { method: 'POST', body: { name: '', scope: 'all' } });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { errors: { pointer: string }[] }).errors.map((error) => error.pointer).sort()).toEqual(['#/name', '#/scope']);
  });
});

describe('user tokens', () => {
  it('open the user own resources under /me and nothing else', async () => {
    await putUser('tina', 'tinas password', 'Tina');
    await putUser('uwe', 'uwes password');
    const created = await createToken({ name: 'tina laptop', username: 'tina' });
    expect(created).toMatchObject({ kind: 'user', username: 'tina' });

    const me = await call('/me', bearer(created.token));
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ username: 'tina', aor: `tina@${DOMAIN}`, displayName: 'Tina' });
    expect((await call('/me/trace', bearer(created.token))).status).toBe(200);

    for (const path of ['/users', '/users/uwe', '/users/tina', '/tokens', '/pbx-links/main', '/media-nodes']) {
      const response = await call(path, bearer(created.token));
      expect(response.status, path).toBe(403);
      expect(response.headers.get('Content-Type')).toBe('application/problem+json');
    }
    // An operator token has no "me".
    expect((await call('/me', operatorHeaders())).status).toBe(403);
  });

  it('are refused for a user that does not exist, and revoked with their user', async () => {
    const missing = await call('/tokens', operatorHeaders(), { method: 'POST', body: { name: 'x', username: 'nobody-here' } });
    expect(missing.status).toBe(404);

    await putUser('vera', 'veras password');
    const created = await createToken({ name: 'vera phone', username: 'vera' });
    expect((await call('/me', bearer(created.token))).status).toBe(200);
    expect((await call('/users/vera', operatorHeaders(), { method: 'DELETE' })).status).toBe(204);
    expect((await call('/me', bearer(created.token))).status).toBe(401);
  });
});

describe('a token of another domain', () => {
  it('is created only with the secret token for a served domain, and sees nothing of this domain', async () => {
    await putUser('wanda', 'wandas password');
    // Not served yet: its token opens nothing, and creating the domain revokes it.
    const early = await createToken({ name: 'too early', domain: 'b.example.net' });
    expect(await (await call('/users', bearer(early.token))).text()).toMatch(/domain no longer served/);
    const domain = await call('/domains', operatorHeaders(), { method: 'POST', body: { name: 'b.example.net' } });
    expect(domain.status).toBe(201);
    const first = ((await domain.json()) as { operator_token: { id: string } }).operator_token;
    expect((await call('/users', bearer(early.token))).status).toBe(401);
    const other = await createToken({ name: 'tenant b', domain: 'b.example.net' });
    expect(other.domain).toBe('b.example.net');
    const headers = bearer(other.token);

    // Its own domain has no wanda: she is not found, and nothing of hers shows.
    for (const path of ['/users/wanda', '/users/wanda/trace?format=pcap', '/users/wanda/registrations/log', '/pbx-links/main', '/routes/main']) {
      const response = await call(path, headers);
      expect(response.status, path).toBe(404);
      expect(await response.text()).not.toContain('wanda@');
    }
    expect(await (await call('/users', headers)).json()).toEqual({ users: [] });
    expect((await call('/users/wanda', headers, { method: 'DELETE' })).status).toBe(404);
    expect((await call('/users/wanda/provisioning', headers, { method: 'POST', body: {} })).status).toBe(404);
    expect((await call('/users/wanda', operatorHeaders())).status).toBe(200);

    // Its own tokens only: none of this domain's, not even the secret's entry.
    const listing = (await (await call('/tokens', headers)).json()) as { tokens: { id: string; domain: string }[] };
    expect(listing.tokens.map((token) => token.id)).toEqual([first.id, other.id]);
    // It cannot revoke this domain's tokens, create tokens for it, or create a user token of it.
    const mine = await createToken({ name: 'domain a' });
    expect((await call(`/tokens/${mine.id}`, headers, { method: 'DELETE' })).status).toBe(404);
    expect((await call('/users', bearer(mine.token))).status).toBe(200);
    expect((await call('/tokens', headers, { method: 'POST', body: { name: 'x', domain: DOMAIN } })).status).toBe(403);
    expect((await call('/tokens', headers, { method: 'POST', body: { name: 'x', username: 'wanda' } })).status).toBe(404);
    // A token created by a domain's operator cannot name another domain either.
    expect((await call('/tokens', bearer(mine.token), { method: 'POST', body: { name: 'x', domain: 'b.example.net' } })).status).toBe(403);
  });
});
