/**
 * The time a relay adds per packet, from a capture's kernel timestamps: each RTP packet into the
 * relay is matched with the packet it causes out of it, and the difference is what the relay added
 * (the wait in its socket's receive queue, its own work, and its send), free of the generator's
 * event loop. Pass-through only: one packet out per packet in.
 *
 * A direction of a call is two UDP flows on 127.0.0.1, named by their ports: into the relay
 * (sender -> relay) and out of it (relay -> receiver). RTP headers are in clear even under SRTP, so
 * sequence number and timestamp name a packet on both flows; the relay may move both by a constant
 * per stream (its own stream's start) and change the SSRC. That constant is found from the packets
 * themselves: of the (sequence, timestamp) differences between each packet out and the packets in
 * shortly before it, the pairing that accounts for nearly every packet out with the shortest
 * delays is the real one (the packet in just before it gives another constant difference, always
 * longer). RTCP, STUN and DTLS on the same ports are left out.
 *
 * Added latency mixes two things: the relay's own time on a packet, and the wait behind packets
 * that arrived just before it (a sender that stalls and then catches up sends a burst, and a
 * single event loop takes a burst one packet at a time). The relay's own time is what is left
 * after the wait: from the later of the packet's arrival and the relay's previous departure (any
 * stream) to the packet's departure (Lindley's recursion for a single server). It still counts a
 * GC pause or a timer that ran in between, which are the relay's doing, and any time the relay
 * waited for a core meanwhile, which is the machine's (the bench prints that apart).
 */
import { looksLikeRtcp } from '../../../media-node/rtp/index.ts';
import type { CapturedDatagram } from './pcap-reader.ts';

/** One direction through a relay: the UDP flow in and the flow out, by ports (all on 127.0.0.1). */
export interface RelayDirection {
  readonly into: { readonly from: number; readonly to: number };
  readonly out: { readonly from: number; readonly to: number };
}

export interface TransitFigures {
  /** Packets out matched with their packet in. */
  readonly matched: number;
  /** Packets out with no packet in found (inside the capture's middle, away from its edges). */
  readonly unmatchedOut: number;
  /** Packets in that caused no packet out (same span). */
  readonly unmatchedIn: number;
  /** Directions whose pairing could not be found (too few packets). */
  readonly unpaired: number;
  /** Added latency per matched packet, ms, sorted. */
  readonly addedMs: Float64Array;
  /** The relay's own time per matched packet (added latency less the wait behind earlier packets), ms, sorted. */
  readonly ownMs: Float64Array;
  /** The most packets that arrived into the relay (these streams) within one millisecond. */
  readonly burstMax: number;
}

interface RtpSeen {
  readonly atMs: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
}

/** Packets within this of the capture's start or end are not counted as unmatched. */
const EDGE_MS = 500;
/** A packet out is paired only with packets in at most this much earlier. */
const PAIRING_WINDOW_MS = 200;

export function relayTransit(datagrams: readonly CapturedDatagram[], directions: readonly RelayDirection[]): TransitFigures {
  const flows = rtpFlows(datagrams);
  const first = datagrams[0]?.atMs ?? 0;
  const last = datagrams[datagrams.length - 1]?.atMs ?? 0;
  const inMiddle = (atMs: number): boolean => atMs > first + EDGE_MS && atMs < last - EDGE_MS;
  const added: number[] = [];
  const pairs: { readonly inAt: number; readonly outAt: number }[] = [];
  const departures: number[] = [];
  const arrivals: number[] = [];
  let unmatchedOut = 0;
  let unmatchedIn = 0;
  let unpaired = 0;
  for (const direction of directions) {
    const into = flows.get(flowKey(direction.into.from, direction.into.to)) ?? [];
    const out = flows.get(flowKey(direction.out.from, direction.out.to)) ?? [];
    const shift = pairing(into, out);
    if (shift === undefined) {
      unpaired++;
      continue;
    }
    const byName = new Map<number, RtpSeen[]>();
    for (const packet of into) {
      const name = packetName(packet.sequenceNumber, packet.timestamp);
      const list = byName.get(name);
      if (list === undefined) byName.set(name, [packet]);
      else list.push(packet);
    }
    const used = new Set<RtpSeen>();
    for (const packet of into) arrivals.push(packet.atMs);
    for (const packet of out) {
      departures.push(packet.atMs);
      const candidates = byName.get(packetName((packet.sequenceNumber - shift.sequence) & 0xffff, (packet.timestamp - shift.timestamp) >>> 0)) ?? [];
      let source: RtpSeen | undefined;
      for (const candidate of candidates) {
        if (candidate.atMs <= packet.atMs && packet.atMs - candidate.atMs < 1000 && (source === undefined || candidate.atMs > source.atMs)) source = candidate;
      }
      if (source === undefined) {
        if (inMiddle(packet.atMs)) unmatchedOut++;
        continue;
      }
      used.add(source);
      added.push(packet.atMs - source.atMs);
      pairs.push({ inAt: source.atMs, outAt: packet.atMs });
    }
    for (const packet of into) if (!used.has(packet) && inMiddle(packet.atMs)) unmatchedIn++;
  }
  const sortedDepartures = Float64Array.from(departures).sort();
  const own = pairs.map(({ inAt, outAt }) => outAt - Math.max(inAt, previousBefore(sortedDepartures, outAt)));
  return {
    matched: added.length,
    unmatchedOut,
    unmatchedIn,
    unpaired,
    addedMs: Float64Array.from(added).sort(),
    ownMs: Float64Array.from(own).sort(),
    burstMax: mostWithinOneMs(Float64Array.from(arrivals).sort()),
  };
}

/** The latest value in ascending `sorted` below `atMs` (-Infinity if none). */
function previousBefore(sorted: Float64Array, atMs: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] as number) < atMs) low = middle + 1;
    else high = middle;
  }
  return low === 0 ? -Infinity : (sorted[low - 1] as number);
}

function mostWithinOneMs(sorted: Float64Array): number {
  let most = 0;
  let from = 0;
  for (let at = 0; at < sorted.length; at++) {
    while ((sorted[at] as number) - (sorted[from] as number) >= 1) from++;
    most = Math.max(most, at - from + 1);
  }
  return most;
}

/** The relay's constant (sequence, timestamp) shift from `into` to `out`, if enough packets show it. */
function pairing(into: readonly RtpSeen[], out: readonly RtpSeen[]): { sequence: number; timestamp: number } | undefined {
  const sample = out.slice(Math.floor(out.length / 2), Math.floor(out.length / 2) + 100);
  if (sample.length < 10 || into.length < 10) return undefined;
  const seen = new Map<string, { sequence: number; timestamp: number; count: number; delays: number[] }>();
  let from = 0;
  for (const packet of sample) {
    while (from < into.length && (into[from] as RtpSeen).atMs < packet.atMs - PAIRING_WINDOW_MS) from++;
    for (let at = from; at < into.length && (into[at] as RtpSeen).atMs <= packet.atMs; at++) {
      const candidate = into[at] as RtpSeen;
      const sequence = (packet.sequenceNumber - candidate.sequenceNumber) & 0xffff;
      const timestamp = (packet.timestamp - candidate.timestamp) >>> 0;
      const key = `${sequence}/${timestamp}`;
      const entry = seen.get(key) ?? { sequence, timestamp, count: 0, delays: [] };
      entry.count++;
      entry.delays.push(packet.atMs - candidate.atMs);
      seen.set(key, entry);
    }
  }
  const entries = [...seen.values()];
  const most = Math.max(...entries.map((entry) => entry.count));
  const strong = entries.filter((entry) => entry.count >= 0.8 * most && entry.count >= sample.length / 2);
  const median = (values: number[]): number => (values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number);
  strong.sort((a, b) => median(a.delays) - median(b.delays));
  return strong[0];
}

function rtpFlows(datagrams: readonly CapturedDatagram[]): Map<string, RtpSeen[]> {
  const flows = new Map<string, RtpSeen[]>();
  for (const datagram of datagrams) {
    const payload = datagram.payload;
    // RTP version 2 (STUN starts 0-3, DTLS 20-63), and not RTCP multiplexed on the same port.
    if (payload.length < 12 || payload.readUInt8(0) >> 6 !== 2 || looksLikeRtcp(payload)) continue;
    const key = flowKey(datagram.sourcePort, datagram.destinationPort);
    const packet = { atMs: datagram.atMs, sequenceNumber: payload.readUInt16BE(2), timestamp: payload.readUInt32BE(4) };
    const flow = flows.get(key);
    if (flow === undefined) flows.set(key, [packet]);
    else flow.push(packet);
  }
  return flows;
}

function flowKey(from: number, to: number): string {
  return `${from}>${to}`;
}

function packetName(sequenceNumber: number, timestamp: number): number {
  return sequenceNumber * 2 ** 32 + timestamp;
}

/** The `q`-quantile (0-1) of an ascending array. */
export function sortedQuantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
