/**
 * sipp as a SIP trunk a PbxLink calls over TCP (`-t t1`: one connection, the link's): either it
 * refuses the INVITE with a status (503: the plan must fail over), or it rings, answers with a
 * plain RTP/AVP PCMU offer's answer, takes the ACK, and answers the BYE; or it plays a demanding
 * PBX (`startDemandingTrunk`), rings until cancelled (`startRingingTrunk`), or takes the link's
 * REGISTER and then calls over its connection (`startCallingTrunk`). sipp's message trace tells
 * the test what the trunk received; `finished` fails unless sipp exits 0 (its scenario passed).
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
  /** sipp's whole message trace so far. */
  trace(): string;
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

/**
 * A demanding PBX: its first INVITE gets 422 with `Min-SE: 1800`; the next rings with a reliable 183
 * (`Require: 100rel`, RSeq 1, PCMU and telephone-event), waits for the PRACK, answers, puts the call
 * on hold with a re-INVITE (`c=0.0.0.0` and `a=sendonly`), and then expects nothing but the BYE (a
 * DTMF INFO reaching it fails the scenario).
 */
function demandingScenario(): string {
  const contact = 'Contact: <sip:trunk@[local_ip]:[local_port];transport=tcp>';
  const sdp = ['v=0', 'o=trunk 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio [auto_media_port] RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=sendrecv']
    .map((line) => `      ${line}`)
    .join('\n');
  // The INVITE's own Via and CSeq, for its 200 after the PRACK's exchange.
  const keep = [
    '<action>',
    '<ereg regexp=".*" search_in="hdr" header="Via:" assign_to="via"/>',
    '<ereg regexp=".*" search_in="hdr" header="CSeq:" assign_to="cseq"/>',
    '<ereg regexp=".*" search_in="hdr" header="From:" assign_to="from"/>',
    '<ereg regexp=".*" search_in="hdr" header="To:" assign_to="to"/>',
    '<ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" assign_to="contact"/>',
    '</action>',
  ].join('');
  // Hold the RFC 2543 way and the RFC 3264 way at once: c=0.0.0.0 and a=sendonly.
  const hold = sdp.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0').replace('o=trunk 1 1', 'o=trunk 1 2').replace('a=sendrecv', 'a=sendonly');
  const reinvite = `  <send retrans="500"><![CDATA[

      INVITE [$contact] SIP/2.0
      Via: SIP/2.0/TCP [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From:[$to];tag=[pid]sipp[call_number]
      To:[$from]
      [last_Call-ID:]
      CSeq: 1 INVITE
      ${contact}
      Content-Type: application/sdp
      Content-Length: [len]

${hold}
    ]]></send>`;
  const ack = `  <send><![CDATA[

      ACK [$contact] SIP/2.0
      Via: SIP/2.0/TCP [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From:[$to];tag=[pid]sipp[call_number]
      To:[$from]
      [last_Call-ID:]
      CSeq: 1 ACK
      Content-Length: 0

    ]]></send>`;
  const inviteOk = `  <send><![CDATA[

      SIP/2.0 200 OK
      Via:[$via]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      CSeq:[$cseq]
      ${contact}
      Session-Expires: 1800;refresher=uas
      Content-Type: application/sdp
      Content-Length: [len]

${sdp}
    ]]></send>`;
  const steps = [
    '  <recv request="INVITE"/>',
    send('422 Session Interval Too Small', ['Min-SE: 1800']),
    '  <recv request="ACK"/>',
    `  <recv request="INVITE">${keep}</recv>`,
    send('183 Session Progress', [contact, 'Require: 100rel', 'RSeq: 1', 'Content-Type: application/sdp'], sdp),
    '  <recv request="PRACK"/>',
    send('200 OK', []),
    inviteOk,
    '  <recv request="ACK"/>',
    reinvite,
    '  <recv response="100" optional="true"/>',
    '  <recv response="200"/>',
    ack,
    '  <recv request="BYE"/>',
    send('200 OK', []),
  ];
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="demanding-trunk">
${steps.join('\n')}
</scenario>
`;
}

/**
 * A trunk that rings and never answers: the caller's CANCEL gets 200, the INVITE 487, and the
 * scenario ends with the 487's ACK.
 */
function ringingScenario(): string {
  const contact = 'Contact: <sip:trunk@[local_ip]:[local_port];transport=tcp>';
  const keep = [
    '<action>',
    '<ereg regexp=".*" search_in="hdr" header="Via:" assign_to="via"/>',
    '<ereg regexp=".*" search_in="hdr" header="CSeq:" assign_to="cseq"/>',
    '<ereg regexp=".*" search_in="hdr" header="From:" assign_to="from"/>',
    '<ereg regexp=".*" search_in="hdr" header="To:" assign_to="to"/>',
    '</action>',
  ].join('');
  const terminated = `  <send><![CDATA[

      SIP/2.0 487 Request Terminated
      Via:[$via]
      From:[$from]
      To:[$to];tag=[pid]sipp[call_number]
      [last_Call-ID:]
      CSeq:[$cseq]
      Content-Length: 0

    ]]></send>`;
  const steps = [`  <recv request="INVITE">${keep}</recv>`, send('180 Ringing', [contact]), '  <recv request="CANCEL"/>', send('200 OK', []), terminated, '  <recv request="ACK"/>'];
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="ringing-trunk">
${steps.join('\n')}
</scenario>
`;
}

/** What a calling trunk does with its call once the link has registered to it. */
export type TrunkCall =
  /** INVITE without SDP: takes the offer in the 200, answers in the ACK, waits for an INFO, hangs up. */
  | 'delayed-offer'
  /** INVITE without SDP, CANCEL once it rings: expects 200 to the CANCEL, then 487. */
  | 'cancel'
  /** INVITE naming another line: expects 404. */
  | 'wrong-line';

/**
 * A trunk that calls: it takes the link's REGISTER (200, the Contact echoed), then sends its
 * INVITE on the same connection to the registered contact's host, with the REGISTER's `line`
 * parameter (or another one for `wrong-line`). The INVITE reuses the REGISTER's Call-ID: sipp matches
 * messages to its one call by Call-ID, and the link keeps registrations and calls apart.
 */
function callingScenario(call: TrunkCall): string {
  const contact = 'Contact: <sip:trunk@[local_ip]:[local_port];transport=tcp>';
  const register = [
    '  <recv request="REGISTER"><action>',
    '<ereg regexp="@[^;>]*" search_in="hdr" header="Contact:" assign_to="host"/>',
    // sipp refuses a variable set and never read, so `wrong-line` does not keep the line.
    call === 'wrong-line' ? '' : '<ereg regexp="line=[0-9a-zA-Z]+" search_in="hdr" header="Contact:" assign_to="line"/>',
    '</action></recv>',
  ].join('');
  const line = call === 'wrong-line' ? 'line=00000000' : '[$line]';
  // A DID, not the contact's user part: the line alone names the link (and so its endpoint); the
  // wrong line goes to the contact's own user part, which without a line would reach the endpoint.
  const uri = `sip:${call === 'wrong-line' ? 's' : '4930123'}[$host];transport=tcp;${line}`;
  const from = 'From: <sip:4930999@[local_ip]:[local_port]>;tag=[pid]caller[call_number]';
  const head = (method: string, cseq: number, to: string, branch: string): string[] => [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/TCP [local_ip]:[local_port];branch=${branch}`,
    'Max-Forwards: 70',
    from,
    to,
    'Call-ID: [call_id]',
    `CSeq: ${cseq} ${method}`,
  ];
  const request = (lines: readonly string[], body = '', retrans = false): string => `  <send${retrans ? ' retrans="500"' : ''}><![CDATA[

${lines.map((each) => `      ${each}`).join('\n')}
      Content-Length: [len]

${body}
    ]]></send>`;
  const plainTo = `To: <${uri}>`;
  const inviteBranch = 'z9hG4bK-[pid]-invite-[call_number]';
  const invite = request([...head('INVITE', 1, plainTo, inviteBranch), contact]);
  const answer = ['v=0', 'o=trunk 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio [auto_media_port] RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv']
    .map((each) => `      ${each}`)
    .join('\n');
  const keepTo = '<action><ereg regexp=".*" search_in="hdr" header="To:" assign_to="to"/></action>';
  let steps: string[];
  if (call === 'delayed-offer') {
    steps = [
      invite,
      '  <recv response="100" optional="true"/>',
      '  <recv response="180"/>',
      `  <recv response="200">${keepTo}</recv>`,
      request([...head('ACK', 1, 'To:[$to]', 'z9hG4bK-[pid]-ack-[call_number]'), 'Content-Type: application/sdp'], answer),
      '  <recv request="INFO"/>',
      send('200 OK', []),
      request([...head('BYE', 2, 'To:[$to]', 'z9hG4bK-[pid]-bye-[call_number]')], '', true),
      '  <recv response="200"/>',
    ];
  } else if (call === 'cancel') {
    steps = [
      invite,
      '  <recv response="100" optional="true"/>',
      '  <recv response="180"/>',
      request(head('CANCEL', 1, plainTo, inviteBranch)),
      '  <recv response="200"/>',
      `  <recv response="487">${keepTo}</recv>`,
      request(head('ACK', 1, 'To:[$to]', inviteBranch)),
    ];
  } else {
    steps = [invite, '  <recv response="100" optional="true"/>', `  <recv response="404">${keepTo}</recv>`, request(head('ACK', 1, 'To:[$to]', inviteBranch))];
  }
  const registered = send('200 OK', ['[last_Contact:];expires=3600']);
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="calling-trunk">
${[register, registered, ...steps].join('\n')}
</scenario>
`;
}

/** `ringingScenario`'s trunk: 180, then 200 and 487 to the caller's CANCEL. */
export function startRingingTrunk(): Promise<RunningSippTrunk> {
  return runTrunk(ringingScenario());
}

/** `callingScenario`'s trunk: a registrar for the link, then a caller over its connection. */
export function startCallingTrunk(call: TrunkCall): Promise<RunningSippTrunk> {
  return runTrunk(callingScenario(call));
}

/** A trunk that answers, or (with `refuse`, e.g. '503 Service Unavailable') one that refuses. */
export function startSippTrunk(refuse?: string): Promise<RunningSippTrunk> {
  return runTrunk(scenario(refuse));
}

/** `demandingScenario`'s PBX: 422 with Min-SE, a reliable 183, telephone-event. */
export function startDemandingTrunk(): Promise<RunningSippTrunk> {
  return runTrunk(demandingScenario());
}

/** sipp running scenario `xml` as a TCP trunk (`-t t1`) on a free 127.0.0.1 port (other scenarios: `sipp-mwi.ts`). */
export async function runTrunk(xml: string): Promise<RunningSippTrunk> {
  const directory = mkdtempSync(join(tmpdir(), 'sipedge-sipp-trunk-'));
  writeFileSync(join(directory, 'trunk.xml'), xml);
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
    trace: () => messages(),
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
