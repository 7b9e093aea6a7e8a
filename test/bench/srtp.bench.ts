/**
 * `npm run bench:srtp`: what SRTP costs the media node per packet, for both suites
 * (AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM) on a 172-octet RTP packet (12-octet header,
 * 160 octets of G.711), in two implementations side by side:
 * - `per-key`: the node's transforms (`media-node/srtp/`), native crypto objects made once per key;
 * - `one-shot`: one node:crypto object per packet (`test/media-node/srtp/one-shot-reference.ts`,
 *   how the node did it before), the baseline.
 * Both are timed at the transform (the contexts' index bookkeeping adds well under a microsecond).
 *
 * Two figures per suite, direction and implementation:
 * - CPU: microseconds per packet, the median of interleaved samples (compare ratios in one run:
 *   this machine's figures swing by up to 30 % between identical runs, see BENCHMARKS.md);
 * - garbage the scavenger pays for: a child process under `--expose-gc --trace-gc-nvp` handles
 *   5,000 packets between a full and a forced minor GC, and the scavenges in between are summed:
 *   `nodes_died_in_new` (global handles that died young: one per native crypto object, the weak
 *   handle node:crypto keeps on it) and `heap.external_weak_global_handles` (ms spent on them).
 *   The media node's pass-through p99 is set by those scavenges.
 *
 * Prints a table for people and, as the last line, one JSON object for scripts.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { AesCmTransform } from '../../media-node/srtp/aes-cm-transform.ts';
import { AesGcmTransform, type SessionKeys, type SrtpSuite } from '../../media-node/srtp/index.ts';
import { ReferenceAesCm, ReferenceAesGcm } from '../media-node/srtp/one-shot-reference.ts';

const SUITES: readonly SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_128_GCM'];
const IMPLEMENTATIONS = ['per-key', 'one-shot'] as const;
const DIRECTIONS = ['protect', 'unprotect'] as const;
const PACKET_OCTETS = 172;
const HEADER_OCTETS = 12;
const SSRC = 0x11223344;
const SAMPLES = 7;
const PACKETS_PER_SAMPLE = 20_000;
const GC_PACKETS = 5_000;

type Implementation = (typeof IMPLEMENTATIONS)[number];
type Direction = (typeof DIRECTIONS)[number];

interface Transform {
  protectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array;
  unprotectRtp(packet: Uint8Array, headerOctets: number, ssrc: number, roc: number, sequence: number): Uint8Array | undefined;
}

/** Keeps every result alive, so the JIT cannot drop the work as unused. */
let sink = 0;

function sessionKeys(suite: SrtpSuite): SessionKeys {
  return {
    encryption: Uint8Array.from(randomBytes(16)),
    authentication: Uint8Array.from(randomBytes(20)),
    salt: Uint8Array.from(randomBytes(suite === 'AEAD_AES_128_GCM' ? 12 : 14)),
  };
}

function transformOf(suite: SrtpSuite, implementation: Implementation, keys: SessionKeys): Transform {
  if (suite === 'AEAD_AES_128_GCM') return implementation === 'per-key' ? new AesGcmTransform(keys, keys) : new ReferenceAesGcm(keys, keys);
  return implementation === 'per-key' ? new AesCmTransform(keys, keys) : new ReferenceAesCm(keys, keys);
}

/** An RTP packet (version 2, PT 0) with a random payload; the sequence number is set per use. */
function rtpPacket(): Uint8Array {
  const packet = Uint8Array.from(randomBytes(PACKET_OCTETS));
  packet[0] = 0x80;
  packet[1] = 0;
  packet.set([0x11, 0x22, 0x33, 0x44], 8);
  return packet;
}

/** A function that handles `count` packets of one case, consecutive sequence numbers. */
function workload(suite: SrtpSuite, implementation: Implementation, direction: Direction, count: number): () => void {
  const keys = sessionKeys(suite);
  const transform = transformOf(suite, implementation, keys);
  const packet = rtpPacket();
  if (direction === 'protect') {
    let sequence = 0;
    return () => {
      for (let i = 0; i < count; i++) {
        sequence = (sequence + 1) & 0xffff;
        packet[2] = sequence >>> 8;
        packet[3] = sequence & 0xff;
        sink += transform.protectRtp(packet, HEADER_OCTETS, SSRC, 0, sequence).length;
      }
    };
  }
  // What a peer sends, made with the other implementation so the two never share a cache.
  const peer = transformOf(suite, implementation === 'per-key' ? 'one-shot' : 'per-key', keys);
  const packets = Array.from({ length: count }, (_, sequence) => {
    packet[2] = sequence >>> 8;
    packet[3] = sequence & 0xff;
    return Uint8Array.from(peer.protectRtp(packet, HEADER_OCTETS, SSRC, 0, sequence));
  });
  return () => {
    for (let sequence = 0; sequence < count; sequence++) {
      const opened = transform.unprotectRtp(packets[sequence]!, HEADER_OCTETS, SSRC, 0, sequence);
      if (opened === undefined) throw new Error(`${implementation} ${suite} refused the benchmark's own packet`);
      sink += opened.length;
    }
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

interface Case {
  readonly suite: SrtpSuite;
  readonly direction: Direction;
  readonly implementation: Implementation;
}

const CASES: readonly Case[] = SUITES.flatMap((suite) =>
  DIRECTIONS.flatMap((direction) => IMPLEMENTATIONS.map((implementation) => ({ suite, direction, implementation }))),
);

/** Median microseconds per packet of every case, sampled interleaved. */
function measureCpu(): Map<Case, number> {
  const runs = new Map(CASES.map((entry) => [entry, workload(entry.suite, entry.implementation, entry.direction, PACKETS_PER_SAMPLE)]));
  for (const run of runs.values()) run();
  const samples = new Map<Case, number[]>(CASES.map((entry) => [entry, []]));
  for (let s = 0; s < SAMPLES; s++) {
    for (const [entry, run] of runs) {
      const started = performance.now();
      run();
      samples.get(entry)!.push(((performance.now() - started) * 1000) / PACKETS_PER_SAMPLE);
    }
  }
  return new Map([...samples].map(([entry, values]) => [entry, median(values)]));
}

interface GcFigures {
  readonly scavenges: number;
  readonly nodesDiedInNew: number;
  readonly weakHandlesMs: number;
  readonly pauseMs: number;
}

const START = 'srtp-bench:start';
const END = 'srtp-bench:end';

/** Child mode: GC_PACKETS packets of one case between a full GC and a forced minor GC. */
function gcProbe(entry: Case): void {
  const collect = (globalThis as { gc?: (options?: { type: 'minor' | 'major' }) => void }).gc;
  if (collect === undefined) throw new Error('the GC probe needs --expose-gc');
  workload(entry.suite, entry.implementation, entry.direction, GC_PACKETS)();
  const run = workload(entry.suite, entry.implementation, entry.direction, GC_PACKETS);
  collect();
  process.stdout.write(`${START}\n`);
  run();
  collect({ type: 'minor' });
  process.stdout.write(`${END}\n`);
}

/** Runs the probe in a child and sums the scavenges `--trace-gc-nvp` printed between the marks. */
function measureGc(entry: Case): GcFigures {
  const args = ['--expose-gc', '--trace-gc-nvp', import.meta.filename, 'gc-probe', entry.suite, entry.implementation, entry.direction];
  const child = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`GC probe failed: ${child.stderr}`);
  const lines = child.stdout.split('\n');
  const between = lines.slice(lines.indexOf(START) + 1, lines.indexOf(END));
  const field = (line: string, name: string): number => Number(new RegExp(`(?:^|\\s)${name}=([0-9.]+)`).exec(line)?.[1] ?? 0);
  const scavenges = between.filter((line) => /\sgc=s\s/.test(line));
  const sum = (name: string): number => Math.round(scavenges.reduce((total, line) => total + field(line, name), 0) * 100) / 100;
  return {
    scavenges: scavenges.length,
    nodesDiedInNew: sum('nodes_died_in_new'),
    weakHandlesMs: sum('heap.external_weak_global_handles'),
    pauseMs: sum('pause'),
  };
}

const format = (value: number, digits = 0): string => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function main(): void {
  const cpu = measureCpu();
  const gc = new Map(CASES.map((entry) => [entry, measureGc(entry)]));
  const lines: string[] = [];
  lines.push(`sipedge SRTP benchmark, Node ${process.version}, ${PACKET_OCTETS}-octet RTP packets`);
  lines.push(`CPU: median of ${SAMPLES} interleaved samples of ${format(PACKETS_PER_SAMPLE)} packets; GC: scavenges over ${format(GC_PACKETS)} packets`);
  lines.push('');
  const widths = [36, 10, 10, 12, 14, 10, 13];
  const row = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[i]!))).join('');
  lines.push(row(['suite, direction', 'impl', 'us/pkt', 'scavenges', 'handles died', 'weak ms', 'scavenge ms']));
  for (const entry of CASES) {
    const figures = gc.get(entry)!;
    const cells = [`${entry.suite} ${entry.direction}`, entry.implementation, format(cpu.get(entry)!, 2), String(figures.scavenges)];
    lines.push(row([...cells, format(figures.nodesDiedInNew), format(figures.weakHandlesMs, 2), format(figures.pauseMs, 1)]));
  }
  lines.push('');
  for (const suite of SUITES) {
    for (const direction of DIRECTIONS) {
      const of = (implementation: Implementation): number => cpu.get(CASES.find((c) => c.suite === suite && c.direction === direction && c.implementation === implementation)!)!;
      lines.push(`${suite} ${direction}: per-key takes ${format(of('per-key') / of('one-shot'), 2)}x the CPU of one-shot`);
    }
  }
  if (sink === Number.NEGATIVE_INFINITY) lines.push('unreachable');
  process.stdout.write(`${lines.join('\n')}\n`);
  const json = {
    benchmark: 'srtp',
    node: process.version,
    packetOctets: PACKET_OCTETS,
    gcPackets: GC_PACKETS,
    cases: CASES.map((entry) => ({ ...entry, usPerPacket: Math.round(cpu.get(entry)! * 100) / 100, ...gc.get(entry)! })),
  };
  process.stdout.write(`${JSON.stringify(json)}\n`);
}

if (process.argv[2] === 'gc-probe') {
  gcProbe({ suite: process.argv[3] as SrtpSuite, implementation: process.argv[4] as Implementation, direction: process.argv[5] as Direction });
} else {
  main();
}
