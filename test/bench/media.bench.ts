/**
 * `npm run bench:media`: the media node under generated call load, next to rtpengine in the same run.
 *
 * The node runs in a process of its own (`node media-node/main.ts`); this process is the load
 * generator: per call a werift peer in the browser's place (ICE + DTLS-SRTP on 127.0.0.1) and a
 * UDP socket in the PBX's place, each sending 50 packets a second, set up through the control API.
 * Two modes: transcoding (the browser talks Opus, the PBX PCMU) and pass-through (PCMU both sides).
 *
 *   1. a fixed number of calls per mode: the node's CPU per call (from its /proc CPU time), and
 *      for pass-through the time from send to arrival per packet (p50/p99);
 *   2. rtpengine, where installed, with the rig's rtpengine.conf, carrying the same load as plain
 *      RTP on both sides (the reference figure has no SRTP), and the ratio of calls per core;
 *   3. per mode, a search over N for the most calls one core sustains with under 0.1 % late or
 *      lost packets (`media/capacity-search.ts`).
 *
 * Both processes share this machine's two cores with each other and with whatever else runs here:
 * the load average is printed, and compare the ratios of one run rather than absolute figures.
 * Prints a table and, as the last line, one JSON object.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { CallPool } from './media/call-pool.ts';
import { counted, passes, searchCapacity, type SearchResult } from './media/capacity-search.ts';
import type { LoadMode } from './media/load-call.ts';
import { LoadScheduler } from './media/load-scheduler.ts';
import { LoopbackProbe } from './media/loopback-probe.ts';
import { measureWindow, transitSummary, type WindowOptions, type WindowResult } from './media/load-window.ts';
import { MediaNodeProcess } from './media/media-node-process.ts';
import { NodeCall } from './media/node-call.ts';
import { processCpuSecondsOf } from './media/proc-stat.ts';
import { Rtpengine } from './media/rtpengine.ts';
import { RtpengineCall } from './media/rtpengine-call.ts';

const SECRET = 'bench-control-secret-0123456789abcdef';
const FIXED_CALLS = Number(process.env['BENCH_MEDIA_CALLS'] ?? 20);
const MAX_CALLS = Number(process.env['BENCH_MEDIA_MAX_CALLS'] ?? 300);
/** BENCH_MEDIA_QUICK=1: short windows and budgets, to check the benchmark itself works. */
const QUICK = process.env['BENCH_MEDIA_QUICK'] === '1';
const FIXED_WINDOW = { settleMs: QUICK ? 500 : 2000, windowMs: QUICK ? 2000 : 10_000 };
const SEARCH_WINDOW = { settleMs: QUICK ? 500 : 1500, windowMs: QUICK ? 1000 : 3000 };
const SEARCH_BUDGET_MS: Readonly<Record<LoadMode, number>> = QUICK ? { transcoding: 10_000, 'pass-through': 10_000 } : { transcoding: 120_000, 'pass-through': 110_000 };
const MODES: readonly LoadMode[] = ['pass-through', 'transcoding'];

const out = (line = ''): void => void process.stdout.write(`${line}\n`);
const progress = (line: string): void => void process.stderr.write(`[bench:media] ${line}\n`);

interface Measured {
  readonly fixed: Partial<Record<LoadMode, WindowResult>>;
  readonly reference: Partial<Record<LoadMode, WindowResult>>;
  readonly search: Partial<Record<LoadMode, SearchResult>>;
  /** Send-to-arrival straight between two generator sockets, during the pass-through window. */
  probe?: { readonly toPbx: readonly number[]; readonly toBrowser: readonly number[] };
  referenceMissing?: string;
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadStart = loadavg();
  const pressureStart = cpuPressure();
  progress(`load average ${loadStart.map((value) => value.toFixed(2)).join(' ')}; CPU pressure ${pressureStart}; ${cpus().length} cores`);
  const measured: Measured = { fixed: {}, reference: {}, search: {} };
  const node = await MediaNodeProcess.start({ controlPort: await freeTcpPort(), rtpPortMin: 60000, rtpPortMax: 61999, secret: SECRET });
  const scheduler = new LoadScheduler();
  const nodeWindow = (base: typeof FIXED_WINDOW): WindowOptions => ({ ...base, relayCpu: () => node.cpuSeconds(), relayScrape: () => node.scrape() });
  try {
    for (const mode of MODES) {
      const pool = new CallPool(scheduler, (serial) => NodeCall.open(node.client, `bench-${mode}-${serial}`, mode));
      progress(`sipedge ${mode}: ${FIXED_CALLS} calls`);
      await pool.resize(FIXED_CALLS);
      if (mode === 'pass-through') {
        const probe = await LoopbackProbe.open();
        const probing = new LoadScheduler();
        probing.add(probe);
        measured.fixed[mode] = await measureWindow(scheduler, { ...nodeWindow(FIXED_WINDOW), alongside: [probe] });
        measured.probe = { toPbx: [...probe.atPbx.transit], toBrowser: [...probe.atBrowser.transit] };
        probing.stop();
        await probe.close();
      } else {
        measured.fixed[mode] = await measureWindow(scheduler, nodeWindow(FIXED_WINDOW));
      }
      await pool.resize(0);
    }
    await runReference(measured, scheduler);
    for (const mode of MODES) {
      const pool = new CallPool(scheduler, (serial) => NodeCall.open(node.client, `search-${mode}-${serial}`, mode));
      const perCall = measured.fixed[mode]?.relayCpuPerCall ?? 0.02;
      // Start where the fixed run says about 60 % of a core goes.
      const start = Math.max(FIXED_CALLS, Math.min(MAX_CALLS, Math.round(0.6 / Math.max(perCall, 0.001))));
      progress(`sipedge ${mode}: searching from ${start} calls`);
      measured.search[mode] = await searchCapacity(pool, scheduler, {
        start,
        max: MAX_CALLS,
        budgetMs: SEARCH_BUDGET_MS[mode],
        window: nodeWindow(SEARCH_WINDOW),
        onStep: (step) => {
          const windows = step.windows;
          const list = (pick: (window: WindowResult) => string): string => windows.map(pick).join('/');
          progress(
            `  ${step.calls} calls: ${step.verdict.toUpperCase()}, windows ${list((w) => (counted(w) ? (passes(w) ? 'ok' : 'bad') : 'stalled'))} (late+lost ${list((w) => percent(w.badFraction, 2))}; node ${list((w) => w.relayCores.toFixed(2))} cores, longest stall ${list((w) => w.relayStalls?.loopDelayMaxMs.toFixed(0) ?? '?')} ms; generator ${list((w) => w.generatorCores.toFixed(2))} cores, late sends ${list((w) => percent(w.lateSendFraction, 2))})`,
          );
        },
      });
      await pool.resize(0);
    }
  } finally {
    scheduler.stop();
    await node.stop();
  }
  report(measured, { loadStart, loadEnd: loadavg(), pressureStart, pressureEnd: cpuPressure() }, (performance.now() - started) / 1000);
}

async function runReference(measured: Measured, scheduler: LoadScheduler): Promise<void> {
  const available = Rtpengine.available();
  if (!available.ok) {
    measured.referenceMissing = available.why;
    return;
  }
  let engine: Rtpengine;
  try {
    engine = await Rtpengine.start(available.binary, { ngPort: await freeUdpPort(), portMin: 62000, portMax: 63999 });
  } catch (error) {
    measured.referenceMissing = `rtpengine did not start: ${String(error)}`;
    return;
  }
  try {
    for (const mode of MODES) {
      const pool = new CallPool(scheduler, (serial) => RtpengineCall.open(engine, `bench-${mode}-${serial}-${Date.now()}`, mode), 20);
      progress(`rtpengine ${mode}: ${FIXED_CALLS} calls`);
      await pool.resize(FIXED_CALLS);
      measured.reference[mode] = await measureWindow(scheduler, { ...FIXED_WINDOW, relayCpu: () => processCpuSecondsOf(engine.pid) });
      await pool.resize(0);
    }
  } finally {
    await engine.stop();
  }
}

interface MachineLoad {
  readonly loadStart: readonly number[];
  readonly loadEnd: readonly number[];
  readonly pressureStart: string;
  readonly pressureEnd: string;
}

/** Linux PSI: the share of time runnable tasks waited for a CPU (avg10 avg60 avg300). */
function cpuPressure(): string {
  try {
    const some = readFileSync('/proc/pressure/cpu', 'utf8').split('\n')[0] ?? '';
    return [...some.matchAll(/avg\d+=(\S+)/g)].map((match) => `${match[1]}%`).join(' ');
  } catch {
    return 'n/a';
  }
}

function report(measured: Measured, machine: MachineLoad, seconds: number): void {
  const { loadStart, loadEnd } = machine;
  out(`sipedge media benchmark, ${new Date().toISOString()}, Node ${process.versions.node}, ${cpus().length} cores`);
  out(`load average at start ${loadStart.map((v) => v.toFixed(2)).join(' ')}, at end ${loadEnd.map((v) => v.toFixed(2)).join(' ')} (the machine is shared: compare ratios)`);
  out(`CPU pressure (time runnable tasks waited for a core, avg10 avg60 avg300): at start ${machine.pressureStart}, at end ${machine.pressureEnd}`);
  out();
  out('| relay | mode | calls | CPU per call | calls per core (from CPU) | late+lost | relay cores | generator cores | generator late sends |');
  out('|---|---|---|---|---|---|---|---|---|');
  const row = (relay: string, mode: LoadMode, result: WindowResult | undefined): void => {
    if (result === undefined) return;
    out(
      `| ${relay} | ${mode} | ${result.calls} | ${percent(result.relayCpuPerCall, 2)} | ${perCore(result.relayCpuPerCall)} | ${percent(result.badFraction, 3)} | ${result.relayCores.toFixed(2)} | ${result.generatorCores.toFixed(2)} | ${percent(result.lateSendFraction, 2)} |`,
    );
  };
  for (const mode of MODES) row('sipedge (SRTP browser leg)', mode, measured.fixed[mode]);
  for (const mode of MODES) row('rtpengine (plain RTP both sides)', mode, measured.reference[mode]);
  out();
  out('| mode | most calls one core sustains (< 0.1 % late or lost) | steps (calls: verdict) | note |');
  out('|---|---|---|---|');
  for (const mode of MODES) {
    const search = measured.search[mode];
    if (search === undefined) continue;
    const steps = search.steps.map((step) => `${step.calls}:${step.verdict}`).join(', ');
    const notes = [
      search.failedAt === undefined ? `no step failed up to ${search.best} (the generator's cap)` : '',
      search.budgetSpent ? 'time budget spent: a lower bound' : '',
      search.generatorSuspect ? 'a step stayed unclear (the machine kept stalling the generator too): the node may sustain more' : '',
    ].filter((note) => note !== '');
    out(`| ${mode} | ${search.best} | ${steps} | ${notes.join('; ')} |`);
  }
  out();
  const passThrough = measured.fixed['pass-through'];
  const latency = passThrough === undefined ? undefined : { browserToPbx: transitSummary(passThrough.transit.browserToPbx), pbxToBrowser: transitSummary(passThrough.transit.pbxToBrowser) };
  const floor = measured.probe === undefined ? undefined : transitSummary([...measured.probe.toPbx, ...measured.probe.toBrowser]);
  if (latency !== undefined) {
    out(
      `pass-through, send to arrival through the node (includes the generator's own SRTP and event loop): browser->PBX p50 ${latency.browserToPbx.p50.toFixed(2)} ms, p99 ${latency.browserToPbx.p99.toFixed(2)} ms; PBX->browser p50 ${latency.pbxToBrowser.p50.toFixed(2)} ms, p99 ${latency.pbxToBrowser.p99.toFixed(2)} ms`,
    );
  }
  if (floor !== undefined && latency !== undefined) {
    const added = (quantile: 'p50' | 'p99'): string => Math.max(0, Math.max(latency.browserToPbx[quantile], latency.pbxToBrowser[quantile]) - floor[quantile]).toFixed(2);
    out(
      `  the same window, straight between two generator sockets (the floor): p50 ${floor.p50.toFixed(2)} ms, p99 ${floor.p99.toFixed(2)} ms; so the node adds about p50 ${added('p50')} ms, p99 ${added('p99')} ms (worse direction, SRTP on the browser side included)`,
    );
  }
  const referencePass = measured.reference['pass-through'];
  const referenceLatency = referencePass === undefined ? undefined : transitSummary([...referencePass.transit.browserToPbx, ...referencePass.transit.pbxToBrowser]);
  if (referenceLatency !== undefined) out(`pass-through through rtpengine (plain RTP): p50 ${referenceLatency.p50.toFixed(2)} ms, p99 ${referenceLatency.p99.toFixed(2)} ms`);
  const ratio = (mode: LoadMode): number | undefined => {
    const ours = measured.fixed[mode]?.relayCpuPerCall;
    const theirs = measured.reference[mode]?.relayCpuPerCall;
    return ours === undefined || theirs === undefined || ours === 0 ? undefined : theirs / ours;
  };
  if (measured.referenceMissing !== undefined) {
    out();
    out(`!!!!! REFERENCE NOT AVAILABLE: rtpengine was not measured (${measured.referenceMissing}); no ratio printed !!!!!`);
  } else {
    out(
      `ratio of calls per core, sipedge / rtpengine (same load, same run; sipedge carries SRTP to the browser, rtpengine plain RTP): transcoding ${fixed(ratio('transcoding'))}, pass-through ${fixed(ratio('pass-through'))}`,
    );
  }
  out(`run took ${seconds.toFixed(0)} s`);
  const summary = (result: WindowResult | undefined): Record<string, number> | undefined =>
    result === undefined
      ? undefined
      : {
          calls: result.calls,
          cpuPerCallPercent: round(result.relayCpuPerCall * 100, 3),
          callsPerCoreFromCpu: Math.floor(1 / result.relayCpuPerCall),
          lateOrLostPercent: round(result.badFraction * 100, 4),
          relayCores: round(result.relayCores, 3),
          generatorCores: round(result.generatorCores, 3),
        };
  out(
    JSON.stringify({
      bench: 'media',
      date: new Date().toISOString(),
      loadAverage: { start: loadStart.map((v) => round(v, 2)), end: loadEnd.map((v) => round(v, 2)) },
      cpuPressure: { start: machine.pressureStart, end: machine.pressureEnd },
      sipedge: Object.fromEntries(MODES.map((mode) => [mode, summary(measured.fixed[mode])])),
      rtpengine: measured.referenceMissing === undefined ? Object.fromEntries(MODES.map((mode) => [mode, summary(measured.reference[mode])])) : { missing: measured.referenceMissing },
      maxCallsPerCore: Object.fromEntries(
        MODES.map((mode) => {
          const search = measured.search[mode];
          return [mode, search === undefined ? undefined : { best: search.best, failedAt: search.failedAt ?? null, lowerBound: search.budgetSpent || search.failedAt === undefined, generatorSuspect: search.generatorSuspect }];
        }),
      ),
      passThroughLatencyMs:
        latency === undefined
          ? undefined
          : {
              browserToPbx: { p50: round(latency.browserToPbx.p50, 3), p99: round(latency.browserToPbx.p99, 3) },
              pbxToBrowser: { p50: round(latency.pbxToBrowser.p50, 3), p99: round(latency.pbxToBrowser.p99, 3) },
              loopbackFloor: floor === undefined ? undefined : { p50: round(floor.p50, 3), p99: round(floor.p99, 3) },
              rtpengine: referenceLatency === undefined ? undefined : { p50: round(referenceLatency.p50, 3), p99: round(referenceLatency.p99, 3) },
            },
      ratioCallsPerCoreVsRtpengine: { transcoding: roundOrNull(ratio('transcoding')), passThrough: roundOrNull(ratio('pass-through')) },
      seconds: Math.round(seconds),
    }),
  );
}

function percent(fraction: number, digits: number): string {
  return `${(fraction * 100).toFixed(digits)} %`;
}

function perCore(fraction: number): string {
  return fraction > 0 ? String(Math.floor(1 / fraction)) : '-';
}

function fixed(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${value.toFixed(2)}x`;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function roundOrNull(value: number | undefined): number | null {
  return value === undefined ? null : round(value, 3);
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  return new Promise((resolve) =>
    socket.bind(0, '127.0.0.1', () => {
      const port = socket.address().port;
      socket.close(() => resolve(port));
    }),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    out(JSON.stringify({ bench: 'media', error: String(error) }));
    process.exit(1);
  },
);
