/**
 * The pcap export of a user's SIP trace, and of one call in it, opened by tshark (Debian's
 * `tshark`, Wireshark's dissectors) as an operator would: real SIP.js phones register with digest
 * authentication and send a MESSAGE through the edge (workerd on 127.0.0.1), the capture is
 * downloaded from `/api/v1/users/{username}/trace?format=pcap`, and tshark must decode every packet
 * as SIP, in the trace's order, with its methods, status codes, Call-IDs, addresses and times, and
 * show no digest response and no password anywhere in its full dissection (`-V`).
 *
 * SIP over UDP port 5060 is dissected as SIP by tshark's defaults: no `-d`. The only options set
 * (`CHECKSUMS`) make tshark verify the IPv4 header and UDP checksums the writer computes, which it
 * does not by default; a wrong one would show as an expert warning. A second test writes records
 * no local run produces (an IPv6 device, an unknown address, a message cut at the UDP limit)
 * with the writer itself and opens them the same way.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Messager, Registerer, UserAgent } from 'sip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type RunningEdge } from '../../workers/local/edge-runner.ts';
import { tracePcap } from '../../workers/trace/trace-pcap.ts';
import type { TraceRecord as StoredRecord } from '../../workers/trace/trace-record.ts';
import { within } from '../edge/support/test-edge.ts';
import { PEERS, peerAvailable } from '../support/peers.ts';

const run = promisify(execFile);
const CHECKSUMS = ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];
const OPERATOR_TOKEN = randomBytes(18).toString('base64url');
const PASSWORD = 'tshark sees no password';
/** The edge's addresses in the capture, and the one of a device whose address is unknown (`workers/trace/trace-pcap.ts`). */
const EDGE_V4 = '192.0.2.1';
const EDGE_V6 = '2001:db8::1';
const UNKNOWN_DEVICE = '192.0.2.2';
/** The most SIP one synthesized UDP datagram over IPv4 carries. */
const MAX_UDP_PAYLOAD = 65_507;
const encoder = new TextEncoder();

type TraceRecord = Pick<StoredRecord, 'at' | 'direction' | 'remote' | 'message'>;

interface Row {
  epoch: string;
  source: string;
  sourcePort: string;
  method: string;
  status: string;
  callId: string;
  length: number;
  captured: number;
}

let edge: RunningEdge;
let domain: string;
let dir: string;

async function api(path: string, init: { method?: string; body?: unknown } = {}): Promise<Response> {
  return fetch(new URL(path, edge.url), {
    method: init.method ?? 'GET',
    headers: { Authorization: `Bearer ${OPERATOR_TOKEN}`, 'Content-Type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
}

/** A SIP.js phone of `username`, registered (401, then digest) over the per-user WebSocket URL. */
async function phone(username: string, onMessage?: (body: string) => void): Promise<UserAgent> {
  const uri = UserAgent.makeURI(`sip:${username}@${domain}`);
  if (uri === undefined) throw new Error('not a SIP URI');
  const ua = new UserAgent({
    uri,
    transportOptions: { server: `ws://${edge.url.host}/sip/${username}` },
    authorizationUsername: username,
    authorizationPassword: PASSWORD,
    logLevel: 'error',
    logBuiltinEnabled: false,
    delegate: {
      onMessage: (message) => {
        onMessage?.(message.request.body);
        void message.accept();
      },
    },
  });
  await ua.start();
  const registerer = new Registerer(ua, { expires: 300 });
  const status = await within(
    10_000,
    `REGISTER ${username}`,
    new Promise<number>((resolve) => {
      void registerer.register({ requestDelegate: { onAccept: (response) => resolve(response.message.statusCode ?? 0), onReject: (response) => resolve(response.message.statusCode ?? 0) } });
    }),
  );
  expect(status).toBe(200);
  return ua;
}

/** The first line's method or status code, and the Call-ID, as a SIP reader sees them. */
function expectedRow(record: TraceRecord): { method: string; status: string; callId: string } {
  const start = record.message.slice(0, record.message.indexOf('\r\n'));
  const response = /^SIP\/2\.0 (\d{3}) /.exec(start);
  const callId = /^(?:Call-ID|i)[ \t]*:[ \t]*(.*)$/im.exec(record.message)?.[1]?.trim() ?? '';
  return { method: response === null ? start.split(' ')[0]! : '', status: response?.[1] ?? '', callId };
}

async function download(path: string, name: string): Promise<string> {
  const response = await api(path);
  expect(response.status).toBe(200);
  expect(response.headers.get('Content-Type')).toBe('application/vnd.tcpdump.pcap');
  const file = join(dir, name);
  writeFileSync(file, new Uint8Array(await response.arrayBuffer()));
  return file;
}

async function tshark(...args: string[]): Promise<string> {
  const { stdout } = await run(PEERS.tshark.binary, args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function rows(file: string): Promise<Row[]> {
  const fields = ['frame.time_epoch', 'ip.src', 'ipv6.src', 'udp.srcport', 'sip.Method', 'sip.Status-Code', 'sip.Call-ID', 'frame.len', 'frame.cap_len'];
  const out = await tshark('-r', file, ...CHECKSUMS, '-T', 'fields', ...fields.flatMap((field) => ['-e', field]));
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [epoch = '', v4 = '', v6 = '', sourcePort = '', method = '', status = '', callId = '', length = '', captured = ''] = line.split('\t');
      return { epoch, source: v4 || v6, sourcePort, method, status, callId, length: Number(length), captured: Number(captured) };
    });
}

function edgeAddressToward(record: TraceRecord): string {
  return record.remote?.includes(':') === true ? EDGE_V6 : EDGE_V4;
}

/** tshark decodes `file` as exactly `records`: each a SIP packet, in order, with its start line, Call-ID, source and time. */
async function expectDecodedAs(file: string, records: readonly TraceRecord[]): Promise<void> {
  const decoded = await rows(file);
  expect(decoded).toHaveLength(records.length);
  decoded.forEach((row, index) => {
    const record = records[index]!;
    expect({ method: row.method, status: row.status, callId: row.callId }).toEqual(expectedRow(record));
    expect(row.source).toBe(record.direction === 'out' ? edgeAddressToward(record) : (record.remote ?? UNKNOWN_DEVICE));
    if (record.direction === 'out') expect(row.sourcePort).toBe('5060');
    else expect(Number(row.sourcePort)).toBeGreaterThanOrEqual(49152);
    // The capture keeps microseconds; the trace, milliseconds: the same instant.
    expect(Math.round(Number(row.epoch) * 1000)).toBe(record.at);
    // A message beyond one datagram is cut there, and the frame says how long it was.
    const bytes = encoder.encode(record.message).length;
    expect(row.length - row.captured).toBe(Math.max(0, bytes - MAX_UDP_PAYLOAD));
  });
  const full = await tshark('-r', file, ...CHECKSUMS, '-V');
  expect(full).not.toContain('[Malformed Packet');
  expect(full).not.toMatch(/Expert Info \((Warning|Error)/);
  expect(full).not.toContain(PASSWORD);
  expect(full).not.toMatch(/response="?[0-9a-f]{32}/i);
  expect(full).not.toMatch(/Digest Authentication Response: [0-9a-f]{32}/i);
}

describe.runIf(peerAvailable('tshark'))('pcap export opened by tshark', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sipedge-pcap-'));
    edge = await startEdge({
      port: 0,
      vars: { SIPEDGE_NONCE_SECRET: randomBytes(24).toString('base64url'), SIPEDGE_OPERATOR_TOKEN: OPERATOR_TOKEN, SIPEDGE_MEDIA_SECRET: randomBytes(32).toString('base64url') },
    });
    domain = ((await (await fetch(new URL('/health', edge.url))).json()) as { domain: string }).domain;
  });

  afterAll(async () => {
    await edge?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("decodes every message of a user's trace, and of one exchange in it, as SIP with its times and no secrets", async () => {
    for (const username of ['pcap-alice', 'pcap-bob']) expect((await api(`/api/v1/users/${username}`, { method: 'PUT', body: { password: PASSWORD } })).status).toBe(201);
    let received: (body: string) => void = () => undefined;
    const arrived = new Promise<string>((resolve) => (received = resolve));
    const bob = await phone('pcap-bob', (body) => received(body));
    const alice = await phone('pcap-alice');
    const target = UserAgent.makeURI(`sip:pcap-bob@${domain}`)!;
    const answered = new Promise<number>((resolve) => {
      void new Messager(alice, target, 'seen by tshark').message({ requestDelegate: { onAccept: (response) => resolve(response.message.statusCode ?? 0), onReject: (response) => resolve(response.message.statusCode ?? 0) } });
    });
    expect(await within(10_000, 'MESSAGE answer', answered)).toBe(200);
    expect(await within(10_000, 'MESSAGE at bob', arrived)).toBe('seen by tshark');
    await alice.stop();
    await bob.stop();

    const { records } = (await (await api('/api/v1/users/pcap-alice/trace')).json()) as { records: TraceRecord[] };
    const startLines = records.map((record) => expectedRow(record)).map((row) => row.method || row.status);
    // REGISTER challenged then accepted, MESSAGE challenged then delivered (and the unregistration).
    expect(startLines.slice(0, 8)).toEqual(['REGISTER', '401', 'REGISTER', '200', 'MESSAGE', '407', 'MESSAGE', '200']);
    await expectDecodedAs(await download('/api/v1/users/pcap-alice/trace?format=pcap', 'alice.pcap'), records);

    const messageCallId = expectedRow(records[4]!).callId;
    const exchange = records.filter((record) => expectedRow(record).callId === messageCallId);
    expect(exchange.map((record) => expectedRow(record)).map((row) => row.method || row.status)).toEqual(['MESSAGE', '407', 'MESSAGE', '200']);
    await expectDecodedAs(await download(`/api/v1/users/pcap-alice/trace?format=pcap&callId=${encodeURIComponent(messageCallId)}`, 'message.pcap'), exchange);
  });

  it('decodes what a local run cannot produce: IPv6 devices, an unknown address, a message cut at the UDP limit', async () => {
    const sip = (start: string, callId: string, body = ''): string =>
      [start, 'Via: SIP/2.0/WSS device.invalid;branch=z9hG4bK7', 'From: <sip:carol@example.com>;tag=1', 'To: <sip:carol@example.com>', `Call-ID: ${callId}`, `CSeq: 1 ${start.startsWith('SIP/') ? 'MESSAGE' : start.split(' ')[0]!}`, `Content-Length: ${encoder.encode(body).length}`, '', body].join('\r\n');
    const at = Date.UTC(2026, 10, 23, 22, 0, 0, 123);
    const record = (offset: number, direction: 'in' | 'out', flow: string, remote: string | undefined, message: string): StoredRecord => ({
      at: at + offset,
      direction,
      transport: 'WSS',
      flow,
      ...(remote === undefined ? {} : { remote }),
      summary: message.slice(0, message.indexOf('\r\n')),
      message,
      bytes: encoder.encode(message).length,
    });
    const records = [
      record(0, 'in', 'flow-v6', '2001:db8::7', sip('REGISTER sip:example.com SIP/2.0', 'reg-v6')),
      record(1, 'out', 'flow-v6', '2001:db8::7', sip('SIP/2.0 200 OK', 'reg-v6')),
      record(2, 'in', 'flow-unknown', undefined, sip('OPTIONS sip:example.com SIP/2.0', 'options')),
      record(3, 'in', 'flow-v4', '127.0.0.1', sip('MESSAGE sip:dave@example.com SIP/2.0', 'big', 'é'.repeat(40_000))),
      record(4, 'out', 'flow-v4', '127.0.0.1', sip('SIP/2.0 413 Request Entity Too Large', 'big')),
    ];
    const file = join(dir, 'written.pcap');
    writeFileSync(file, tracePcap(records));
    await expectDecodedAs(file, records);
  });
});
