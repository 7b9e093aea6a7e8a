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
 * Parts (SIPEDGE_BENCH_PARTS, default "floor,register,message,call"), each run against both servers in turn
 * (the order alternates, so that a burst of load from elsewhere on this shared machine does not
 * always land on the same server):
 * - floor: not a server but workerd itself: a Durable Object answering SIP-sized WebSocket messages
 *   with no SIP work, alone and through one RPC to a second object (`edge/platform-floor.ts`): the
 *   least the edge's runtime costs per exchange, measured before anything else starts.
 * - register: REGISTER -> 401 -> REGISTER (digest) -> 200 in a loop at 1, 10, 100 connections; a
 *   hold of 1,000 idle registered connections (memory per socket); then the loop at 1,000.
 * - message: the loadgen's `message` mode, 10 sender/receiver pairs of registered WebSocket users.
 * - call: the loadgen's `call` mode at 1 and 10 concurrent callers, calling one registered WebSocket
 *   user played by `edge/callee.ts` (the loadgen answers INVITEs with 486, so it cannot be the
 *   callee). For Kamailio the rig's rtpengine is started too: kamailio.cfg hands every INVITE's SDP
 *   to it.
 * Each part uses its own users (register: user1..N; message and call: the numbers after), so no
 * part meets another's leftover bindings. When message or call runs, Kamailio is started with
 * `-A WITH_CALLAUTH`, so it challenges initial INVITE and MESSAGE with 407 as the edge does.
 * Kamailio's fixed ports (8080, 5060; rtpengine's 2223) may be held by another run of this bench:
 * the bench waits and retries before declaring the reference unavailable.
 * CPU comes from /proc/PID/stat of the server processes, read when the measured loop starts and
 * ends; memory from /proc/PID/status and smaps_rollup.
 *
 * Prints tables, then as the last line one JSON object with every figure.
 * Environment: SIPEDGE_BENCH_PARTS, SIPEDGE_BENCH_CONNECTIONS (default "1,10,100,1000"),
 * SIPEDGE_BENCH_CALLERS (default "1,10"), SIPEDGE_RIG_DIR.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LOADGEN, wsInUse } from './edge/loadgen.ts';
import { holdRun, registerLevel, round, settle, type HoldResult, type Level } from './edge/measure.ts';
import { measurePlatformFloor, renderFloor, type FloorShape } from './edge/platform-floor.ts';
import { loadAverage, portInUse, udpPortInUse } from './edge/proc.ts';
import { renderJson, renderTable, type CallOutcome, type LevelOutcome, type MessageOutcome, type TargetReport } from './edge/report.ts';
import { callRun, messageRun, startCallee, type Callee, type CallSpec, type MessageSpec } from './edge/traffic.ts';
import {
  kamailioUnavailable,
  rtpengineUnavailable,
  startEdgeTarget,
  startKamailioTarget,
  startRtpengine,
  type KamailioTarget,
  type ServerProcess,
  type Target,
  type Unavailable,
} from './edge/targets.ts';

/** Registrations per level and the time cap of each run; Kamailio finishes by count, sipedge may hit the cap. */
const LEVELS: readonly Level[] = [
  { connections: 1, total: 3000, maxSeconds: 10 },
  { connections: 10, total: 10000, maxSeconds: 12 },
  { connections: 100, total: 15000, maxSeconds: 15 },
  { connections: 1000, total: 15000, maxSeconds: 30 },
];
const HOLD_SECONDS = 15;
/** MESSAGE pairs, and the cap per run (sipedge is time-capped, Kamailio usually finishes by count). */
const MESSAGE: Omit<MessageSpec, 'first'> = { pairs: 10, total: 20000, maxSeconds: 8 };
const CALL_LEVELS: readonly Omit<CallSpec, 'first'>[] = [
  { callers: 1, calls: 1500, maxSeconds: 8 },
  { callers: 10, calls: 4000, maxSeconds: 10 },
];
/** Waiting for Kamailio's or rtpengine's fixed ports when another run holds them. */
const PORT_TRIES = 6;
const PORT_WAIT_S = 10;

const PARTS = ['floor', 'register', 'message', 'call'] as const;
type Part = (typeof PARTS)[number];
const partsAsked = (process.env.SIPEDGE_BENCH_PARTS ?? PARTS.join(',')).split(',').map((value) => value.trim()).filter((value) => value !== '');
const unknownParts = partsAsked.filter((value) => !PARTS.some((part) => part === value));
if (unknownParts.length > 0 || partsAsked.length === 0) {
  process.stderr.write(`SIPEDGE_BENCH_PARTS: expected a comma-separated subset of ${PARTS.join(',')}, got "${process.env.SIPEDGE_BENCH_PARTS ?? ''}"\n`);
  process.exit(2);
}
const parts: readonly Part[] = PARTS.filter((part) => partsAsked.includes(part));
const has = (part: Part): boolean => parts.includes(part);

const wanted = (process.env.SIPEDGE_BENCH_CONNECTIONS ?? '1,10,100,1000').split(',').map((value) => Number(value.trim()));
const levels = has('register') ? LEVELS.filter((level) => wanted.includes(level.connections)) : [];
const holdConnections = levels.length === 0 ? 0 : Math.max(...levels.map((level) => level.connections));
const wantedCallers = (process.env.SIPEDGE_BENCH_CALLERS ?? '1,10').split(',').map((value) => Number(value.trim()));
const callLevels = has('call') ? CALL_LEVELS.filter((level) => wantedCallers.includes(level.callers)) : [];

// Users: register user1..user{holdConnections}; then the message pairs; then the callers and the callee.
const messageFirst = holdConnections + 1;
const callFirst = messageFirst + (has('message') ? 2 * MESSAGE.pairs : 0);
const maxCallers = callLevels.length === 0 ? 0 : Math.max(...callLevels.map((level) => level.callers));
const calleeUser = `user${callFirst + maxCallers}`;
const users = callLevels.length > 0 ? callFirst + maxCallers : callFirst - 1;

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
interface Running {
  readonly name: string;
  stop(): Promise<unknown>;
}
/** What to stop on the way out, stopped newest first. */
const running: Running[] = [];
const release = (item: Running): void => {
  const index = running.indexOf(item);
  if (index >= 0) running.splice(index, 1);
};

async function cleanUp(): Promise<void> {
  for (const target of running.splice(0).reverse()) {
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Starts a reference daemon that needs fixed ports, waiting and retrying while another run holds
 * them (`busy`); any other obstacle is final at once.
 */
async function withPortRetry<T>(what: string, check: () => Unavailable | undefined, start: (attempt: number) => Promise<T>, busyNow: () => boolean): Promise<{ ok: true; value: T } | { ok: false; reason: string }> {
  for (let attempt = 1; ; attempt += 1) {
    let reason: string;
    let busy: boolean;
    const blocked = check();
    if (blocked === undefined) {
      try {
        return { ok: true, value: await start(attempt) };
      } catch (error) {
        reason = messageOf(error);
        busy = busyNow();
      }
    } else {
      reason = blocked.reason;
      busy = blocked.busy;
    }
    if (!busy || attempt >= PORT_TRIES) {
      return { ok: false, reason: attempt > 1 ? `${reason} (still, after ${attempt} tries ${PORT_WAIT_S} s apart)` : reason };
    }
    progress(`${what}: ${reason}; waiting ${PORT_WAIT_S} s (try ${attempt} of ${PORT_TRIES})`);
    await sleep(PORT_WAIT_S * 1000);
  }
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
  progress(`parts: ${parts.join(', ')}`);
  const platformFloor: FloorShape[] | undefined = has('floor') ? await measurePlatformFloor(progress) : undefined;
  progress(`starting the edge and creating ${users} users through the API`);
  const edge = await startEdgeTarget({ stateDir: join(scratch, 'edge-state'), users });
  running.push(edge);
  progress(`edge at ${edge.url}, domain ${edge.domain}; ${users} users created in ${edge.usersCreatedInS.toFixed(1)} s`);

  const notes: string[] = [];
  const kamailioArgs = has('message') || has('call') ? ['-A', 'WITH_CALLAUTH'] : [];
  const reference = await withPortRetry(
    'Kamailio',
    kamailioUnavailable,
    (attempt) => startKamailioTarget({ runDir: join(scratch, `kamailio-run-${attempt}`), users, args: kamailioArgs }),
    () => portInUse(8080) || portInUse(5060),
  );
  const kamailio: KamailioTarget | undefined = reference.ok ? reference.value : undefined;
  const referenceUnavailable = reference.ok ? undefined : reference.reason;
  if (kamailio !== undefined) {
    running.push(kamailio);
    progress(`Kamailio started by the rig's script${kamailioArgs.length > 0 ? ` with ${kamailioArgs.join(' ')}` : ''}, RUN_DIR ${kamailio.runDir}`);
    if (kamailioArgs.length > 0) notes.push('Kamailio runs with -A WITH_CALLAUTH: it challenges initial INVITE and MESSAGE with 407, as the edge does (REGISTER unchanged)');
  } else {
    progress('');
    progress(`!!! REFERENCE NOT AVAILABLE: ${referenceUnavailable ?? ''}`);
    progress('!!! measuring sipedge alone; no ratios will be printed');
    progress('');
  }
  const targets: Target[] = kamailio === undefined ? [edge] : [edge, kamailio];
  const outcomes = new Map<Target, LevelOutcome[]>(targets.map((target) => [target, []]));
  const holds = new Map<Target, HoldResult>();
  const messages = new Map<Target, MessageOutcome>();
  const calls = new Map<Target, CallOutcome[]>(targets.map((target) => [target, []]));
  const callees = new Map<Target, { user: string; counts: Readonly<Record<string, number>> }>();
  await Promise.all(targets.map((target) => settle(target)));

  let step = 0;
  const inTurn = (): Target[] => (step++ % 2 === 0 ? targets : [...targets].reverse());

  // ---------------------------------------------------------------- register
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

  // ---------------------------------------------------------------- message
  if (has('message')) {
    for (const target of inTurn()) {
      progress(`${target.name}: MESSAGE, ${MESSAGE.pairs} pairs (user${messageFirst}..user${messageFirst + 2 * MESSAGE.pairs - 1}), up to ${MESSAGE.total} or ${MESSAGE.maxSeconds} s`);
      try {
        const result = await messageRun(target, { ...MESSAGE, first: messageFirst });
        messages.set(target, { result });
        progress(`${target.name}: message ${result.ok}/${result.attempted} ok, ${result.msgPerS} msg/s, p50 ${result.latencyMs.p50 ?? '-'} ms, p99 ${result.latencyMs.p99 ?? '-'} ms, ${result.cpuPerMsgUs ?? '-'} us CPU/msg`);
      } catch (error) {
        messages.set(target, { skipped: messageOf(error) });
        progress(`${target.name}: message run failed: ${messageOf(error)}`);
      }
    }
  }

  // ---------------------------------------------------------------- calls
  if (callLevels.length > 0) {
    const skippedCalls = new Map<Target, string>();
    const companions = new Map<Target, ServerProcess[]>();
    if (kamailio !== undefined) {
      const media = await withPortRetry('rtpengine', rtpengineUnavailable, (attempt) => startRtpengine(join(scratch, `rtpengine-run-${attempt}`)), () => udpPortInUse(2223));
      if (media.ok) {
        running.push({ name: 'rtpengine', stop: () => media.value.stop() });
        companions.set(kamailio, [media.value.process]);
        progress(`rtpengine started by the rig's script, pid ${media.value.process.pid}`);
        notes.push("Kamailio's calls go through the rig's rtpengine (kamailio.cfg anchors every WebRTC->WebRTC offer/answer there); the edge passes SDP through");
      } else {
        const reason = `rtpengine unavailable (${media.reason}); kamailio.cfg sends every INVITE's SDP to it, so Kamailio's calls were not measured`;
        skippedCalls.set(kamailio, reason);
        notes.push(`!!! CALLS MEASURED ON THE EDGE ALONE: ${reason}`);
        progress(`!!! ${reason}`);
      }
    } else {
      notes.push('!!! CALLS MEASURED ON THE EDGE ALONE: the reference is not available');
    }
    const started = new Map<Target, Callee>();
    for (const target of targets) {
      if (skippedCalls.has(target)) continue;
      try {
        const callee = await startCallee(target, calleeUser);
        const entry: Running = { name: `${target.name} callee`, stop: () => callee.stop() };
        running.push(entry);
        started.set(target, callee);
        progress(`${target.name}: callee ${calleeUser} registered (pid ${callee.pid})`);
      } catch (error) {
        skippedCalls.set(target, `the callee could not register: ${messageOf(error)}`);
        progress(`${target.name}: the callee could not register: ${messageOf(error)}`);
      }
    }
    for (const level of callLevels) {
      for (const target of inTurn()) {
        const callee = started.get(target);
        const skipped = skippedCalls.get(target);
        if (callee === undefined || skipped !== undefined) {
          calls.get(target)?.push({ callers: level.callers, skipped: skipped ?? 'no callee' });
          continue;
        }
        progress(`${target.name}: calls, ${level.callers} caller(s) from user${callFirst} to ${callee.user}, up to ${level.calls} or ${level.maxSeconds} s`);
        try {
          const result = await callRun(target, { ...level, first: callFirst }, callee, companions.get(target) ?? []);
          calls.get(target)?.push({ callers: level.callers, result });
          progress(
            `${target.name}: c${level.callers} ${result.ok}/${result.attempted} ok, ${result.callsPerS} calls/s, INVITE->200 p50 ${result.inviteTo200Ms.p50 ?? '-'} ms, ` +
              `p99 ${result.inviteTo200Ms.p99 ?? '-'} ms, ${result.cpuPerCallMs ?? '-'} ms CPU/call`,
          );
        } catch (error) {
          calls.get(target)?.push({ callers: level.callers, skipped: messageOf(error) });
          progress(`${target.name}: call run failed: ${messageOf(error)}`);
        }
      }
    }
    for (const [target, callee] of started) {
      const entry = running.find((item) => item.name === `${target.name} callee`);
      if (entry !== undefined) release(entry);
      callees.set(target, { user: callee.user, counts: await callee.stop() });
    }
    const media = running.find((item) => item.name === 'rtpengine');
    if (media !== undefined) {
      release(media);
      await media.stop();
    }
  }

  const reportOf = (target: Target, extra: Record<string, unknown>): TargetReport => ({
    name: target.name,
    url: target.url,
    domain: target.domain,
    levels: outcomes.get(target) ?? [],
    hold: holds.get(target),
    message: messages.get(target),
    calls: calls.get(target) ?? [],
    callee: callees.get(target),
    extra,
  });
  const report = {
    startedAt: startedAt.toISOString(),
    durationS: round((Date.now() - startedAt.getTime()) / 1000, 1),
    machine: { cores: availableParallelism(), loadAverageStart, loadAverageEnd: loadAverage(), node: process.version },
    loadgen: { path: resolve(LOADGEN), ws: wsInUse(), processes: 1 },
    parts,
    notes,
    sipedge: reportOf(edge, { users, usersCreatedInS: round(edge.usersCreatedInS, 1) }),
    kamailio: kamailio === undefined ? undefined : reportOf(kamailio, { users, args: kamailioArgs }),
    referenceUnavailable,
    ...(platformFloor === undefined ? {} : { platformFloor }),
  };
  await cleanUp();
  if (platformFloor !== undefined) process.stdout.write(`${renderFloor(platformFloor)}\n\n`);
  process.stdout.write(`${renderTable(report)}\n\n`);
  process.stdout.write(`${renderJson(report)}\n`);
} catch (error) {
  await cleanUp();
  process.stderr.write(`bench:edge failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
