import { env, exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { userHA1 } from '../../shared/auth/index.ts';
import { MAX_IMPORT_BYTES, MAX_IMPORT_ROWS } from '../../workers/api/users-import.ts';
import type { SipUser } from '../../workers/user/sip-user.ts';
import { EDGE } from './support/sip-socket.ts';
import { DOMAIN, putUser, userStub } from './support/users.ts';

interface ImportProblem {
  title: string;
  status: number;
  detail: string;
  errors?: { line: number; field: string; detail: string }[];
}

function importCsv(body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(`${EDGE}/api/v1/users/import`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${env.SIPEDGE_OPERATOR_TOKEN}`, 'Content-Type': 'text/csv; charset=utf-8', ...headers },
    body,
  });
}

async function getUser(username: string): Promise<unknown> {
  const response = await exports.default.fetch(`${EDGE}/api/v1/users/${encodeURIComponent(username)}`, { headers: { Authorization: `Bearer ${env.SIPEDGE_OPERATOR_TOKEN}` } });
  return response.status === 404 ? undefined : response.json();
}

/** Every row of every table of the user's object, as text: where a password must not be. */
function storedText(username: string): Promise<string> {
  return runInDurableObject(userStub(username), (_instance: SipUser, state) => {
    const tables = state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf%' AND name NOT LIKE 'sqlite%'").toArray();
    return tables.map((table) => JSON.stringify(state.storage.sql.exec(`SELECT * FROM "${String(table.name)}"`).toArray())).join('\n');
  });
}

describe('POST /api/v1/users/import', () => {
  it('creates every user of a good file, with a header line, CRLF and a UTF-8 display name', async () => {
    const response = await importCsv('username,password,display name\r\nimp-ann,ann password 1,Ann Ångström\r\nimp-ben,ben password 1\r\n+4930123,e164 password,\r\n');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ created: 3, replaced: 0, total: 3 });
    expect(await getUser('imp-ann')).toEqual({ username: 'imp-ann', aor: `imp-ann@${DOMAIN}`, displayName: 'Ann Ångström' });
    expect(await getUser('imp-ben')).toEqual({ username: 'imp-ben', aor: `imp-ben@${DOMAIN}` });
    expect(await getUser('+4930123')).toEqual({ username: '+4930123', aor: `+4930123@${DOMAIN}` });
  });

  it('stores HA1s for MD5 and SHA-256, never the password', async () => {
    expect((await importCsv('imp-hash,hash password 1\n')).status).toBe(200);
    const stored = await storedText('imp-hash');
    expect(stored).not.toContain('hash password 1');
    expect(stored).toContain(userHA1('MD5', 'imp-hash', DOMAIN, 'hash password 1'));
    expect(stored).toContain(userHA1('SHA-256', 'imp-hash', DOMAIN, 'hash password 1'));
  });

  it('replaces users that exist and counts them apart', async () => {
    expect((await putUser('imp-old', 'old password 1', 'Old Name')).status).toBe(201);
    const response = await importCsv('imp-old,new password 1,New Name\nimp-new,new password 2\n');
    expect(await response.json()).toEqual({ created: 1, replaced: 1, total: 2 });
    expect(await getUser('imp-old')).toEqual({ username: 'imp-old', aor: `imp-old@${DOMAIN}`, displayName: 'New Name' });
  });

  it('reads quoted fields: commas, doubled quotes, and a password with a line break in it', async () => {
    const response = await importCsv('"imp-q1","pass, with ""comma""","Smith, John ""JJ"""\nimp-q2,"two\nline password"\nimp-q3,plain password\n');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ created: 3, replaced: 0, total: 3 });
    expect(await getUser('imp-q1')).toEqual({ username: 'imp-q1', aor: `imp-q1@${DOMAIN}`, displayName: 'Smith, John "JJ"' });
    expect(await getUser('imp-q2')).toEqual({ username: 'imp-q2', aor: `imp-q2@${DOMAIN}` });
    expect(await storedText('imp-q1')).toContain(userHA1('MD5', 'imp-q1', DOMAIN, 'pass, with "comma"'));
    expect(await storedText('imp-q2')).toContain(userHA1('SHA-256', 'imp-q2', DOMAIN, 'two\nline password'));
  });

  it('names every bad row (line, field, reason) with the PUT rules, and creates nothing', async () => {
    const csv = [
      'username,password,display name', // 1
      'imp-good,good password 1,Good', // 2
      '-imp-bad,good password 2', // 3: username
      'imp-short,short', // 4: password
      'imp-ctl,good password 3,"Bell\x07"', // 5: display name
      'imp-few', // 6: one field
      'imp-many,good password 4,Smith, John', // 7: four fields
      'imp-good,good password 5', // 8: duplicate
      'imp-"x,good password 6', // 9: CSV syntax
      'imp-fine,good password 7', // 10
    ].join('\n');
    const response = await importCsv(csv);
    expect(response.status).toBe(400);
    expect(response.headers.get('Content-Type')).toBe('application/problem+json');
    const problem = (await response.json()) as ImportProblem;
    expect(problem.title).toBe('Invalid CSV');
    expect(problem.detail).toMatch(/^7 rows are invalid; nothing was imported\. line 3 username: must be 1-64/);
    expect(problem.errors).toEqual([
      { line: 3, field: 'username', detail: 'must be 1-64 letters, digits, ".", "_", "-" or "+", not starting with ".", "_" or "-"' },
      { line: 4, field: 'password', detail: 'must be at least 8 characters' },
      { line: 5, field: 'display name', detail: 'must not contain control characters' },
      { line: 6, field: 'row', detail: 'has 1 field; expected username,password[,display name]' },
      { line: 7, field: 'row', detail: 'has 4 fields; expected username,password[,display name] (quote a display name that holds a comma)' },
      { line: 8, field: 'username', detail: '"imp-good" is already on line 2' },
      { line: 9, field: 'row', detail: expect.stringContaining('holds a quote but is not quoted') },
    ]);
    expect(await getUser('imp-good')).toBeUndefined();
    expect(await getUser('imp-fine')).toBeUndefined();
  });

  it('names a quote that never closes and lines after quoted line breaks', async () => {
    const problem = (await (await importCsv('imp-l1,"pass\nword 1"\nimp-l2,x\nimp-l3,"open\n')).json()) as ImportProblem;
    expect(problem.errors).toEqual([
      { line: 3, field: 'password', detail: 'must be at least 8 characters' },
      { line: 4, field: 'row', detail: 'field 2 opens a quote that is never closed' },
    ]);
  });

  it('refuses an empty file, a bad header, another media type, and text that is not UTF-8', async () => {
    expect(((await (await importCsv('username,password\n')).json()) as ImportProblem).errors).toEqual([
      { line: 1, field: 'row', detail: 'the file holds no users; each line is username,password[,display name]' },
    ]);
    expect(((await (await importCsv('Username,Password,Email\nimp-h,good password\n')).json()) as ImportProblem).errors?.[0]).toMatchObject({ line: 1, field: 'row' });
    const json = await importCsv('{"users":[]}', { 'Content-Type': 'application/json' });
    expect(json.status).toBe(415);
    expect((await importCsv('a,b', { 'Content-Type': 'text/csv; charset=iso-8859-1' })).status).toBe(415);
    const latin1 = await importCsv(new Uint8Array([0x61, 0x2c, 0xe9, 0x0a]));
    expect(latin1.status).toBe(400);
    expect(((await latin1.json()) as ImportProblem).detail).toContain('UTF-8');
  });

  it(`answers 413 above ${MAX_IMPORT_BYTES} bytes or ${MAX_IMPORT_ROWS} rows, creating nothing`, async () => {
    const big = await importCsv(`imp-big,${'p'.repeat(MAX_IMPORT_BYTES)}\n`);
    expect(big.status).toBe(413);
    const rows = Array.from({ length: MAX_IMPORT_ROWS + 1 }, (_, index) => `imp-r${index},row password`).join('\n');
    const many = await importCsv(rows);
    expect(many.status).toBe(413);
    expect(((await many.json()) as ImportProblem).detail).toContain(String(MAX_IMPORT_ROWS));
    expect(await getUser('imp-r0')).toBeUndefined();
  });

  it('creates a few hundred users, a handful of RPCs at a time', async () => {
    const rows = Array.from({ length: 300 }, (_, index) => `imp-bulk${index},bulk password ${index},Bulk ${index}`).join('\r\n');
    const response = await importCsv(`username,password,display name\r\n${rows}\r\n`);
    expect(await response.json()).toEqual({ created: 300, replaced: 0, total: 300 });
    expect(await getUser('imp-bulk299')).toEqual({ username: 'imp-bulk299', aor: `imp-bulk299@${DOMAIN}`, displayName: 'Bulk 299' });
  });

  it('needs the operator token', async () => {
    const none = await exports.default.fetch(`${EDGE}/api/v1/users/import`, { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: 'imp-x,good password\n' });
    expect(none.status).toBe(401);
    expect(none.headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
    const wrong = await importCsv('imp-x,good password\n', { Authorization: 'Bearer not-the-token' });
    expect(wrong.status).toBe(401);
    expect(await getUser('imp-x')).toBeUndefined();
  });
});
