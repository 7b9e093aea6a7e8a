/**
 * The SIP trace exported as text and as a pcap capture (GET /api/v1/users/:u/trace?format=...),
 * per user and per call, never showing a password or a digest response. The pcap is read back
 * with a reader written here from the pcap file format and the IPv4, IPv6 and UDP RFCs, not with
 * the code that wrote it; `test/api/trace-pcap-tshark.test.ts` opens it with tshark as well.
 */
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { tracePcap } from '../../workers/trace/trace-pcap.ts';
import type { TraceRecord } from '../../workers/trace/trace-record.ts';
import { freshUsers, PASSWORD } from './support/call-fixtures.ts';
import { Phone } from './support/phone.ts';
import { EDGE } from './support/sip-socket.ts';
import { operatorHeaders } from './support/users.ts';

interface Packet {
  seconds: number;
  micros: number;
  version: 4 | 6;
  source: string;
  destination: string;
  sourcePort: number;
  destinationPort: number;
  payload: string;
}

/** RFC 1071: the one's complement sum of 16-bit words. */
function onesSum(bytes: Uint8Array): number {
  let sum = 0;
  for (let index = 0; index < bytes.length; index += 2) sum += (bytes[index]! << 8) | (bytes[index + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function readPcap(file: Uint8Array): { linkType: number; packets: Packet[] } {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  expect(view.getUint32(0, true)).toBe(0xa1b2c3d4);
  expect([view.getUint16(4, true), view.getUint16(6, true)]).toEqual([2, 4]);
  const snaplen = view.getUint32(16, true);
  const linkType = view.getUint32(20, true);
  const packets: Packet[] = [];
  let at = 24;
  while (at < file.length) {
    const seconds = view.getUint32(at, true);
    const micros = view.getUint32(at + 4, true);
    const included = view.getUint32(at + 8, true);
    const original = view.getUint32(at + 12, true);
    expect(included).toBeLessThanOrEqual(snaplen);
    expect(original).toBe(included);
    const frame = file.subarray(at + 16, at + 16 + included);
    expect(frame.length).toBe(included);
    at += 16 + included;
    const etherType = (frame[12]! << 8) | frame[13]!;
    const ip = frame.subarray(14);
    let udp: Uint8Array;
    let version: 4 | 6;
    let source: string;
    let destination: string;
    if (etherType === 0x0800) {
      version = 4;
      expect(ip[0]! >> 4).toBe(4);
      const headerLength = (ip[0]! & 0x0f) * 4;
      expect((ip[2]! << 8) | ip[3]!).toBe(ip.length);
      expect(ip[9]).toBe(17);
      expect(onesSum(ip.subarray(0, headerLength))).toBe(0xffff);
      source = Array.from(ip.subarray(12, 16)).join('.');
      destination = Array.from(ip.subarray(16, 20)).join('.');
      udp = ip.subarray(headerLength);
    } else {
      expect(etherType).toBe(0x86dd);
      version = 6;
      expect(ip[0]! >> 4).toBe(6);
      expect((ip[4]! << 8) | ip[5]!).toBe(ip.length - 40);
      expect(ip[6]).toBe(17);
      const hex = (bytes: Uint8Array) => Array.from({ length: 8 }, (_unused, group) => ((bytes[group * 2]! << 8) | bytes[group * 2 + 1]!).toString(16)).join(':');
      source = hex(ip.subarray(8, 24));
      destination = hex(ip.subarray(24, 40));
      udp = ip.subarray(40);
      // RFC 8200 §8.1: the checksum over the pseudo-header and the datagram sums to all ones.
      const pseudo = new Uint8Array(40 + udp.length);
      pseudo.set(ip.subarray(8, 40), 0);
      new DataView(pseudo.buffer).setUint32(32, udp.length);
      pseudo[39] = 17;
      pseudo.set(udp, 40);
      expect(onesSum(pseudo)).toBe(0xffff);
    }
    expect((udp[4]! << 8) | udp[5]!).toBe(udp.length);
    packets.push({
      seconds,
      micros,
      version,
      source,
      destination,
      sourcePort: (udp[0]! << 8) | udp[1]!,
      destinationPort: (udp[2]! << 8) | udp[3]!,
      payload: new TextDecoder().decode(udp.subarray(8)),
    });
  }
  return { linkType, packets };
}

async function trace(user: string, query: string): Promise<Response> {
  const response = await exports.default.fetch(`${EDGE}/api/v1/users/${user}/trace?${query}`, { headers: operatorHeaders() });
  expect(response.status).toBe(200);
  return response;
}

/**
 * What must never leave the edge: the password, a digest response hash, the nonce it was computed
 * with (the challenge's nonce, in WWW-Authenticate, is public).
 */
function expectNoCredentials(text: string): void {
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toMatch(/response="?[0-9a-f]{32,64}/);
  expect(text).not.toMatch(/^(proxy-)?authorization:.*nonce=/im);
  expect(text).toContain('response="[redacted]"');
}

describe('trace export', () => {
  it('gives the trace as a pcap whose packets carry each message, in order, with its time', async () => {
    const [alice, bob] = await freshUsers('alice', 'bob');
    const phone = await Phone.online(alice!, PASSWORD);
    expect((await phone.message(bob!, 'hello')).status).toBe(202);
    const { records } = (await (await trace(alice!, 'format=json')).json()) as { records: TraceRecord[] };

    const response = await trace(alice!, 'format=pcap');
    expect(response.headers.get('Content-Type')).toBe('application/vnd.tcpdump.pcap');
    expect(response.headers.get('Content-Disposition')).toBe(`attachment; filename="${alice!}.pcap"`);
    const capture = readPcap(new Uint8Array(await response.arrayBuffer()));
    expect(capture.linkType).toBe(1);
    expect(capture.packets.map((packet) => packet.payload)).toEqual(records.map((record) => record.message));
    capture.packets.forEach((packet, index) => {
      const record = records[index]!;
      expect(packet.seconds * 1000 + packet.micros / 1000).toBe(record.at);
      // In: device -> edge port 5060; out: edge port 5060 -> device. The device is unknown here (192.0.2.2).
      if (record.direction === 'in') expect([packet.source, packet.destination, packet.destinationPort]).toEqual(['192.0.2.2', '192.0.2.1', 5060]);
      else expect([packet.source, packet.destination, packet.sourcePort]).toEqual(['192.0.2.1', '192.0.2.2', 5060]);
    });
    expect(capture.packets[0]!.payload.startsWith('REGISTER sip:')).toBe(true);
    expectNoCredentials(capture.packets.map((packet) => packet.payload).join('\n'));
    phone.device.socket.close();
  });

  it('gives the trace as text, one message after its time, direction, transport and flow', async () => {
    const [carol, dave] = await freshUsers('carol', 'dave');
    const phone = await Phone.online(carol!, PASSWORD);
    expect((await phone.message(dave!, 'hello')).status).toBe(202);
    const { records } = (await (await trace(carol!, 'format=json')).json()) as { records: TraceRecord[] };
    const response = await trace(carol!, 'format=text');
    expect(response.headers.get('Content-Type')).toBe('text/plain; charset=utf-8');
    const text = await response.text();
    const first = records[0]!;
    expect(text.startsWith(`${new Date(first.at).toISOString().replace('T', ' ').replace('Z', ' UTC')}  device -> edge  WSS  flow ${first.flow}\nREGISTER sip:demo.sipedge.local SIP/2.0\n`)).toBe(true);
    expect(text).toContain('edge -> device  WSS');
    expect(text).not.toContain('\r');
    expect(text.split(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC {2}/m).length - 1).toBe(records.length);
    expectNoCredentials(text);
    phone.device.socket.close();
  });

  it('narrows the export to one call', async () => {
    const [erin, frank] = await freshUsers('erin', 'frank');
    const phone = await Phone.online(erin!, PASSWORD);
    expect((await phone.message(frank!, 'hello')).status).toBe(202);
    const { records } = (await (await trace(erin!, 'format=json')).json()) as { records: TraceRecord[] };
    const callId = records.findLast((record) => record.summary.startsWith('MESSAGE'))!.callId!;
    const response = await trace(erin!, `format=pcap&callId=${encodeURIComponent(callId)}`);
    expect(response.headers.get('Content-Disposition')).toBe(`attachment; filename="${erin!}-call.pcap"`);
    const capture = readPcap(new Uint8Array(await response.arrayBuffer()));
    expect(capture.packets.map((packet) => packet.payload.split('\r\n', 1)[0])).toEqual([`MESSAGE sip:${frank!}@demo.sipedge.local SIP/2.0`, 'SIP/2.0 202 Accepted']);
    phone.device.socket.close();
  });

  it('writes IPv4 and IPv6 devices with their own addresses, and one port per flow', () => {
    const record = (remote: string, flow: string, direction: 'in' | 'out', at: number): TraceRecord => ({
      at,
      direction,
      transport: 'WSS',
      flow,
      remote,
      summary: 'OPTIONS sip:x SIP/2.0',
      message: 'OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n',
      bytes: 44,
    });
    const capture = readPcap(tracePcap([record('203.0.113.7', 'flow-a', 'in', 1_700_000_000_123), record('2001:db8::7', 'flow-b', 'out', 1_700_000_001_004), record('203.0.113.7', 'flow-c', 'in', 1_700_000_002_000)]));
    const [v4, v6, other] = capture.packets;
    expect([v4!.version, v4!.source, v4!.destination, v4!.seconds, v4!.micros]).toEqual([4, '203.0.113.7', '192.0.2.1', 1_700_000_000, 123_000]);
    expect([v6!.version, v6!.source, v6!.destination, v6!.sourcePort, v6!.micros]).toEqual([6, '2001:db8:0:0:0:0:0:1', '2001:db8:0:0:0:0:0:7', 5060, 4_000]);
    expect(v4!.sourcePort).toBeGreaterThanOrEqual(49152);
    expect(other!.sourcePort).not.toBe(v4!.sourcePort);
  });
});
