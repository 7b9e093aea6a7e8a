/**
 * The SIP core against a real peer: sipp (Debian's sip-tester) runs its built-in UAC scenario
 * (INVITE, 180/200, ACK, pause, BYE, 200) over UDP against a user agent server built only from
 * `shared/` (parser, response builder, transaction table). Every call must complete.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerAvailable } from '../support/peers.ts';
import { startUdpUas, type RunningUas } from '../support/udp-uas.ts';

interface SippRun {
  readonly code: number | null;
  readonly output: string;
  readonly directory: string;
}

function runSipp(args: string[], timeoutMs: number): Promise<SippRun> {
  const directory = mkdtempSync(join(tmpdir(), 'sipedge-sipp-'));
  return new Promise((resolve, reject) => {
    const child = spawn('sipp', [...args, '-trace_stat', '-trace_err', '-nostdin', '-timeout', `${Math.ceil(timeoutMs / 1000)}s`], {
      cwd: directory,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 5_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, output, directory });
    });
  });
}

/** The last line of sipp's statistics file, as a map from column name to value. */
function finalStatistics(directory: string): Record<string, string> {
  const file = readdirSync(directory).find((name) => name.endsWith('_.csv'));
  if (file === undefined) return {};
  const lines = readFileSync(join(directory, file), 'utf8').trim().split('\n');
  const columns = (lines[0] ?? '').split(';');
  const values = (lines.at(-1) ?? '').split(';');
  return Object.fromEntries(columns.map((column, index) => [column, values[index] ?? '']));
}

describe.runIf(peerAvailable('sipp'))('the SIP core with sipp as the caller', () => {
  let uas: RunningUas;

  beforeAll(async () => {
    uas = await startUdpUas();
  });
  afterAll(async () => {
    await uas.stop();
  });

  it('completes twenty calls from sipp over UDP: INVITE, 180, 200, ACK, BYE, 200', async () => {
    const run = await runSipp(
      ['-sn', 'uac', '-i', '127.0.0.1', '-p', '0', '-m', '20', '-r', '50', '-l', '10', '-d', '10', `127.0.0.1:${uas.port}`],
      30_000,
    );
    const stats = finalStatistics(run.directory);
    expect(run.code, run.output).toBe(0);
    expect(stats['SuccessfulCall(C)']).toBe('20');
    expect(stats['FailedCall(C)']).toBe('0');
    expect(uas.stats).toMatchObject({ invites: 20, acks: 20, byes: 20, parseErrors: 0 });
  });
});
