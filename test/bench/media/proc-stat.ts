/** CPU time of another process, from /proc (Linux): user + system, all threads, in seconds. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const answer = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const parsed = Number((answer.stdout ?? '').trim());
    clockTicks = Number.isFinite(parsed) && parsed > 0 ? parsed : 100;
  }
  return clockTicks;
}

export function processCpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

/**
 * Seconds a process has spent runnable but waiting for a core (`schedstat`, second field, in ns):
 * time the machine, not the process, held it up. `main`: its main thread only (for Node, the event
 * loop); `all`: summed over its threads (rtpengine relays on worker threads).
 */
export function runQueueWaitSecondsOf(pid: number, threads: 'main' | 'all'): number {
  const read = (path: string): number => Number(readFileSync(path, 'utf8').trim().split(' ')[1]) / 1e9;
  if (threads === 'main') return read(`/proc/${pid}/schedstat`);
  let sum = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += read(`/proc/${pid}/task/${task}/schedstat`);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return sum;
}

/**
 * The machine's CPU time so far, in clock ticks (`/proc/stat`, first line): all of it, and the part
 * a hypervisor took for other guests (`steal`), which no scheduling inside this machine gets back.
 */
export function machineCpuTicks(): { readonly total: number; readonly steal: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: fields.reduce((sum, value) => sum + value, 0), steal: fields[7] ?? 0 };
}

/** This process's own CPU seconds. */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}
