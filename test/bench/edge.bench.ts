/**
 * `npm run bench:edge`: SIP registrations over WebSocket against the local edge and, in the same
 * run, against the reference rig's Kamailio, driven by the same load generator.
 *
 * - sipedge: `startEdge` (workers/local/edge-runner.ts) with a fresh state folder, N users created
 *   through `PUT /api/v1/users/:username`.
 * - Kamailio (when /usr/sbin/kamailio exists): the rig's own `scripts/start-kamailio.sh` and
 *   `kamailio.cfg`, with `RUN_DIR` in a temporary folder, stopped by its pid file (`stop.sh`).
 *   Without it the bench still measures sipedge and says loudly that the reference is missing.
 * - Load: the rig's `loadgen/loadgen.mjs`, unmodified, as a child process (`test/bench/edge/loadgen.ts`),
 *   so both servers get byte-for-byte the same client behaviour.
 *
 * Steps, each run against both servers in turn (the order alternates, so that a burst of load from
 * elsewhere on this shared machine does not always land on the same server):
 *   REGISTER -> 401 -> REGISTER (digest) -> 200 in a loop at 1, 10, 100 connections; a hold of
 *   1,000 idle registered connections (memory per socket); then the loop at 1,000 connections.
 * CPU comes from /proc/PID/stat of the server processes, read when the registration phase starts
 * and ends; memory from /proc/PID/status and smaps_rollup.
 *
 * Prints a table, then as the last line one JSON object with every figure.
 * Environment: SIPEDGE_BENCH_CONNECTIONS (default "1,10,100,1000"), SIPEDGE_RIG_DIR.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LOADGEN, wsInUse } from './edge/loadgen.ts';
import { holdRun, registerLevel, round, settle, type HoldResult, type Level } from './edge/measure.ts';
import { loadAverage } from './edge/proc.ts';
import { renderJson, renderTable, type LevelOutcome, type TargetReport } from './edge/report.ts';
import { kamailioUnavailable, startEdgeTarget, startKamailioTarget, type KamailioTarget, type Target } from './edge/targets.ts';

/** Registrations per level and the time cap of each run; Kamailio finishes by count, sipedge may hit the cap. */
const LEVELS: readonly Level[] = [
  { connections: 1, total: 3000, maxSeconds: 10 },
  { connections: 10, total: 10000, maxSeconds: 12 },
  { connections: 100, total: 15000, maxSeconds: 15 },
  { connections: 1000, total: 15000, maxSeconds: 30 },
];
const HOLD_SECONDS = 15;

const wanted = (process.env.SIPEDGE_BENCH_CONNECTIONS ?? '1,10,100,1000').split(',').map((value) => Number(value.trim()));
const levels = LEVELS.filter((level) => wanted.includes(level.connections));
const holdConnections = Math.max(...levels.map((level) => level.connections));
const users = holdConnections;

const progress = (line: string): void => {
  process.stderr.write(`[bench:edge] ${line}\n`);
};

if (!existsSync(LOADGEN)) {
  process.stderr.write(`the reference rig's load generator is missing: ${LOADGEN} (set SIPEDGE_RIG_DIR)\n`);
  process.exit(1);
}

const startedAt = new Date();
const loadAverageStart = loadAverage();
const scratch = mkdtempSync(join(tmpdir(), 'sipedge-bench-edge-'));
const running: Target[] = [];

async function cleanUp(): Promise<void> {
  for (const target of running.splice(0)) {
    try {
      await target.stop();
    } catch (error) {
      progress(`stopping ${target.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  rmSync(scratch, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping the servers`);
    void cleanUp().finally(() => process.exit(130));
  });
}

/** Room for the 1,000-connection level: open files (each edge socket holds ~5 descriptors: 2 sockets and its object's SQLite files) and memory. */
function roomFor(connections: number): string | undefined {
  const limits = readFileSync('/proc/self/limits', 'utf8').split('\n').find((line) => line.startsWith('Max open files'));
  const soft = Number(limits?.split(/\s+/)[3] ?? Number.NaN);
  if (Number.isFinite(soft) && soft < connections * 8) return `open-file limit ${soft} is under ${connections * 8}`;
  const available = readFileSync('/proc/meminfo', 'utf8').split('\n').find((line) => line.startsWith('MemAvailable:'));
  const availableKiB = Number(available?.split(/\s+/)[1] ?? Number.NaN);
  if (Number.isFinite(availableKiB) && availableKiB < connections * 2048) return `only ${Math.round(availableKiB / 1024)} MiB of memory available`;
  return undefined;
}

try {
  progress(`starting the edge and creating ${users} users through the API`);
  const edge = await startEdgeTarget({ stateDir: join(scratch, 'edge-state'), users });
  running.push(edge);
  progress(`edge at ${edge.url}, domain ${edge.domain}; ${users} users created in ${edge.usersCreatedInS.toFixed(1)} s`);

  let kamailio: KamailioTarget | undefined;
  let referenceUnavailable = kamailioUnavailable();
  if (referenceUnavailable === undefined) {
    try {
      kamailio = await startKamailioTarget({ runDir: join(scratch, 'kamailio-run'), users });
      running.push(kamailio);
      progress(`Kamailio started by the rig's script, RUN_DIR ${kamailio.runDir}`);
    } catch (error) {
      referenceUnavailable = error instanceof Error ? error.message : String(error);
    }
  }
  if (referenceUnavailable !== undefined) {
    progress('');
    progress(`!!! REFERENCE NOT AVAILABLE: ${referenceUnavailable}`);
    progress('!!! measuring sipedge alone; no ratios will be printed');
    progress('');
  }
  const targets: Target[] = kamailio === undefined ? [edge] : [edge, kamailio];
  const outcomes = new Map<Target, LevelOutcome[]>(targets.map((target) => [target, []]));
  const holds = new Map<Target, HoldResult>();
  await Promise.all(targets.map((target) => settle(target)));

  let step = 0;
  const inTurn = (): Target[] => (step++ % 2 === 0 ? targets : [...targets].reverse());
  for (const level of levels) {
    if (level.connections === holdConnections) {
      const room = roomFor(level.connections);
      if (room !== undefined) {
        progress(`skipping ${level.connections} connections: ${room}`);
        for (const target of targets) outcomes.get(target)?.push({ connections: level.connections, skipped: room });
        continue;
      }
      for (const target of inTurn()) {
        progress(`${target.name}: hold ${level.connections} registered connections for ${HOLD_SECONDS} s`);
        const hold = await holdRun(target, level.connections, HOLD_SECONDS, target === kamailio ? kamailio.sharedMemoryUsedKiB : undefined);
        holds.set(target, hold);
        progress(`${target.name}: ${hold.registered}/${hold.requested} registered in ${hold.rampS} s, settled in ${hold.settleS} s`);
      }
    }
    for (const target of inTurn()) {
      const hold = holds.get(target);
      if (level.connections === holdConnections && level.connections >= 1000 && hold !== undefined && hold.registered < 0.9 * level.connections) {
        const skipped = `the hold registered only ${hold.registered} of ${level.connections} connections`;
        progress(`${target.name}: skipping ${level.connections} connections: ${skipped}`);
        outcomes.get(target)?.push({ connections: level.connections, skipped });
        continue;
      }
      progress(`${target.name}: ${level.connections} connection(s), up to ${level.total} registrations or ${level.maxSeconds} s`);
      const result = await registerLevel(target, level);
      outcomes.get(target)?.push({ connections: level.connections, result });
      progress(
        `${target.name}: c${level.connections} ${result.ok}/${result.attempted} ok, ${result.regPerS} reg/s, ` +
          `p50 ${result.latencyMs.p50 ?? '-'} ms, p99 ${result.latencyMs.p99 ?? '-'} ms, ${result.cpuPerRegUs ?? '-'} us CPU/reg`,
      );
    }
  }

  const reportOf = (target: Target, extra: Record<string, unknown>): TargetReport => ({
    name: target.name,
    url: target.url,
    domain: target.domain,
    levels: outcomes.get(target) ?? [],
    hold: holds.get(target),
    extra,
  });
  const report = {
    startedAt: startedAt.toISOString(),
    durationS: round((Date.now() - startedAt.getTime()) / 1000, 1),
    machine: { cores: availableParallelism(), loadAverageStart, loadAverageEnd: loadAverage(), node: process.version },
    loadgen: { path: resolve(LOADGEN), ws: wsInUse(), processes: 1 },
    sipedge: reportOf(edge, { users, usersCreatedInS: round(edge.usersCreatedInS, 1) }),
    kamailio: kamailio === undefined ? undefined : reportOf(kamailio, { users }),
    referenceUnavailable,
  };
  await cleanUp();
  process.stdout.write(`${renderTable(report)}\n\n`);
  process.stdout.write(`${renderJson(report)}\n`);
} catch (error) {
  await cleanUp();
  process.stderr.write(`bench:edge failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
