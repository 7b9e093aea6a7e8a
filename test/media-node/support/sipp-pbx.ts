/**
 * sipp (Debian's sip-tester) over UDP on 127.0.0.1 playing a PBX for the SIP gateway: it answers a
 * REGISTER with 200, and an INVITE with 100, 180 and 200 (with SDP), then takes the ACK and answers
 * the BYE. Each Call-ID is a sipp "call", so one REGISTER and one INVITE dialog are two calls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="pbx">
  <recv request="REGISTER" optional="true" next="register"/>
  <recv request="INVITE"/>
  <send><![CDATA[

      SIP/2.0 100 Trying
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <send><![CDATA[

      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]pbx[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:pbx@[local_ip]:[local_port]>
      Content-Length: 0

    ]]></send>
  <send retrans="500"><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]pbx[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:pbx@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=- 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [local_ip]
      t=0 0
      m=audio 40000 RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]></send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send next="done"><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <label id="register"/>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]reg[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Contact:];expires=300
      Content-Length: 0

    ]]></send>
  <label id="done"/>
</scenario>
`;

export interface SippPbx {
  readonly port: number;
  /** Resolves with sipp's exit code and what it printed once it has handled `calls` calls. */
  readonly finished: Promise<{ readonly code: number | null; readonly output: string }>;
  stop(): Promise<void>;
}

/** A UDP port free a moment ago (sipp binds it itself). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export async function startSippPbx(calls: number): Promise<SippPbx> {
  const directory = mkdtempSync(join(tmpdir(), 'sipedge-sipp-pbx-'));
  writeFileSync(join(directory, 'pbx.xml'), SCENARIO);
  const port = await freeUdpPort();
  let output = '';
  const child: ChildProcess = spawn('sipp', ['-sf', 'pbx.xml', '-t', 'u1', '-i', '127.0.0.1', '-p', String(port), '-m', String(calls), '-nostdin', '-timeout', '60s', '-trace_err'], {
    cwd: directory,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const finished = new Promise<{ code: number | null; output: string }>((resolve) => child.once('exit', (code) => resolve({ code, output })));
  return {
    port,
    finished,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await finished;
        clearTimeout(timer);
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
