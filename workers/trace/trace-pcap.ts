/**
 * A SIP trace as a pcap capture file (the classic libpcap format, microsecond timestamps,
 * LINKTYPE_ETHERNET), for Wireshark and sngrep: each message becomes one synthesized Ethernet +
 * IPv4 (or IPv6) + UDP packet, stamped with the time the edge sent or received it.
 *
 * The real flows are WebSocket frames over TLS; what the capture shows is the SIP they carried, as
 * if sent over UDP, because every SIP tool decodes SIP/UDP on port 5060 with no reassembly:
 * - the device is its address as the edge saw it (`remote`), or 192.0.2.2 when unknown;
 * - the edge is 192.0.2.1 (2001:db8::1 toward an IPv6 device), port 5060 (RFC 5737/3849
 *   documentation addresses: they can never be mistaken for a real host);
 * - each flow gets its own device port (49152-65535, from the flow id), so that two devices of one
 *   user, or two connections of one device, stay apart.
 * A message longer than a UDP datagram can carry (65,507 octets over IPv4) is cut there and the
 * record says so (its original length is the message's).
 */
import type { TraceRecord } from './trace-record.ts';

const encoder = new TextEncoder();
const LINKTYPE_ETHERNET = 1;
const SNAPLEN = 262_144;
const SIP_PORT = 5060;
const MAX_UDP_PAYLOAD = 65_535 - 20 - 8;
const EDGE_V4 = [192, 0, 2, 1];
const UNKNOWN_DEVICE_V4 = [192, 0, 2, 2];
const EDGE_V6 = parseIpv6('2001:db8::1') ?? new Uint8Array(16);
const EDGE_MAC = [0x02, 0, 0, 0, 0, 0x01];
const DEVICE_MAC = [0x02, 0, 0, 0, 0, 0x02];

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) return undefined;
  return parts.map(Number);
}

function parseIpv6(text: string): Uint8Array | undefined {
  const bare = text.replace(/^\[|\]$/g, '');
  if (!/^[0-9A-Fa-f:]+$/.test(bare) || bare.split('::').length > 2) return undefined;
  const [head = '', tail] = bare.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const missing = 8 - front.length - back.length;
  if ((tail === undefined && missing !== 0) || missing < 0 || [...front, ...back].some((group) => !/^[0-9A-Fa-f]{1,4}$/.test(group))) return undefined;
  const all = [...front, ...Array<string>(missing).fill('0'), ...back];
  const bytes = new Uint8Array(16);
  all.forEach((group, index) => {
    const value = parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  return bytes;
}

/** The device port of a flow: a stable hash of its id into the dynamic range (RFC 6335 §6). */
function flowPort(flow: string): number {
  let hash = 2166136261;
  for (const char of flow) hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 16777619) >>> 0;
  return 49152 + (hash % 16384);
}

/** RFC 1071 one's complement sum, over `parts` concatenated. */
function checksum(parts: readonly Uint8Array[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const part of parts) {
    for (const byte of part) {
      if (odd === undefined) odd = byte;
      else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function udpHeader(sourcePort: number, destinationPort: number, payloadLength: number): Uint8Array {
  const header = new Uint8Array(8);
  const view = new DataView(header.buffer);
  view.setUint16(0, sourcePort);
  view.setUint16(2, destinationPort);
  view.setUint16(4, 8 + payloadLength);
  return header;
}

function ipv4Packet(source: readonly number[], destination: readonly number[], udp: Uint8Array, payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(20);
  const view = new DataView(header.buffer);
  header[0] = 0x45; // version 4, 5 words of header
  view.setUint16(2, 20 + udp.length + payload.length);
  header[6] = 0x40; // don't fragment
  header[8] = 64; // TTL
  header[9] = 17; // UDP
  header.set(source, 12);
  header.set(destination, 16);
  view.setUint16(10, checksum([header]));
  // The UDP checksum is optional over IPv4 (RFC 768): 0 means none.
  return concat([header, udp, payload]);
}

function ipv6Packet(source: Uint8Array, destination: Uint8Array, udp: Uint8Array, payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(40);
  const view = new DataView(header.buffer);
  header[0] = 0x60;
  view.setUint16(4, udp.length + payload.length);
  header[6] = 17; // UDP
  header[7] = 64; // hop limit
  header.set(source, 8);
  header.set(destination, 24);
  // RFC 8200 §8.1: over IPv6 the UDP checksum is mandatory, over a pseudo-header.
  const pseudo = new Uint8Array(40);
  pseudo.set(source, 0);
  pseudo.set(destination, 16);
  new DataView(pseudo.buffer).setUint32(32, udp.length + payload.length);
  pseudo[39] = 17;
  const sum = checksum([pseudo, udp, payload]);
  new DataView(udp.buffer).setUint16(6, sum === 0 ? 0xffff : sum);
  return concat([header, udp, payload]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function frame(record: TraceRecord, message: Uint8Array): Uint8Array {
  const payload = message.subarray(0, MAX_UDP_PAYLOAD);
  const devicePort = flowPort(record.flow);
  const inbound = record.direction === 'in';
  const udp = inbound ? udpHeader(devicePort, SIP_PORT, payload.length) : udpHeader(SIP_PORT, devicePort, payload.length);
  const v6 = record.remote === undefined || parseIpv4(record.remote) !== undefined ? undefined : parseIpv6(record.remote);
  const ethernet = new Uint8Array(14);
  ethernet.set(inbound ? EDGE_MAC : DEVICE_MAC, 0);
  ethernet.set(inbound ? DEVICE_MAC : EDGE_MAC, 6);
  if (v6 !== undefined) {
    new DataView(ethernet.buffer).setUint16(12, 0x86dd);
    return concat([ethernet, inbound ? ipv6Packet(v6, EDGE_V6, udp, payload) : ipv6Packet(EDGE_V6, v6, udp, payload)]);
  }
  const device = (record.remote === undefined ? undefined : parseIpv4(record.remote)) ?? UNKNOWN_DEVICE_V4;
  new DataView(ethernet.buffer).setUint16(12, 0x0800);
  return concat([ethernet, inbound ? ipv4Packet(device, EDGE_V4, udp, payload) : ipv4Packet(EDGE_V4, device, udp, payload)]);
}

/** The capture file of `records`, oldest first as given. */
export function tracePcap(records: readonly TraceRecord[]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  const global = new Uint8Array(24);
  const header = new DataView(global.buffer);
  header.setUint32(0, 0xa1b2c3d4, true); // microsecond timestamps, written little-endian
  header.setUint16(4, 2, true);
  header.setUint16(6, 4, true);
  header.setUint32(16, SNAPLEN, true);
  header.setUint32(20, LINKTYPE_ETHERNET, true);
  parts.push(global);
  for (const record of records) {
    const message = encoder.encode(record.message);
    const packet = frame(record, message);
    const recordHeader = new Uint8Array(16);
    const view = new DataView(recordHeader.buffer);
    view.setUint32(0, Math.floor(record.at / 1000), true);
    view.setUint32(4, (record.at % 1000) * 1000, true);
    view.setUint32(8, packet.length, true);
    view.setUint32(12, packet.length + (message.length - Math.min(message.length, MAX_UDP_PAYLOAD)), true);
    parts.push(recordHeader, packet);
  }
  return concat(parts) as Uint8Array<ArrayBuffer>;
}
