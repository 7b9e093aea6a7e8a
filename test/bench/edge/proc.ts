/**
 * What the benchmark reads from Linux's /proc about the server processes: CPU time, resident and
 * proportional memory, who listens on a port, the machine's load. Nothing here asks a server for
 * its own figures, so sipedge's workerd and Kamailio are measured the same way (Kamailio's rig
 * does the same in `scripts/measure.sh`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of the CPU times in /proc/PID/stat (`getconf CLK_TCK`, 100 on Linux/x86). */
export const CLOCK_TICKS = readClockTicks();

function readClockTicks(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The fields of /proc/PID/stat after `(comm)`: field 3 (state) is index 0. */
function statFields(pid: number): { comm: string; rest: string[] } | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  return { comm: text.slice(open + 1, close), rest: text.slice(close + 2).trim().split(' ') };
}

export function processName(pid: number): string | undefined {
  return statFields(pid)?.comm;
}

export function isAlive(pid: number): boolean {
  return statFields(pid) !== undefined;
}

/** User + system CPU of a live process, in seconds (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  if (fields === undefined) return 0;
  // stat fields 14 and 15 (utime, stime) are indexes 11 and 12 after the state field.
  return (Number(fields.rest[11] ?? 0) + Number(fields.rest[12] ?? 0)) / CLOCK_TICKS;
}

/** Every descendant of `root` (not `root` itself), found through the parent pid of each process. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = Number(statFields(pid)?.rest[1] ?? -1);
    const list = children.get(parent) ?? [];
    list.push(pid);
    children.set(parent, list);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const next = queue.shift();
    if (next === undefined) break;
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

export interface Memory {
  /** Resident set size, KiB. */
  readonly rssKiB: number;
  /** Proportional set size (shared pages divided among their users), KiB. */
  readonly pssKiB: number;
}

export function memoryOf(pids: readonly number[]): Memory {
  let rssKiB = 0;
  let pssKiB = 0;
  for (const pid of pids) {
    rssKiB += kibField(readText(`/proc/${pid}/status`), 'VmRSS:');
    pssKiB += kibField(readText(`/proc/${pid}/smaps_rollup`), 'Pss:');
  }
  return { rssKiB, pssKiB };
}

function kibField(text: string | undefined, name: string): number {
  if (text === undefined) return 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name)) return Number(line.slice(name.length).trim().split(/\s+/)[0] ?? 0);
  }
  return 0;
}

/** The pid that holds the listening TCP socket on 127.0.0.1:`port` (or 0.0.0.0), if it is readable. */
export function listenerOf(port: number, among: readonly number[]): number | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = readText(table) ?? '';
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      // st 0A is LISTEN; the port is the hex after the colon.
      if (local === undefined || cols[3] !== '0A') continue;
      if (Number.parseInt(local.slice(local.indexOf(':') + 1), 16) === port && cols[9] !== undefined) inodes.add(cols[9]);
    }
  }
  for (const pid of among) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target.startsWith('socket:[') && inodes.has(target.slice(8, -1))) return pid;
      } catch {
        // The descriptor closed while we looked.
      }
    }
  }
  return undefined;
}

/** True when something on this machine listens on TCP `port`. */
export function portInUse(port: number): boolean {
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = readText(table) ?? '';
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (local !== undefined && cols[3] === '0A' && Number.parseInt(local.slice(local.indexOf(':') + 1), 16) === port) return true;
    }
  }
  return false;
}

/** True when some socket on this machine is bound to UDP `port` (rtpengine's fixed control port). */
export function udpPortInUse(port: number): boolean {
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    const text = readText(table) ?? '';
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local !== undefined && Number.parseInt(local.slice(local.indexOf(':') + 1), 16) === port) return true;
    }
  }
  return false;
}

/** 1-, 5- and 15-minute load averages. */
export function loadAverage(): [number, number, number] {
  const parts = (readText('/proc/loadavg') ?? '0 0 0').split(' ').map(Number);
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
}

/** Busy and total CPU time of the whole machine, in ticks (first line of /proc/stat). */
export interface MachineCpu {
  readonly busy: number;
  readonly total: number;
}

export function machineCpu(): MachineCpu {
  const line = (readText('/proc/stat') ?? '').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  // idle and iowait are fields 4 and 5.
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** Share of the machine's CPU (0..1, all cores) that was busy between two readings. */
export function busyShare(before: MachineCpu, after: MachineCpu): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}
