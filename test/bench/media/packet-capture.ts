/**
 * A tcpdump capture of loopback traffic to a temporary pcap file, with the kernel's nanosecond
 * timestamps: where a packet enters a relay and where the packet it causes leaves it, timed by
 * the kernel, not by the event loop of the process that sent it. Only the relay's ports are
 * captured (a BPF filter), headers only (a short snapshot length), with a large kernel buffer so
 * nothing is dropped; tcpdump's own count of kernel drops is kept for the report.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcap, type PcapFile } from './pcap-reader.ts';

/** Eth + IPv4 + UDP + RTP header + a little: enough to read sequence number, timestamp and SSRC. */
const SNAPSHOT_OCTETS = 96;
const BUFFER_KIB = 32_768;

export interface CaptureResult {
  readonly pcap: PcapFile;
  /** tcpdump's "packets dropped by kernel" (NaN when it did not say). */
  readonly droppedByKernel: number;
}

export class PacketCapture {
  readonly #child: ChildProcess;
  readonly #directory: string;
  readonly #file: string;
  #stderr = '';

  private constructor(child: ChildProcess, directory: string, file: string) {
    this.#child = child;
    this.#directory = directory;
    this.#file = file;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
  }

  /** Where tcpdump is, or why a capture cannot be made here. */
  static available(): { ok: true; binary: string } | { ok: false; why: string } {
    const which = spawnSync('sh', ['-c', 'command -v tcpdump'], { encoding: 'utf8' });
    const binary = (which.stdout ?? '').trim();
    if (which.status !== 0 || binary === '') return { ok: false, why: 'tcpdump is not installed (apt-get install -y tcpdump)' };
    return { ok: true, binary };
  }

  /** Starts capturing on `lo` what `filter` (BPF) lets through; resolves once tcpdump listens. */
  static async start(binary: string, filter: string): Promise<PacketCapture> {
    const directory = mkdtempSync(join(tmpdir(), 'sipedge-bench-media-'));
    const file = join(directory, 'relay.pcap');
    // As root tcpdump would drop to its own user, who cannot write into a private temporary folder.
    const keepUser = process.getuid?.() === 0 ? ['-Z', 'root'] : [];
    const child = spawn(
      binary,
      ['-i', 'lo', '-n', '-q', '-B', String(BUFFER_KIB), '-s', String(SNAPSHOT_OCTETS), '--time-stamp-precision=nano', ...keepUser, '-w', file, filter],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const capture = new PacketCapture(child, directory, file);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`tcpdump did not start listening within 5 s: ${capture.#stderr}`)), 5000);
      const onExit = (code: number | null): void => fail(new Error(`tcpdump exited (${code}): ${capture.#stderr.trim()}`));
      const onData = (): void => {
        if (!capture.#stderr.includes('listening on')) return;
        clearTimeout(timer);
        child.off('exit', onExit);
        child.off('error', onError);
        child.stderr?.off('data', onData);
        resolve();
      };
      const onError = (error: Error): void => fail(new Error(`tcpdump did not run: ${error.message}`));
      function fail(error: Error): void {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.off('error', onError);
        child.stderr?.off('data', onData);
        capture.#discard();
        reject(error);
      }
      child.on('exit', onExit);
      child.on('error', onError);
      child.stderr?.on('data', onData);
    });
    return capture;
  }

  /** Stops tcpdump (SIGINT: it flushes the file), reads the capture and removes the file. */
  async stop(): Promise<CaptureResult> {
    if (this.#child.exitCode === null) {
      const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
      this.#child.kill('SIGINT');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    try {
      const pcap = readPcap(readFileSync(this.#file));
      const dropped = /(\d+) packets? dropped by kernel/.exec(this.#stderr);
      return { pcap, droppedByKernel: dropped === null ? Number.NaN : Number(dropped[1]) };
    } finally {
      this.#discard();
    }
  }

  #discard(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    rmSync(this.#directory, { recursive: true, force: true });
  }
}

/** A BPF filter for UDP to or from any of the inclusive port ranges. */
export function udpPortRangesFilter(ranges: readonly (readonly [number, number])[]): string {
  return `udp and (${ranges.map(([first, last]) => `portrange ${first}-${last}`).join(' or ')})`;
}
