/**
 * Reads the UDP datagrams of a classic pcap file (the format tcpdump writes with `-w`): the global
 * header (magic in either byte order, microsecond or nanosecond timestamps), then per record a
 * 16-octet header and the frame. Link types: Ethernet (1, what Linux gives for `lo`), BSD loopback
 * (0), Linux cooked captures v1 (113) and v2 (276). IPv4 only: everything here is on 127.0.0.1.
 */
import { Buffer } from 'node:buffer';

export interface CapturedDatagram {
  /** Kernel timestamp, ms since the first record of the file (sub-microsecond with nanosecond files). */
  readonly atMs: number;
  readonly sourcePort: number;
  readonly destinationPort: number;
  /** The UDP payload, as far as the snapshot length kept it. */
  readonly payload: Buffer;
}

export interface PcapFile {
  readonly nanosecond: boolean;
  readonly linkType: number;
  readonly datagrams: readonly CapturedDatagram[];
}

const LINK_HEADER: Readonly<Record<number, { length: number; protocolAt: number | undefined }>> = {
  0: { length: 4, protocolAt: undefined },
  1: { length: 14, protocolAt: 12 },
  113: { length: 16, protocolAt: 14 },
  276: { length: 20, protocolAt: 0 },
};

export function readPcap(file: Buffer): PcapFile {
  if (file.length < 24) throw new Error('pcap: shorter than its global header');
  const magic = file.readUInt32LE(0);
  const layouts: Record<number, { little: boolean; nanosecond: boolean }> = {
    0xa1b2c3d4: { little: true, nanosecond: false },
    0xa1b23c4d: { little: true, nanosecond: true },
    0xd4c3b2a1: { little: false, nanosecond: false },
    0x4d3cb2a1: { little: false, nanosecond: true },
  };
  const layout = layouts[magic];
  if (layout === undefined) throw new Error(`pcap: unknown magic 0x${magic.toString(16)} (pcapng is not read here)`);
  const u32 = (at: number): number => (layout.little ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20) & 0xffff;
  const link = LINK_HEADER[linkType];
  if (link === undefined) throw new Error(`pcap: link type ${linkType} is not read here`);
  const fractionPerMs = layout.nanosecond ? 1e6 : 1e3;
  const datagrams: CapturedDatagram[] = [];
  let firstSeconds: number | undefined;
  let at = 24;
  while (at + 16 <= file.length) {
    const seconds = u32(at);
    const fraction = u32(at + 4);
    const captured = u32(at + 8);
    const frame = at + 16;
    at = frame + captured;
    if (at > file.length) break; // a record cut short by the capture stopping
    firstSeconds ??= seconds;
    const atMs = (seconds - firstSeconds) * 1000 + fraction / fractionPerMs;
    const udp = udpIn(file, frame, captured, link);
    if (udp !== undefined) datagrams.push({ atMs, ...udp });
  }
  return { nanosecond: layout.nanosecond, linkType, datagrams };
}

function udpIn(
  file: Buffer,
  frame: number,
  captured: number,
  link: { length: number; protocolAt: number | undefined },
): Omit<CapturedDatagram, 'atMs'> | undefined {
  const end = frame + captured;
  if (link.protocolAt !== undefined && file.readUInt16BE(frame + link.protocolAt) !== 0x0800) return undefined;
  if (link.protocolAt === undefined && file.readUInt32LE(frame) !== 2 && file.readUInt32BE(frame) !== 2) return undefined; // AF_INET
  const ip = frame + link.length;
  if (ip + 20 > end || file.readUInt8(ip) >> 4 !== 4 || file.readUInt8(ip + 9) !== 17) return undefined;
  const udp = ip + (file.readUInt8(ip) & 0x0f) * 4;
  if (udp + 8 > end) return undefined;
  return { sourcePort: file.readUInt16BE(udp), destinationPort: file.readUInt16BE(udp + 2), payload: file.subarray(udp + 8, end) };
}
