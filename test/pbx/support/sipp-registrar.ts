/**
 * sipp (Debian's sip-tester) as a registrar that answers what is hard to get from a real one: a
 * scenario lists the answer to each REGISTER in turn, over TCP on one socket (`-t t1`), and then
 * holds the connection open. sipp records every message it receives (`-trace_msg`), so a test can
 * count the REGISTERs the link sent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort, isListening } from './net.ts';

/** One answer: a status line and extra header lines. */
export interface Answer {
  readonly status: string;
  readonly headers?: readonly string[];
}

export interface RunningSippRegistrar {
  readonly port: number;
  /** How many REGISTERs sipp received so far. */
  registers(): number;
  stop(): Promise<void>;
}

function scenario(answers: readonly Answer[]): string {
  const steps = answers.map(
    (answer) => `  <recv request="REGISTER"/>
  <send><![CDATA[

      SIP/2.0 ${answer.status}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]sipp[call_number]
      [last_Call-ID:]
${['[last_CSeq:]', ...(answer.headers ?? []), 'Content-Length: 0'].map((line) => `      ${line}`).join('\n')}

    ]]></send>`,
  );
  // The pause keeps the connection (and so the link's flow) up while the test looks.
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="registrar">
${steps.join('\n')}
  <pause milliseconds="120000"/>
</scenario>
`;
}

export async function startSippRegistrar(answers: readonly Answer[]): Promise<RunningSippRegistrar> {
  const directory = mkdtempSync(join(tmpdir(), 'sipedge-sipp-registrar-'));
  writeFileSync(join(directory, 'registrar.xml'), scenario(answers));
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(
    'sipp',
    ['-sf', 'registrar.xml', '-t', 't1', '-i', '127.0.0.1', '-p', String(port), '-m', '1', '-nostdin', '-trace_msg', '-trace_err', '-timeout', '150s'],
    { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await eventually(`sipp listening on ${port}`, 10_000, async () => (isListening(port) ? true : undefined));
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}\n${output}`);
  }
  const messages = (): string => {
    const file = readdirSync(directory).find((name) => name.endsWith('_messages.log'));
    return file === undefined ? '' : readFileSync(join(directory, file), 'utf8');
  };
  return {
    port,
    registers: () => messages().split('\n').filter((line) => line.startsWith('REGISTER ')).length,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
