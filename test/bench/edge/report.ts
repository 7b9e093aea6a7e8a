/**
 * The human table (sipedge next to Kamailio, with sipedge / Kamailio ratios) and the one-line JSON
 * object that ends the output.
 */
import type { FloorShape } from './platform-floor.ts';
import type { HoldResult, LevelResult } from './measure.ts';
import { round } from './measure.ts';
import type { Memory } from './proc.ts';
import type { CallResult, MessageResult } from './traffic.ts';

export interface LevelOutcome {
  readonly connections: number;
  readonly result?: LevelResult;
  /** Why the level was not run for this target. */
  readonly skipped?: string;
}

export interface MessageOutcome {
  readonly result?: MessageResult;
  readonly skipped?: string;
}

export interface CallOutcome {
  readonly callers: number;
  readonly result?: CallResult;
  readonly skipped?: string;
}

export interface TargetReport {
  readonly name: 'sipedge' | 'kamailio';
  readonly url: string;
  readonly domain: string;
  readonly levels: readonly LevelOutcome[];
  readonly hold: HoldResult | undefined;
  readonly message: MessageOutcome | undefined;
  readonly calls: readonly CallOutcome[];
  /** The callee user and what it counted (INVITEs answered, ACKs, BYEs). */
  readonly callee: { readonly user: string; readonly counts: Readonly<Record<string, number>> } | undefined;
  readonly extra: Readonly<Record<string, unknown>>;
}

export interface BenchReport {
  readonly startedAt: string;
  readonly durationS: number;
  readonly machine: {
    readonly cores: number;
    readonly loadAverageStart: readonly number[];
    readonly loadAverageEnd: readonly number[];
    readonly node: string;
  };
  readonly loadgen: { readonly path: string; readonly ws: string; readonly processes: number };
  /** Which parts ran: `register` (levels + hold), `message`, `call`. */
  readonly parts: readonly string[];
  /** How the reference was set up for these parts, and anything measured one-sided. */
  readonly notes: readonly string[];
  readonly sipedge: TargetReport;
  readonly kamailio: TargetReport | undefined;
  /** Why Kamailio was not measured. */
  readonly referenceUnavailable: string | undefined;
  /** The platform's own cost per WebSocket exchange (`platform-floor.ts`), when that part ran. */
  readonly platformFloor?: readonly FloorShape[];
}

/** sipedge / Kamailio, or undefined when either side is missing. */
export function ratio(edge: number | undefined, kamailio: number | undefined): number | undefined {
  if (edge === undefined || kamailio === undefined || kamailio === 0) return undefined;
  return round(edge / kamailio, edge / kamailio < 10 ? 3 : 1);
}

function fmt(value: number | undefined, digits = 0): string {
  if (value === undefined) return '-';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function fmtRatio(value: number | undefined): string {
  if (value === undefined) return '-';
  if (value >= 10) return `${value.toFixed(0)}x`;
  if (value >= 1) return `${value.toFixed(1)}x`;
  return `${value.toFixed(value >= 0.1 ? 2 : 3)}x`;
}

function fmtMs(value: number | undefined): string {
  if (value === undefined) return '-';
  return value >= 100 ? fmt(value, 0) : value >= 10 ? fmt(value, 1) : fmt(value, 2);
}

function cells(values: readonly string[], widths: readonly number[]): string {
  return values.map((value, index) => value.padStart(widths[index] ?? 8)).join(' ');
}

const SIDE = [7, 8, 8, 8, 7];
const SIDE_HEAD = ['reg/s', 'p50 ms', 'p99 ms', 'CPU us', 'failed'];
const RATIO = [7, 6, 6, 7];
const RATIO_HEAD = ['reg/s', 'p50', 'p99', 'CPU'];

function side(outcome: LevelOutcome | undefined): string {
  const r = outcome?.result;
  if (r === undefined) {
    const text = outcome?.skipped === undefined ? 'not run' : 'skipped';
    return text.padStart(SIDE.reduce((a, b) => a + b + 1, -1));
  }
  return cells([fmt(r.regPerS), fmtMs(r.latencyMs.p50), fmtMs(r.latencyMs.p99), fmt(r.cpuPerRegUs), fmt(r.failed)], SIDE);
}

function perSocket(memory: Memory | undefined): string {
  return memory === undefined ? '-' : `${fmt(memory.pssKiB, 1)} / ${fmt(memory.rssKiB, 1)}`;
}

export function renderTable(report: BenchReport): string {
  const out: string[] = [];
  const { machine } = report;
  const edge = report.sipedge;
  const kam = report.kamailio;
  out.push('');
  out.push(`bench:edge  ${report.startedAt}  (${report.durationS.toFixed(0)} s)`);
  out.push(`machine     ${machine.cores} cores shared with other work; load average ${machine.loadAverageStart.join(' ')} at start, ${machine.loadAverageEnd.join(' ')} at end; Node ${machine.node}`);
  out.push(`load        the rig's loadgen.mjs, one process on the same cores (${report.loadgen.ws})`);
  out.push(`sipedge     ${edge.url}  domain ${edge.domain}  (startEdge: ${edgeShape(edge)}, state in a temporary folder)`);
  if (kam !== undefined) out.push(`Kamailio    ${kam.url}  domain ${kam.domain}  (rig's start-kamailio.sh + kamailio.cfg)`);
  else {
    out.push('');
    out.push(`!!! REFERENCE NOT AVAILABLE: Kamailio was not measured (${report.referenceUnavailable ?? 'unknown reason'}).`);
    out.push('!!! sipedge figures only; no ratios. BENCHMARKS.md has older Kamailio figures, not comparable side by side.');
  }
  for (const note of report.notes) out.push(`note        ${note}`);
  if (report.parts.includes('register')) renderRegister(out, report);
  renderTraffic(out, report);
  return out.join('\n');
}

function renderRegister(out: string[], report: BenchReport): void {
  const edge = report.sipedge;
  const kam = report.kamailio;
  out.push('');
  out.push('REGISTER -> 401 -> REGISTER (MD5 digest, qop=auth) -> 200, looped on each connection; latency = first REGISTER sent to 200');
  out.push('CPU us = server CPU per registration from /proc (sipedge: its workerd process(es); Kamailio: all its processes)');
  const sideWidth = SIDE.reduce((a, b) => a + b + 1, -1);
  const ratioWidth = RATIO.reduce((a, b) => a + b + 1, -1);
  out.push(`${'conns'.padStart(5)} | ${'sipedge'.padEnd(sideWidth)} | ${'Kamailio'.padEnd(sideWidth)} | ${'sipedge / Kamailio'.padEnd(ratioWidth)}`);
  out.push(`${''.padStart(5)} | ${cells(SIDE_HEAD, SIDE)} | ${cells(SIDE_HEAD, SIDE)} | ${cells(RATIO_HEAD, RATIO)}`);
  for (const outcome of edge.levels) {
    const other = kam?.levels.find((level) => level.connections === outcome.connections);
    const e = outcome.result;
    const k = other?.result;
    const ratios = [
      ratio(e?.regPerS, k?.regPerS),
      ratio(e?.latencyMs.p50, k?.latencyMs.p50),
      ratio(e?.latencyMs.p99, k?.latencyMs.p99),
      ratio(e?.cpuPerRegUs, k?.cpuPerRegUs),
    ].map(fmtRatio);
    out.push(`${String(outcome.connections).padStart(5)} | ${side(outcome)} | ${kam === undefined ? 'not measured'.padStart(sideWidth) : side(other)} | ${cells(ratios, RATIO)}`);
  }

  out.push('');
  const eh = edge.hold;
  const kh = kam?.hold;
  const holdConnections = eh?.requested ?? kh?.requested ?? 0;
  out.push(`Idle registered sockets: ${holdConnections} connections opened 200 at a time, each registered once, then held idle`);
  const row = (label: string, e: string, k: string, r: string): string => `${label.padEnd(38)} | ${e.padStart(24)} | ${k.padStart(24)} | ${r.padStart(8)}`;
  out.push(row('', 'sipedge', 'Kamailio', 'ratio'));
  out.push(row('registered / still open', eh === undefined ? '-' : `${eh.registered} / ${eh.stillOpen}`, kh === undefined ? '-' : `${kh.registered} / ${kh.stillOpen}`, ''));
  out.push(row('ramp: open + register all (s)', fmt(eh?.rampS, 1), fmt(kh?.rampS, 1), fmtRatio(ratio(eh?.rampS, kh?.rampS))));
  out.push(row('register p50 / p99 during ramp (ms)', eh === undefined ? '-' : `${fmtMs(eh.registerMs.p50)} / ${fmtMs(eh.registerMs.p99)}`, kh === undefined ? '-' : `${fmtMs(kh.registerMs.p50)} / ${fmtMs(kh.registerMs.p99)}`, fmtRatio(ratio(eh?.registerMs.p50, kh?.registerMs.p50))));
  const idleS = (hold: HoldResult | undefined): string => {
    const last = hold?.samples.at(-1);
    return last === undefined ? '-' : `${last.atS.toFixed(0)} s`;
  };
  out.push(row('KiB per socket, registered (PSS/RSS)', perSocket(eh?.perSocketKiB.registered), perSocket(kh?.perSocketKiB.registered), fmtRatio(ratio(eh?.perSocketKiB.registered?.pssKiB, kh?.perSocketKiB.registered?.pssKiB))));
  out.push(row(`KiB per socket, idle ${idleS(eh)} / ${idleS(kh)}`, perSocket(eh?.perSocketKiB.idle), perSocket(kh?.perSocketKiB.idle), fmtRatio(ratio(eh?.perSocketKiB.idle?.pssKiB, kh?.perSocketKiB.idle?.pssKiB))));
  const edgeRoles = Object.entries(eh?.perSocketRssKiBByRole ?? {}).filter(([role]) => role.startsWith('workerd'));
  if (edgeRoles.length > 1) {
    for (const [role, figures] of edgeRoles) {
      out.push(row(`  of which ${role}, RSS`, `${fmt(figures.registered, 1)} / ${fmt(figures.idle, 1)}`, '', ''));
    }
  }
  if (kh?.sharedMemoryKiB !== undefined && kh.registered > 0) {
    const shm = (kh.sharedMemoryKiB.registered - kh.sharedMemoryKiB.before) / kh.registered;
    out.push(row('Kamailio shm per socket (kamcmd)', '', `${fmt(shm, 1)} KiB`, ''));
  }
  out.push('(memory = growth of the server processes over the idle sockets divided by their number; sipedge: its workerd process(es),');
  out.push(' not the Node process hosting Miniflare; PSS shares pages among the processes that map them, which matters for');
  out.push(' Kamailio\'s processes sharing one shm segment: their summed RSS counts it once per process)');

  out.push('');
  out.push('Per run: load average (1 min) before, whole machine busy during the registration phase, loadgen CPU, CPU split per process, settle time');
  for (const target of [edge, kam]) {
    if (target === undefined) continue;
    for (const outcome of target.levels) {
      const r = outcome.result;
      if (r === undefined) {
        out.push(`  ${target.name} c${outcome.connections}: ${outcome.skipped ?? 'not run'}`);
        continue;
      }
      const split = Object.entries(r.cpuPerRegUsByRole).map(([role, us]) => `${role} ${fmt(us)} us`).join(', ');
      const errors = Object.keys(r.errors).length > 0 ? `; errors ${JSON.stringify(r.errors)}` : '';
      out.push(
        `  ${target.name} c${r.connections}: load ${r.loadAverage1.toFixed(2)}, machine ${(r.machineBusy * 100).toFixed(0)} % busy, ` +
          `${r.ok}/${r.attempted} in ${r.elapsedS.toFixed(1)} s, loadgen ${r.loadgenCpuS.toFixed(1)} s CPU; per reg: ${split}; settled in ${r.settleS} s${errors}${r.note === undefined ? '' : `; ${r.note}`}`,
      );
    }
    const hold = target.hold;
    if (hold !== undefined) {
      const note = hold.note === undefined ? '' : `; ${hold.note}`;
      const errors = Object.keys(hold.errors).length > 0 ? `; errors ${JSON.stringify(hold.errors)}` : '';
      out.push(`  ${target.name} hold: memory by process at start / registered / end of idle: ${memoryLine(hold)}; settled in ${hold.settleS} s${errors}${note}`);
    }
  }
}

function cpuSplit(byRole: Readonly<Record<string, number>>, unit: string): string {
  return Object.entries(byRole).map(([role, value]) => `${role} ${fmt(value, unit === 'ms' ? 2 : 0)} ${unit}`).join(', ');
}

function renderTraffic(out: string[], report: BenchReport): void {
  const edge = report.sipedge;
  const kam = report.kamailio;
  const sideWidth = SIDE.reduce((a, b) => a + b + 1, -1);
  const notMeasured = (outcome: { readonly skipped?: string } | undefined): string =>
    (kam === undefined ? 'not measured' : outcome?.skipped === undefined ? 'not run' : 'skipped').padStart(sideWidth);

  if (report.parts.includes('message')) {
    const e = edge.message?.result;
    const k = kam?.message?.result;
    const side = (r: MessageResult | undefined, outcome: MessageOutcome | undefined): string =>
      r === undefined ? notMeasured(outcome) : cells([fmt(r.msgPerS), fmtMs(r.latencyMs.p50), fmtMs(r.latencyMs.p99), fmt(r.cpuPerMsgUs), fmt(r.failed)], SIDE);
    out.push('');
    out.push('MESSAGE between pairs of registered WebSocket users: MESSAGE -> 407 -> MESSAGE (digest) -> 200 relayed from the receiver, looped per pair;');
    out.push('latency = first MESSAGE sent to 200; CPU us = server CPU per message (window includes opening and registering the pairs)');
    out.push(`${'pairs'.padStart(5)} | ${'sipedge'.padEnd(sideWidth)} | ${'Kamailio'.padEnd(sideWidth)} | ${'sipedge / Kamailio'.padEnd(RATIO.reduce((a, b) => a + b + 1, -1))}`);
    out.push(`${''.padStart(5)} | ${cells(['msg/s', 'p50 ms', 'p99 ms', 'CPU us', 'failed'], SIDE)} | ${cells(['msg/s', 'p50 ms', 'p99 ms', 'CPU us', 'failed'], SIDE)} | ${cells(['msg/s', 'p50', 'p99', 'CPU'], RATIO)}`);
    const ratios = [ratio(e?.msgPerS, k?.msgPerS), ratio(e?.latencyMs.p50, k?.latencyMs.p50), ratio(e?.latencyMs.p99, k?.latencyMs.p99), ratio(e?.cpuPerMsgUs, k?.cpuPerMsgUs)].map(fmtRatio);
    const pairs = e?.pairs ?? k?.pairs ?? 0;
    out.push(`${String(pairs).padStart(5)} | ${e === undefined ? 'not run'.padStart(sideWidth) : side(e, edge.message)} | ${side(k, kam?.message)} | ${cells(ratios, RATIO)}`);
    for (const target of [edge, kam]) {
      const outcome = target?.message;
      if (target === undefined || outcome === undefined) continue;
      const r = outcome.result;
      if (r === undefined) {
        out.push(`  ${target.name} message: ${outcome.skipped ?? 'not run'}`);
        continue;
      }
      const errors = Object.keys(r.errors).length > 0 ? `; errors ${JSON.stringify(r.errors)}` : '';
      out.push(
        `  ${target.name} message: load ${r.loadAverage1.toFixed(2)}, machine ${(r.machineBusy * 100).toFixed(0)} % busy, ${r.ok}/${r.attempted} in ${r.elapsedS.toFixed(1)} s, ` +
          `${r.received} delivered, ${r.authChallenges} challenged, loadgen ${r.loadgenCpuS.toFixed(1)} s CPU; per msg: ${cpuSplit(r.cpuPerMsgUsByRole, 'us')}; settled in ${r.settleS} s${errors}${r.note === undefined ? '' : `; ${r.note}`}`,
      );
    }
  }

  if (report.parts.includes('call')) {
    const CALL = [7, 8, 8, 8, 7];
    const callWidth = CALL.reduce((a, b) => a + b + 1, -1);
    const side = (r: CallResult | undefined, outcome: CallOutcome | undefined, other: boolean): string =>
      r === undefined
        ? (other && kam === undefined ? 'not measured' : outcome?.skipped === undefined ? 'not run' : 'skipped').padStart(callWidth)
        : cells([fmt(r.callsPerS), fmtMs(r.inviteTo200Ms.p50), fmtMs(r.inviteTo200Ms.p99), fmt(r.cpuPerCallMs, 2), fmt(r.failed)], CALL);
    out.push('');
    out.push('Call set-ups between two registered WebSocket users: INVITE (WebRTC offer) -> 407 -> ACK, INVITE (digest) -> 100/180/200 (WebRTC answer)');
    out.push(`-> ACK -> BYE -> 200, looped per caller; callee = test/bench/edge/callee.ts (${edge.callee?.user ?? kam?.callee?.user ?? '-'}, one WebSocket, auto-answer)`);
    out.push('latency = first INVITE sent to 200; CPU ms = server CPU per call (sipedge: workerd; Kamailio: kamailio + rtpengine, split below)');
    out.push(`${'calls'.padStart(5)} | ${'sipedge'.padEnd(callWidth)} | ${'Kamailio'.padEnd(callWidth)} | ${'sipedge / Kamailio'.padEnd(RATIO.reduce((a, b) => a + b + 1, -1))}`);
    out.push(`${'c'.padStart(5)} | ${cells(['calls/s', 'p50 ms', 'p99 ms', 'CPU ms', 'failed'], CALL)} | ${cells(['calls/s', 'p50 ms', 'p99 ms', 'CPU ms', 'failed'], CALL)} | ${cells(['calls/s', 'p50', 'p99', 'CPU'], RATIO)}`);
    for (const outcome of edge.calls) {
      const other = kam?.calls.find((c) => c.callers === outcome.callers);
      const e = outcome.result;
      const k = other?.result;
      const ratios = [ratio(e?.callsPerS, k?.callsPerS), ratio(e?.inviteTo200Ms.p50, k?.inviteTo200Ms.p50), ratio(e?.inviteTo200Ms.p99, k?.inviteTo200Ms.p99), ratio(e?.cpuPerCallMs, k?.cpuPerCallMs)].map(fmtRatio);
      out.push(`${String(outcome.callers).padStart(5)} | ${side(e, outcome, false)} | ${side(k, other, true)} | ${cells(ratios, RATIO)}`);
    }
    for (const target of [edge, kam]) {
      if (target === undefined) continue;
      for (const outcome of target.calls) {
        const r = outcome.result;
        if (r === undefined) {
          out.push(`  ${target.name} c${outcome.callers}: ${outcome.skipped ?? 'not run'}`);
          continue;
        }
        const errors = Object.keys(r.errors).length > 0 ? `; errors ${JSON.stringify(r.errors)}` : '';
        out.push(
          `  ${target.name} c${r.callers}: load ${r.loadAverage1.toFixed(2)}, machine ${(r.machineBusy * 100).toFixed(0)} % busy, ${r.ok}/${r.attempted} in ${r.elapsedS.toFixed(1)} s, ` +
            `BYE ok ${r.byeOk}, ${r.authChallenges} challenged, WebRTC answers ${r.answerSdpWebrtc}; INVITE->180 p50 ${fmtMs(r.inviteTo180Ms.p50)} ms, BYE->200 p50/p99 ${fmtMs(r.byeTo200Ms.p50)}/${fmtMs(r.byeTo200Ms.p99)} ms; ` +
            `loadgen ${r.loadgenCpuS.toFixed(1)} s, callee ${r.calleeCpuS === undefined ? '-' : r.calleeCpuS.toFixed(1)} s CPU; per call: ${cpuSplit(r.cpuPerCallMsByRole, 'ms')}; settled in ${r.settleS} s${errors}${r.note === undefined ? '' : `; ${r.note}`}`,
        );
      }
      if (target.callee !== undefined) out.push(`  ${target.name} callee ${target.callee.user}: ${JSON.stringify(target.callee.counts)}`);
    }
  }
}

/** How the edge ran, from the roles its processes were measured under. */
function edgeShape(edge: TargetReport): string {
  const roles = new Set([
    ...Object.keys(edge.hold?.baseline ?? {}),
    ...edge.levels.flatMap((level) => Object.keys(level.result?.serverCpuS ?? {})),
  ]);
  if (roles.has('workerd (dev proxy)')) return "wrangler's dev proxy + workerd";
  if (roles.has('workerd')) return 'one workerd through the Miniflare API';
  return 'workerd';
}

function memoryLine(hold: HoldResult): string {
  const first = hold.samples[0]?.byRole ?? {};
  const last = hold.samples.at(-1)?.byRole ?? {};
  return Object.entries(hold.baseline)
    .map(([role, base]) => `${role} RSS ${mib(base.rssKiB)} / ${mib(first[role]?.rssKiB)} / ${mib(last[role]?.rssKiB)} MiB`)
    .join(', ');
}

function mib(kib: number | undefined): string {
  return kib === undefined ? '-' : (kib / 1024).toFixed(0);
}

/** The whole report as one JSON object, with the ratios, for scripts. */
export function renderJson(report: BenchReport): string {
  const compactHold = (hold: HoldResult | undefined): unknown =>
    hold === undefined
      ? undefined
      : {
        ...hold,
        samples: hold.samples.map((sample) => ({
          atS: sample.atS,
          rssKiB: Object.fromEntries(Object.entries(sample.byRole).map(([role, memory]) => [role, memory.rssKiB])),
        })),
      };
  const target = (t: TargetReport | undefined): unknown => (t === undefined ? undefined : { ...t, hold: compactHold(t.hold) });
  const kam = report.kamailio;
  const ratios = kam === undefined
    ? undefined
    : {
      levels: report.sipedge.levels.map((outcome) => {
        const e = outcome.result;
        const k = kam.levels.find((level) => level.connections === outcome.connections)?.result;
        return {
          connections: outcome.connections,
          regPerS: ratio(e?.regPerS, k?.regPerS),
          p50: ratio(e?.latencyMs.p50, k?.latencyMs.p50),
          p99: ratio(e?.latencyMs.p99, k?.latencyMs.p99),
          cpuPerReg: ratio(e?.cpuPerRegUs, k?.cpuPerRegUs),
        };
      }),
      memoryPerSocketPss: {
        registered: ratio(report.sipedge.hold?.perSocketKiB.registered?.pssKiB, kam.hold?.perSocketKiB.registered?.pssKiB),
        idle: ratio(report.sipedge.hold?.perSocketKiB.idle?.pssKiB, kam.hold?.perSocketKiB.idle?.pssKiB),
      },
      message: (() => {
        const e = report.sipedge.message?.result;
        const k = kam.message?.result;
        return e === undefined || k === undefined
          ? undefined
          : { msgPerS: ratio(e.msgPerS, k.msgPerS), p50: ratio(e.latencyMs.p50, k.latencyMs.p50), p99: ratio(e.latencyMs.p99, k.latencyMs.p99), cpuPerMsg: ratio(e.cpuPerMsgUs, k.cpuPerMsgUs) };
      })(),
      calls: report.sipedge.calls.map((outcome) => {
        const e = outcome.result;
        const k = kam.calls.find((c) => c.callers === outcome.callers)?.result;
        return {
          callers: outcome.callers,
          callsPerS: ratio(e?.callsPerS, k?.callsPerS),
          p50: ratio(e?.inviteTo200Ms.p50, k?.inviteTo200Ms.p50),
          p99: ratio(e?.inviteTo200Ms.p99, k?.inviteTo200Ms.p99),
          cpuPerCall: ratio(e?.cpuPerCallMs, k?.cpuPerCallMs),
        };
      }),
    };
  return JSON.stringify({
    bench: 'edge',
    ...report,
    sipedge: target(report.sipedge),
    kamailio: target(report.kamailio),
    referenceAvailable: report.kamailio !== undefined,
    ratios,
  });
}
