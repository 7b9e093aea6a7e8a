/**
 * One measurement against one target: a registration level (C connections looping REGISTER -> 401
 * -> REGISTER with digest -> 200) or a hold (N connections open and register once, then stay idle).
 * The rig's load generator drives the load; this module reads the servers' CPU and memory from
 * /proc at the edges of the measured phase.
 */
import type { LoadgenResult, Phase } from './loadgen.ts';
import { countsAt, numberAt, runLoadgen } from './loadgen.ts';
import { busyShare, cpuSeconds, loadAverage, machineCpu, memoryOf, type MachineCpu, type Memory } from './proc.ts';
import type { ServerProcess, Target } from './targets.ts';

export interface Latency {
  readonly n: number;
  readonly p50: number | undefined;
  readonly p90: number | undefined;
  readonly p99: number | undefined;
  readonly max: number | undefined;
}

export function latencyAt(summary: Readonly<Record<string, unknown>>, key: string): Latency {
  return {
    n: numberAt(summary, key, 'n') ?? 0,
    p50: numberAt(summary, key, 'p50'),
    p90: numberAt(summary, key, 'p90'),
    p99: numberAt(summary, key, 'p99'),
    max: numberAt(summary, key, 'max'),
  };
}

/** CPU seconds per role, summed over that role's processes. */
export type CpuByRole = Record<string, number>;

export function cpuByRole(processes: readonly ServerProcess[]): CpuByRole {
  const byRole: CpuByRole = {};
  for (const { role, pid } of processes) byRole[role] = (byRole[role] ?? 0) + cpuSeconds(pid);
  return byRole;
}

export function cpuDelta(before: CpuByRole, after: CpuByRole): CpuByRole {
  const delta: CpuByRole = {};
  for (const role of new Set([...Object.keys(before), ...Object.keys(after)])) delta[role] = round((after[role] ?? 0) - (before[role] ?? 0), 3);
  return delta;
}

function sum(values: Readonly<Record<string, number>>): number {
  return Object.values(values).reduce((total, value) => total + value, 0);
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

// ---------------------------------------------------------------- registration levels

export interface Level {
  readonly connections: number;
  /** Registrations to run; the run also stops at `maxSeconds`, whichever comes first. */
  readonly total: number;
  readonly maxSeconds: number;
}

export interface LevelResult {
  readonly connections: number;
  readonly attempted: number;
  readonly ok: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly elapsedS: number;
  readonly regPerS: number;
  /** First REGISTER sent -> 200 received: two round trips, the 401 included. */
  readonly latencyMs: Latency;
  readonly connectMs: Latency;
  /** Server CPU over the registration phase (connections already open), seconds per role. */
  readonly serverCpuS: CpuByRole;
  /** Server CPU per successful registration, microseconds: the server's own processes (`core`). */
  readonly cpuPerRegUs: number | undefined;
  readonly cpuPerRegUsByRole: Readonly<Record<string, number>>;
  readonly loadgenCpuS: number;
  /** Share of the whole machine's CPU (both cores) that was busy during the phase. */
  readonly machineBusy: number;
  readonly loadAverage1: number;
  /** Seconds until the server was idle again after the run (it finishes closing sockets). */
  readonly settleS: number;
  readonly note: string | undefined;
}

export async function registerLevel(target: Target, level: Level): Promise<LevelResult> {
  const loadAverage1 = loadAverage()[0];
  let cpuStart: CpuByRole = {};
  let cpuEnd: CpuByRole = {};
  let machineStart: MachineCpu = machineCpu();
  let machineEnd: MachineCpu = machineStart;
  const onPhase = (phase: Phase): void => {
    if (phase === 'registering') {
      cpuStart = cpuByRole(target.processes());
      machineStart = machineCpu();
    } else if (phase === 'summary') {
      cpuEnd = cpuByRole(target.processes());
      machineEnd = machineCpu();
    }
  };
  const args = [
    '--concurrency', String(level.connections),
    '--total', String(level.total),
    '--max-seconds', String(level.maxSeconds),
    '--open-parallel', '200',
    '--label', `${target.name}-c${level.connections}`,
  ];
  const result = await runLoadgen('register', args, target, onPhase);
  const settleS = await settle(target);
  const s = result.summary;
  const ok = numberAt(s, 'ok') ?? 0;
  const measured = Object.keys(cpuEnd).length > 0 && Object.keys(cpuStart).length > 0;
  const serverCpuS = measured ? cpuDelta(cpuStart, cpuEnd) : {};
  const coreRoles = new Set(target.processes().filter((process) => process.core).map((process) => process.role));
  const coreCpuS = Object.entries(serverCpuS).reduce((total, [role, seconds]) => total + (coreRoles.has(role) ? seconds : 0), 0);
  const cpuPerRegUsByRole: Record<string, number> = {};
  for (const [role, seconds] of Object.entries(serverCpuS)) if (ok > 0) cpuPerRegUsByRole[role] = round((seconds / ok) * 1e6, 1);
  return {
    connections: level.connections,
    attempted: numberAt(s, 'attempted') ?? 0,
    ok,
    failed: numberAt(s, 'failed') ?? 0,
    errors: countsAt(s, 'errors'),
    elapsedS: numberAt(s, 'elapsed_s') ?? 0,
    regPerS: numberAt(s, 'reg_per_s') ?? 0,
    latencyMs: latencyAt(s, 'latency_ms'),
    connectMs: latencyAt(s, 'connect_ms'),
    serverCpuS,
    cpuPerRegUs: ok > 0 && measured ? round((coreCpuS / ok) * 1e6, 1) : undefined,
    cpuPerRegUsByRole,
    loadgenCpuS: round(result.loadgenCpuS, 2),
    machineBusy: round(busyShare(machineStart, machineEnd), 3),
    loadAverage1,
    settleS,
    note: noteFor(result),
  };
}

export function noteFor(result: LoadgenResult): string | undefined {
  const error = result.summary.error;
  if (typeof error === 'string') return `${error}; loadgen said: ${result.stderrTail.join(' | ')}`;
  if (result.exitCode !== 0) return `loadgen exited ${result.exitCode}: ${result.stderrTail.join(' | ')}`;
  return undefined;
}

// ---------------------------------------------------------------- idle registered sockets

export interface MemorySample {
  /** Seconds since every connection was registered. */
  readonly atS: number;
  readonly byRole: Readonly<Record<string, Memory>>;
}

export interface HoldResult {
  readonly requested: number;
  readonly registered: number;
  readonly stillOpen: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Open + register every connection (`open-parallel` 200 at a time). */
  readonly rampS: number;
  readonly registerMs: Latency;
  readonly connectMs: Latency;
  readonly baseline: Readonly<Record<string, Memory>>;
  readonly samples: readonly MemorySample[];
  /** Memory added per registered socket, KiB, over the server's own processes (`core`): just registered, and after the idle hold. */
  readonly perSocketKiB: {
    readonly registered: Memory | undefined;
    readonly idle: Memory | undefined;
  };
  /** RSS added per registered socket by each role, KiB: just registered, and after the idle hold. */
  readonly perSocketRssKiBByRole: Readonly<Record<string, { readonly registered: number | undefined; readonly idle: number | undefined }>>;
  /** Kamailio's shared memory in use before and after registering (KiB), when it can tell. */
  readonly sharedMemoryKiB: { readonly before: number; readonly registered: number } | undefined;
  readonly settleS: number;
  readonly note: string | undefined;
}

function memoryByRole(processes: readonly ServerProcess[]): Record<string, Memory> {
  const byRole: Record<string, Memory> = {};
  for (const role of new Set(processes.map((process) => process.role))) {
    byRole[role] = memoryOf(processes.filter((process) => process.role === role).map((process) => process.pid));
  }
  return byRole;
}

/** The memory of the roles in `roles` together. */
function total(byRole: Readonly<Record<string, Memory>>, roles: ReadonlySet<string>): Memory {
  return Object.entries(byRole).filter(([role]) => roles.has(role)).map(([, memory]) => memory).reduce((acc, memory) => ({ rssKiB: acc.rssKiB + memory.rssKiB, pssKiB: acc.pssKiB + memory.pssKiB }), { rssKiB: 0, pssKiB: 0 });
}

export async function holdRun(
  target: Target,
  connections: number,
  holdSeconds: number,
  sharedMemory?: () => Promise<number | undefined>,
): Promise<HoldResult> {
  const baseline = memoryByRole(target.processes());
  const shmBefore = sharedMemory === undefined ? undefined : await sharedMemory();
  const samples: MemorySample[] = [];
  let registeredAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let shmRegistered: Promise<number | undefined> | undefined;
  const sample = (): void => {
    samples.push({ atS: round((performance.now() - registeredAt) / 1000, 1), byRole: memoryByRole(target.processes()) });
  };
  const onPhase = (phase: Phase): void => {
    if (phase === 'all-registered') {
      registeredAt = performance.now();
      sample();
      shmRegistered = sharedMemory?.();
      timer = setInterval(sample, 1000);
    } else if (phase === 'hold-done' && timer !== undefined) {
      // The generator closes its sockets right after this line: the samples end here.
      clearInterval(timer);
      timer = undefined;
    }
  };
  const args = [
    '--connections', String(connections),
    '--hold-seconds', String(holdSeconds),
    '--open-parallel', '200',
    '--max-seconds', String(holdSeconds + 60),
    '--label', `${target.name}-hold${connections}`,
  ];
  const result = await runLoadgen('hold', args, target, onPhase);
  if (timer !== undefined) clearInterval(timer);
  const shmAfter = shmRegistered === undefined ? undefined : await shmRegistered;
  const settleS = await settle(target);
  const s = result.summary;
  const registered = numberAt(s, 'registered') ?? 0;
  const coreRoles = new Set(target.processes().filter((process) => process.core).map((process) => process.role));
  const base = total(baseline, coreRoles);
  const perSocket = (memory: Memory | undefined): Memory | undefined =>
    memory === undefined || registered === 0
      ? undefined
      : { rssKiB: round((memory.rssKiB - base.rssKiB) / registered, 1), pssKiB: round((memory.pssKiB - base.pssKiB) / registered, 1) };
  const first = samples[0];
  const last = samples.at(-1);
  const perRole = (role: string, sampled: MemorySample | undefined): number | undefined => {
    const now = sampled?.byRole[role];
    const before = baseline[role];
    return now === undefined || before === undefined || registered === 0 ? undefined : round((now.rssKiB - before.rssKiB) / registered, 1);
  };
  const perSocketRssKiBByRole = Object.fromEntries(
    Object.keys(baseline).map((role) => [role, { registered: perRole(role, first), idle: perRole(role, last) }]),
  );
  return {
    requested: numberAt(s, 'requested') ?? connections,
    registered,
    stillOpen: numberAt(s, 'still_open_after_hold') ?? 0,
    errors: countsAt(s, 'errors'),
    rampS: numberAt(s, 'ramp_s') ?? 0,
    registerMs: latencyAt(s, 'reg_latency_ms'),
    connectMs: latencyAt(s, 'connect_ms'),
    baseline,
    samples,
    perSocketKiB: {
      registered: perSocket(first === undefined ? undefined : total(first.byRole, coreRoles)),
      idle: perSocket(last === undefined ? undefined : total(last.byRole, coreRoles)),
    },
    perSocketRssKiBByRole,
    sharedMemoryKiB: shmBefore !== undefined && shmAfter !== undefined ? { before: shmBefore, registered: shmAfter } : undefined,
    settleS,
    note: noteFor(result),
  };
}

// ---------------------------------------------------------------- settling

/**
 * Waits until the server's processes use under 5 % of one core over half a second (at most 20 s),
 * so that one run's tail (closing a thousand sockets, say) is not billed to the next run.
 */
export async function settle(target: Target, limitS = 20): Promise<number> {
  const started = performance.now();
  const core = (): ServerProcess[] => target.processes().filter((process) => process.core);
  for (;;) {
    const before = sum(cpuByRole(core()));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const used = sum(cpuByRole(core())) - before;
    const elapsedS = (performance.now() - started) / 1000;
    if (used < 0.025 || elapsedS >= limitS) return round(elapsedS, 1);
  }
}
