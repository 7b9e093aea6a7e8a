/**
 * MESSAGE and call set-up runs against one target, driven by the rig's load generator (`message`
 * and `call` modes, unmodified), with the servers' CPU read from /proc around the measured loop.
 *
 * - MESSAGE: P sender/receiver pairs of registered WebSocket users; each sender loops MESSAGE ->
 *   407 -> MESSAGE (digest) -> 200 to its receiver, who answers 200. Latency = first MESSAGE sent to
 *   the final 2xx (two round trips when the server challenges, which both servers do here).
 * - Calls: C registered WebSocket callers loop INVITE (Chrome-like WebRTC offer) -> 407 -> ACK,
 *   INVITE (digest) -> 100/180/200 -> ACK -> BYE -> 200 to one callee user, played by
 *   `callee.ts` (its own process, registered over WebSocket to the same server). Latency = first
 *   INVITE sent to the 200, the 407 round trip included.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Phase } from './loadgen.ts';
import { countsAt, isRecord, numberAt, runLoadgen } from './loadgen.ts';
import { cpuByRole, cpuDelta, latencyAt, noteFor, round, settle, type CpuByRole, type Latency } from './measure.ts';
import { busyShare, cpuSeconds, loadAverage, machineCpu, type MachineCpu } from './proc.ts';
import type { ServerProcess, Target } from './targets.ts';

const CALLEE = fileURLToPath(new URL('./callee.ts', import.meta.url));

/** Server CPU over the loop, by role, and the per-operation figure of the server's own processes. */
interface Measured {
  readonly summary: Readonly<Record<string, unknown>>;
  readonly serverCpuS: CpuByRole;
  /** CPU seconds of the server proper (`core` processes, rtpengine included for Kamailio's calls). */
  readonly coreCpuS: number | undefined;
  readonly loadgenCpuS: number;
  /** CPU seconds of other load-side processes read over the same window (the callee). */
  readonly helperCpuS: number | undefined;
  readonly machineBusy: number;
  readonly loadAverage1: number;
  readonly settleS: number;
  readonly note: string | undefined;
}

async function measured(
  target: Target,
  mode: 'message' | 'call',
  args: readonly string[],
  companions: readonly ServerProcess[],
  helperPid: number | undefined,
): Promise<Measured> {
  const processes = (): ServerProcess[] => [...target.processes(), ...companions];
  const loadAverage1 = loadAverage()[0];
  let cpuStart: CpuByRole = {};
  let cpuEnd: CpuByRole = {};
  let helperStart = 0;
  let helperEnd = 0;
  let machineStart: MachineCpu = machineCpu();
  let machineEnd: MachineCpu = machineStart;
  const onPhase = (phase: Phase): void => {
    if (phase === 'traffic') {
      cpuStart = cpuByRole(processes());
      if (helperPid !== undefined) helperStart = cpuSeconds(helperPid);
      machineStart = machineCpu();
    } else if (phase === 'summary') {
      cpuEnd = cpuByRole(processes());
      if (helperPid !== undefined) helperEnd = cpuSeconds(helperPid);
      machineEnd = machineCpu();
    }
  };
  const result = await runLoadgen(mode, args, target, onPhase);
  const settleS = await settle(target);
  const ok = Object.keys(cpuStart).length > 0 && Object.keys(cpuEnd).length > 0;
  const serverCpuS = ok ? cpuDelta(cpuStart, cpuEnd) : {};
  const coreRoles = new Set(processes().filter((process) => process.core).map((process) => process.role));
  const coreCpuS = ok ? Object.entries(serverCpuS).reduce((total, [role, seconds]) => total + (coreRoles.has(role) ? seconds : 0), 0) : undefined;
  return {
    summary: result.summary,
    serverCpuS,
    coreCpuS,
    loadgenCpuS: round(result.loadgenCpuS, 2),
    helperCpuS: ok && helperPid !== undefined ? round(helperEnd - helperStart, 3) : undefined,
    machineBusy: round(busyShare(machineStart, machineEnd), 3),
    loadAverage1,
    settleS,
    note: noteFor(result),
  };
}

/** Seconds per operation, scaled (1e6: microseconds, 1 decimal; 1e3: milliseconds, 2 decimals). */
function perOp(seconds: number, count: number, scale: number): number | undefined {
  return count > 0 ? round((seconds / count) * scale, scale >= 1e6 ? 1 : 2) : undefined;
}

function perRole(cpu: CpuByRole, count: number, scale: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [role, seconds] of Object.entries(cpu)) {
    const value = perOp(seconds, count, scale);
    if (value !== undefined) out[role] = value;
  }
  return out;
}

// ---------------------------------------------------------------- MESSAGE

export interface MessageSpec {
  readonly pairs: number;
  readonly total: number;
  readonly maxSeconds: number;
  /** First user number: senders are user{first}.., receivers user{first+pairs}.. (the loadgen's layout). */
  readonly first: number;
}

export interface MessageResult {
  readonly pairs: number;
  readonly attempted: number;
  readonly ok: number;
  readonly failed: number;
  readonly received: number;
  readonly authChallenges: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly elapsedS: number;
  readonly msgPerS: number;
  readonly latencyMs: Latency;
  readonly serverCpuS: CpuByRole;
  /** Server CPU per delivered MESSAGE, microseconds (window: from opening the pairs to the summary). */
  readonly cpuPerMsgUs: number | undefined;
  readonly cpuPerMsgUsByRole: Readonly<Record<string, number>>;
  readonly loadgenCpuS: number;
  readonly machineBusy: number;
  readonly loadAverage1: number;
  readonly settleS: number;
  readonly note: string | undefined;
}

export async function messageRun(target: Target, spec: MessageSpec): Promise<MessageResult> {
  const args = [
    '--concurrency', String(spec.pairs),
    '--total', String(spec.total),
    '--max-seconds', String(spec.maxSeconds),
    '--first', String(spec.first),
    '--label', `${target.name}-msg-p${spec.pairs}`,
  ];
  const m = await measured(target, 'message', args, [], undefined);
  const s = m.summary;
  const ok = numberAt(s, 'ok') ?? 0;
  const attempted = numberAt(s, 'attempted') ?? 0;
  return {
    pairs: numberAt(s, 'pairs') ?? spec.pairs,
    attempted,
    ok,
    failed: attempted - ok,
    received: numberAt(s, 'received') ?? 0,
    authChallenges: numberAt(s, 'auth_challenges') ?? 0,
    errors: countsAt(s, 'errors'),
    elapsedS: numberAt(s, 'elapsed_s') ?? 0,
    msgPerS: numberAt(s, 'msg_per_s') ?? 0,
    latencyMs: latencyAt(s, 'latency_ms'),
    serverCpuS: m.serverCpuS,
    cpuPerMsgUs: m.coreCpuS === undefined ? undefined : perOp(m.coreCpuS, ok, 1e6),
    cpuPerMsgUsByRole: perRole(m.serverCpuS, ok, 1e6),
    loadgenCpuS: m.loadgenCpuS,
    machineBusy: m.machineBusy,
    loadAverage1: m.loadAverage1,
    settleS: m.settleS,
    note: m.note,
  };
}

// ---------------------------------------------------------------- calls

export interface CallSpec {
  readonly callers: number;
  readonly calls: number;
  readonly maxSeconds: number;
  /** Callers are user{first}..user{first+callers-1}. */
  readonly first: number;
}

export interface CallResult {
  readonly callers: number;
  readonly attempted: number;
  readonly ok: number;
  readonly failed: number;
  readonly byeOk: number;
  readonly authChallenges: number;
  readonly answerSdpWebrtc: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly elapsedS: number;
  readonly callsPerS: number;
  /** First INVITE sent -> 200 received, the 407 round trip included. */
  readonly inviteTo200Ms: Latency;
  readonly inviteTo180Ms: Latency;
  readonly byeTo200Ms: Latency;
  readonly serverCpuS: CpuByRole;
  /** Server CPU per answered call (INVITE/407/ACK/INVITE/180/200/ACK/BYE/200), milliseconds. */
  readonly cpuPerCallMs: number | undefined;
  readonly cpuPerCallMsByRole: Readonly<Record<string, number>>;
  readonly loadgenCpuS: number;
  readonly calleeCpuS: number | undefined;
  readonly machineBusy: number;
  readonly loadAverage1: number;
  readonly settleS: number;
  readonly note: string | undefined;
}

export async function callRun(target: Target, spec: CallSpec, callee: Callee, companions: readonly ServerProcess[]): Promise<CallResult> {
  const args = [
    '--concurrency', String(spec.callers),
    '--calls', String(spec.calls),
    '--max-seconds', String(spec.maxSeconds),
    '--first', String(spec.first),
    '--users', String(spec.callers),
    '--callee', callee.user,
    '--label', `${target.name}-call-c${spec.callers}`,
  ];
  const m = await measured(target, 'call', args, companions, callee.pid);
  const s = m.summary;
  const ok = numberAt(s, 'ok') ?? 0;
  return {
    callers: numberAt(s, 'concurrency') ?? spec.callers,
    attempted: numberAt(s, 'attempted') ?? 0,
    ok,
    failed: numberAt(s, 'failed') ?? 0,
    byeOk: numberAt(s, 'bye_ok') ?? 0,
    authChallenges: numberAt(s, 'auth_challenges') ?? 0,
    answerSdpWebrtc: numberAt(s, 'answer_sdp_webrtc') ?? 0,
    errors: countsAt(s, 'errors'),
    elapsedS: numberAt(s, 'elapsed_s') ?? 0,
    callsPerS: numberAt(s, 'calls_per_s') ?? 0,
    inviteTo200Ms: latencyAt(s, 'invite_to_200_ms'),
    inviteTo180Ms: latencyAt(s, 'invite_to_180_ms'),
    byeTo200Ms: latencyAt(s, 'bye_to_200_ms'),
    serverCpuS: m.serverCpuS,
    cpuPerCallMs: m.coreCpuS === undefined ? undefined : perOp(m.coreCpuS, ok, 1e3),
    cpuPerCallMsByRole: perRole(m.serverCpuS, ok, 1e3),
    loadgenCpuS: m.loadgenCpuS,
    calleeCpuS: m.helperCpuS,
    machineBusy: m.machineBusy,
    loadAverage1: m.loadAverage1,
    settleS: m.settleS,
    note: m.note,
  };
}

// ---------------------------------------------------------------- the callee process

export interface Callee {
  readonly user: string;
  readonly pid: number;
  /** Stops the callee and returns its counts (INVITEs answered, ACKs, BYEs, ...). */
  stop(): Promise<Readonly<Record<string, number>>>;
}

/** Starts `callee.ts` registered as `user` on `target`; resolves once its REGISTER got 200. */
export function startCallee(target: Target, user: string, timeoutMs = 15_000): Promise<Callee> {
  const child: ChildProcess = spawn(
    process.execPath,
    [CALLEE, '--url', target.url, '--domain', target.domain, '--user', user, '--password', target.password],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const tail: string[] = [];
  let lastJson = '';
  let exited = false;
  const closed = new Promise<void>((resolve) => child.on('close', () => {
    exited = true;
    resolve();
  }));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    tail.push(...chunk.split('\n').filter((line) => line.trim() !== ''));
    tail.splice(0, Math.max(0, tail.length - 6));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the callee did not register within ${timeoutMs} ms: ${tail.join(' | ')}`));
    }, timeoutMs);
    let buffered = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let end = buffered.indexOf('\n');
      while (end >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        end = buffered.indexOf('\n');
        if (line.startsWith('{')) lastJson = line;
        if (!line.startsWith('READY') || child.pid === undefined) continue;
        clearTimeout(timer);
        const pid = child.pid;
        resolve({
          user,
          pid,
          stop: async () => {
            if (!exited) child.kill('SIGTERM');
            await closed;
            try {
              const parsed: unknown = JSON.parse(lastJson);
              if (!isRecord(parsed)) return {};
              return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
            } catch {
              return {};
            }
          },
        });
      }
    });
    void closed.then(() => {
      clearTimeout(timer);
      reject(new Error(`the callee exited before registering: ${tail.join(' | ')}`));
    });
  });
}
