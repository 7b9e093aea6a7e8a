/**
 * sipp as a SIP trunk a PbxLink calls over TCP (`-t t1`: one connection, the link's): either it
 * refuses the INVITE with a status (503: the plan must fail over), or it rings, answers with a
 * plain RTP/AVP PCMU offer's answer, takes the ACK, and answers the BYE. sipp's message trace
 * tells the test what the trunk received.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort, isListening } from './net.ts';

export interface RunningSippTrunk {
  readonly port: number;
  /** The request lines sipp received, in order. */
  received(): string[];
  /** Resolves once sipp ran its scenario to the end (or rejects with its output after `timeoutMs`). */
  finished(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

const RESPONSE_HEAD = ['[last_Via:]', '[last_From:]', '[last_To:];tag=[pid]sipp[call_number]', '[last_Call-ID:]', '[last_CSeq:]'];

function send(status: string, lines: readonly string[], body = ''): string {
  return `  <send><![CDATA[

      SIP/2.0 ${status}
${[...RESPONSE_HEAD, ...lines].map((line) => `      ${line}`).join('\n')}
      Content-Length: [len]

${body}
    ]]></send>`;
}

function scenario(refuse: string | undefined): string {
  const contact = 'Contact: <sip:trunk@[local_ip]:[local_port];transport=tcp>';
  const answer = ['v=0', 'o=trunk 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio [auto_media_port] RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv']
    .map((line) => `      ${line}`)
    .join('\n');
  const steps = refuse === undefined
    ? [
        '  <recv request="INVITE"/>',
        send('180 Ringing', [contact]),
        send('200 OK', [contact, 'Content-Type: application/sdp'], answer),
        '  <recv request="ACK"/>',
        '  <recv request="BYE"/>',
        send('200 OK', []),
      ]
    : ['  <recv request="INVITE"/>', send(refuse, []), '  <recv request="ACK"/>'];
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="trunk">
${steps.join('\n')}
</scenario>
`;
}

/** A trunk that answers, or (with `refuse`, e.g. '503 Service Unavailable') one that refuses. */
export async function startSippTrunk(refuse?: string): Promise<RunningSippTrunk> {
  const directory = mkdtempSync(join(tmpdir(), 'sipedge-sipp-trunk-'));
  writeFileSync(join(directory, 'trunk.xml'), scenario(refuse));
  const port = await freePort();
  const mediaPort = await freePort();
  let output = '';
  const child: ChildProcess = spawn(
    'sipp',
    ['-sf', 'trunk.xml', '-t', 't1', '-i', '127.0.0.1', '-p', String(port), '-mp', String(mediaPort), '-m', '1', '-nostdin', '-trace_msg', '-trace_err', '-timeout', '120s'],
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
    received: () => messages().split('\n').filter((line) => /^[A-Z]+ sip:\S+ SIP\/2\.0$/.test(line.trim())).map((line) => line.trim()),
    async finished(timeoutMs) {
      const timer = new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`sipp did not finish its scenario within ${timeoutMs} ms\n${output}\n${messages().slice(-3000)}`)), timeoutMs));
      await Promise.race([exited, timer]);
      if (child.exitCode !== 0) throw new Error(`sipp exited with ${String(child.exitCode)}\n${output}\n${messages().slice(-3000)}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
