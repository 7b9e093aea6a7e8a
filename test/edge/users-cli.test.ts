/**
 * `npm run users -- import FILE.csv` against a running edge, as an operator runs it after
 * `npm start`: the CLI (a child process) reads a local.json, posts the CSV, prints the outcome; an
 * imported user then registers with real SIP.js.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startEdge, type RunningEdge } from '../../workers/local/edge-runner.ts';
import { JsSipPhone, SipJsPhone } from './support/phones.ts';
import { within } from './support/test-edge.ts';

let edge: RunningEdge;
let dir: string;
let domain: string;
let webSocketUrl: string;
const vars = {
  SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'),
  SIPEDGE_OPERATOR_TOKEN: randomBytes(18).toString('base64url'),
  SIPEDGE_MEDIA_SECRET: randomBytes(32).toString('base64url'),
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sipedge-users-cli-'));
  edge = await startEdge({ port: 0, persistTo: join(dir, 'state'), vars });
  domain = ((await (await fetch(new URL('/health', edge.url))).json()) as { domain: string }).domain;
  webSocketUrl = `ws://127.0.0.1:${edge.url.port}/sip`;
  // What `npm start` writes.
  const config = { nonceSecret: vars.SIPEDGE_NONCE_SECRET, operatorToken: vars.SIPEDGE_OPERATOR_TOKEN, mediaSecret: vars.SIPEDGE_MEDIA_SECRET, users: [], domain, edgeUrl: edge.url.href, webSocketUrl };
  writeFileSync(join(dir, 'local.json'), JSON.stringify(config), { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  await edge?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function usersCli(args: readonly string[], config = join(dir, 'local.json')): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [`${ROOT}workers/local/users-cli.ts`, ...args], { env: { ...process.env, SIPEDGE_LOCAL_CONFIG: config }, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

function csvFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('npm run users -- import', () => {
  it('imports a CSV file, then an imported user registers with SIP.js and JsSIP', async () => {
    const file = csvFile('team.csv', 'username,password,display name\r\ncli-carol,"carol, the password",Carol Ölund\r\ncli-dan,dan password 1\r\n');
    const run = await usersCli(['import', file]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${file}: imported 2 users (2 created, 0 replaced)\n`);

    const shown = await fetch(new URL('/api/v1/users/cli-carol', edge.url), { headers: { Authorization: `Bearer ${vars.SIPEDGE_OPERATOR_TOKEN}` } });
    expect(await shown.json()).toEqual({ username: 'cli-carol', aor: `cli-carol@${domain}`, displayName: 'Carol Ölund' });

    const carol = new SipJsPhone({ webSocketUrl, domain, username: 'cli-carol', password: 'carol, the password' });
    await within(10_000, 'SIP.js connect', carol.start());
    carol.register();
    expect((await carol.nextOutcome()).status).toBe(200);
    await carol.stop();

    const dan = new JsSipPhone({ webSocketUrl, domain, username: 'cli-dan', password: 'dan password 1' });
    dan.start();
    expect((await dan.nextOutcome()).status).toBe(200);
    dan.stop();

    const again = await usersCli(['import', file]);
    expect(again.stdout).toBe(`${file}: imported 2 users (0 created, 2 replaced)\n`);
  });

  it('prints each bad row and exits with 1, importing nothing', async () => {
    const file = csvFile('bad.csv', 'cli-erin,erin password 1\ncli-fay,short\n_cli,good password 1\ncli-erin,erin password 2\n');
    const run = await usersCli(['import', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      [
        `${file}: nothing imported; fix these rows and run again:`,
        '  line 2: password: must be at least 8 characters',
        '  line 3: username: must be 1-64 letters, digits, ".", "_", "-" or "+", not starting with ".", "_" or "-"',
        '  line 4: username: "cli-erin" is already on line 1',
        '',
      ].join('\n'),
    );
    const erin = await fetch(new URL('/api/v1/users/cli-erin', edge.url), { headers: { Authorization: `Bearer ${vars.SIPEDGE_OPERATOR_TOKEN}` } });
    expect(erin.status).toBe(404);
  });

  it('says what is missing: usage, the file, the local configuration, a stopped edge, a wrong token', async () => {
    expect((await usersCli([])).code).toBe(2);
    expect((await usersCli(['import'])).stderr).toContain('usage: npm run users -- import FILE.csv');
    const missingFile = await usersCli(['import', join(dir, 'nope.csv')]);
    expect(missingFile).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot read') });
    const file = csvFile('one.csv', 'cli-gus,gus password 1\n');
    expect(await usersCli(['import', file], join(dir, 'missing.json'))).toMatchObject({ code: 1, stderr: expect.stringContaining('start the edge first with npm start') });

    const stopped = join(dir, 'stopped.json');
    writeFileSync(stopped, JSON.stringify({ operatorToken: 'x', edgeUrl: 'http://127.0.0.1:9/' }));
    expect(await usersCli(['import', file], stopped)).toMatchObject({ code: 1, stderr: expect.stringContaining('is npm start running?') });

    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ operatorToken: 'not-the-token', edgeUrl: edge.url.href }));
    expect(await usersCli(['import', file], wrong)).toMatchObject({ code: 1, stderr: expect.stringContaining('401 Unauthorized: the operator token is not valid') });
  });
});
