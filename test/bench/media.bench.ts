/**
 * `npm run bench:media`: the media node under generated call load, next to rtpengine in the same run.
 *
 * The node runs in a process of its own (`node media-node/main.ts`); this process is the load
 * generator: per call a werift peer in the browser's place (ICE + DTLS-SRTP on 127.0.0.1) and a
 * UDP socket in the PBX's place, each sending 50 packets a second, set up through the control API.
 * Two modes: transcoding (the browser talks Opus, the PBX PCMU) and pass-through (PCMU both sides).
 *
 *   1. a fixed number of calls per mode: the node's CPU per call (from its /proc CPU time), and
 *      for pass-through the latency the node adds per packet, from a tcpdump capture of its ports
 *      with kernel timestamps (packet in to the packet it causes out, `media/relay-transit.ts`),
 *      next to the older measure, send to arrival between the generator's own sockets, which the
 *      generator's stalls dominate on a loaded machine;
 *   2. rtpengine, where installed, with the rig's rtpengine.conf, carrying the same load as plain
 *      RTP on both sides (the reference figure has no SRTP), and the ratio of calls per core and
 *      of added latency (captured the same way);
 *   3. pass-through latency rounds (`media/latency-rounds.ts`): the node, rtpengine and a bare
 *      Node relay each carry the fixed number of calls in the same captured window, so a shared
 *      machine's stolen CPU and the generator's bursts reach all three alike;
 *   4. per mode, a search over N for the most calls one core sustains with under 0.1 % late or
 *      lost packets (`media/capacity-search.ts`).
 *
 * Both processes share this machine's two cores with each other and with whatever else runs here:
 * the load average is printed, and compare the ratios of one run rather than absolute figures.
 * Prints a table and, as the last line, one JSON object.
 *
 * Smaller runs: BENCH_MEDIA_CALLS (calls per fixed window, default 20), BENCH_MEDIA_MODES
 * (`pass-through,transcoding`), BENCH_MEDIA_SEARCH=0 (no capacity search), BENCH_MEDIA_QUICK=1
 * (short windows), BENCH_MEDIA_LATENCY_ROUNDS (default 3); BENCH_NODE_ARGS passes flags to the node (`--trace-gc`, `--cpu-prof`) and
 * BENCH_NODE_LOG names a file for what it writes; BENCH_MEDIA_RELAY_RT=1, see below.
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { CallPool } from './media/call-pool.ts';
import { latencyRoundLines, latencyRoundsJson, runLatencyRounds, type CapturedTransit, type LatencyRound } from './media/latency-rounds.ts';
import { counted, passes, searchCapacity, type SearchResult } from './media/capacity-search.ts';
import { relayDirections, type LoadCall, type LoadMode } from './media/load-call.ts';
import { LoadScheduler } from './media/load-scheduler.ts';
import { LoopbackProbe } from './media/loopback-probe.ts';
import { measureWindow, transitSummary, type WindowOptions, type WindowResult } from './media/load-window.ts';
import { MediaNodeProcess } from './media/media-node-process.ts';
import { NodeCall } from './media/node-call.ts';
import { PacketCapture, udpPortRangesFilter } from './media/packet-capture.ts';
import { processCpuSecondsOf, runQueueWaitSecondsOf } from './media/proc-stat.ts';
import { Rtpengine } from './media/rtpengine.ts';
import { BareRelay } from './media/bare-relay.ts';
import { PlainRtpCall, bareRelay, rtpengineRelay } from './media/plain-rtp-call.ts';
import type { ControlClient } from '../media-node/support/control-client.ts';
import { relayTransit, sortedQuantile, type TransitFigures } from './media/relay-transit.ts';

const SECRET = 'bench-control-secret-0123456789abcdef';
const FIXED_CALLS = Number(process.env['BENCH_MEDIA_CALLS'] ?? 20);
const MAX_CALLS = Number(process.env['BENCH_MEDIA_MAX_CALLS'] ?? 300);
/** BENCH_MEDIA_QUICK=1: short windows and budgets, to check the benchmark itself works. */
const QUICK = process.env['BENCH_MEDIA_QUICK'] === '1';
const FIXED_WINDOW = { settleMs: QUICK ? 500 : 2000, windowMs: QUICK ? 2000 : 10_000 };
const SEARCH_WINDOW = { settleMs: QUICK ? 500 : 1500, windowMs: QUICK ? 1000 : 3000 };
const SEARCH_BUDGET_MS: Readonly<Record<LoadMode, number>> = QUICK ? { transcoding: 10_000, 'pass-through': 10_000 } : { transcoding: 120_000, 'pass-through': 110_000 };
const MODES: readonly LoadMode[] = (process.env['BENCH_MEDIA_MODES'] ?? 'pass-through,transcoding')
  .split(',')
  .filter((mode): mode is LoadMode => mode === 'pass-through' || mode === 'transcoding');
const SEARCH = process.env['BENCH_MEDIA_SEARCH'] !== '0';
/** BENCH_MEDIA_LATENCY_ROUNDS: pass-through windows with every relay at once (`media/latency-rounds.ts`); default 3, 0 for none. */
const LATENCY_ROUNDS = Math.max(0, Number(process.env['BENCH_MEDIA_LATENCY_ROUNDS'] ?? (QUICK ? 1 : 3)));
/**
 * BENCH_MEDIA_RELAY_RT=1 (root, or CAP_SYS_NICE): both relays run under `chrt --fifo 10`, so on a
 * shared machine they get a core when they have work, as on a dedicated media server; the table
 * shows how long each still waited for one. The generator itself (this process, and the capture
 * it starts) moves to `--fifo 5`, below the relays: twenty phones send on their own clocks, and a
 * generator descheduled for a few milliseconds would send their packets bunched up instead. The
 * kernel's real-time throttling leaves the rest of the machine at least 5 % of each core whatever
 * happens.
 */
const REAL_TIME = process.env['BENCH_MEDIA_RELAY_RT'] === '1';
const RELAY_LAUNCHER: readonly string[] = REAL_TIME ? ['chrt', '--fifo', '10'] : [];
/** The relays' ports, apart from each other and (ICE) from the ephemeral range, so a BPF filter picks them. */
const NODE_RTP_PORTS = [60000, 61999] as const;
const NODE_ICE_PORTS = [30000, 31999] as const;
const RTPENGINE_PORTS = [62000, 63999] as const;
const BARE_RELAY_PORTS = [64000, 64999] as const;
const CAPTURE_FILTER = udpPortRangesFilter([NODE_ICE_PORTS, NODE_RTP_PORTS, RTPENGINE_PORTS, BARE_RELAY_PORTS]);

const out = (line = ''): void => void process.stdout.write(`${line}\n`);
const progress = (line: string): void => void process.stderr.write(`[bench:media] ${line}\n`);

interface Measured {
  readonly fixed: Partial<Record<LoadMode, WindowResult>>;
  readonly reference: Partial<Record<LoadMode, WindowResult>>;
  readonly search: Partial<Record<LoadMode, SearchResult>>;
  /** Send-to-arrival straight between two generator sockets, during the pass-through window. */
  probe?: { readonly toPbx: readonly number[]; readonly toBrowser: readonly number[] };
  /** Pass-through latency each relay added, from captured kernel timestamps, or why it is missing. */
  readonly captured: { sipedge?: CapturedTransit | string; rtpengine?: CapturedTransit | string };
  referenceMissing?: string;
  /** Pass-through latency, the relays in the same windows: `BENCH_MEDIA_LATENCY_ROUNDS` of them. */
  rounds: readonly LatencyRound[];
}

async function main(): Promise<void> {
  const started = performance.now();
  if (REAL_TIME) execFileSync('chrt', ['--all-tasks', '--fifo', '--pid', '5', String(process.pid)]);
  const loadStart = loadavg();
  const pressureStart = cpuPressure();
  progress(`load average ${loadStart.map((value) => value.toFixed(2)).join(' ')}; CPU pressure ${pressureStart}; ${cpus().length} cores`);
  const measured: Measured = { fixed: {}, reference: {}, search: {}, captured: {}, rounds: [] };
  const node = await MediaNodeProcess.start({ controlPort: await freeTcpPort(), rtpPorts: NODE_RTP_PORTS, icePorts: NODE_ICE_PORTS, secret: SECRET, launcher: RELAY_LAUNCHER });
  const scheduler = new LoadScheduler();
  const nodeWindow = (base: typeof FIXED_WINDOW): WindowOptions => ({
    ...base,
    relayCpu: () => node.cpuSeconds(),
    relayRunQueueWait: () => runQueueWaitSecondsOf(node.pid, 'main'),
    relayScrape: () => node.scrape(),
  });
  try {
    for (const mode of MODES) {
      const pool = new CallPool(scheduler, (serial) => NodeCall.open(node.client, `bench-${mode}-${serial}`, mode));
      progress(`sipedge ${mode}: ${FIXED_CALLS} calls`);
      await pool.resize(FIXED_CALLS);
      if (mode === 'pass-through') {
        const probe = await LoopbackProbe.open();
        const probing = new LoadScheduler();
        probing.add(probe);
        const around = capturing(() => [scheduler.calls], ([result]) => (measured.captured.sipedge = result));
        const result = await measureWindow(scheduler, { ...nodeWindow(FIXED_WINDOW), alongside: [probe], around });
        measured.fixed[mode] = result;
        measured.probe = result.alongside[0];
        probing.stop();
        await probe.close();
      } else {
        measured.fixed[mode] = await measureWindow(scheduler, nodeWindow(FIXED_WINDOW));
      }
      await pool.resize(0);
    }
    const engine = await startReference(measured);
    try {
      if (engine !== undefined) await runReference(measured, scheduler, engine);
      await runRounds(measured, scheduler, nodeWindow(FIXED_WINDOW), { node: node.client, nodeCpuSeconds: () => node.cpuSeconds(), engine });
    } finally {
      await engine?.stop();
    }
    for (const mode of SEARCH ? MODES : []) {
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

async function startReference(measured: Measured): Promise<Rtpengine | undefined> {
  const available = Rtpengine.available();
  if (!available.ok) {
    measured.referenceMissing = available.why;
    return undefined;
  }
  try {
    return await Rtpengine.start(available.binary, { ngPort: await freeUdpPort(), portMin: RTPENGINE_PORTS[0], portMax: RTPENGINE_PORTS[1], launcher: RELAY_LAUNCHER });
  } catch (error) {
    measured.referenceMissing = `rtpengine did not start: ${String(error)}`;
    return undefined;
  }
}

async function runReference(measured: Measured, scheduler: LoadScheduler, engine: Rtpengine): Promise<void> {
  for (const mode of MODES) {
    const pool = new CallPool(scheduler, (serial) => PlainRtpCall.open(rtpengineRelay(engine), `bench-${mode}-${serial}-${Date.now()}`, mode), 20);
    progress(`rtpengine ${mode}: ${FIXED_CALLS} calls`);
    await pool.resize(FIXED_CALLS);
    const around = mode === 'pass-through' ? capturing(() => [scheduler.calls], ([result]) => (measured.captured.rtpengine = result)) : undefined;
    measured.reference[mode] = await measureWindow(scheduler, { ...referenceWindow(engine), around });
    await pool.resize(0);
  }
}

function referenceWindow(engine: Rtpengine): WindowOptions {
  return { ...FIXED_WINDOW, relayCpu: () => processCpuSecondsOf(engine.pid), relayRunQueueWait: () => runQueueWaitSecondsOf(engine.pid, 'all') };
}

/**
 * The pass-through latency rounds (`media/latency-rounds.ts`): the node, rtpengine and the bare
 * Node relay (`media/bare-relay-main.ts`: what any relay written for Node pays per packet before
 * doing anything, under the same launcher) each carry the fixed number of calls in the same window.
 */
async function runRounds(measured: Measured, scheduler: LoadScheduler, nodeWindow: WindowOptions, relays: { node: ControlClient; nodeCpuSeconds: () => number; engine: Rtpengine | undefined }): Promise<void> {
  if (!MODES.includes('pass-through') || LATENCY_ROUNDS === 0) return;
  const engine = relays.engine;
  const bare = BareRelay.start({ ports: BARE_RELAY_PORTS, launcher: RELAY_LAUNCHER });
  try {
    measured.rounds = await runLatencyRounds({
      scheduler,
      calls: FIXED_CALLS,
      rounds: LATENCY_ROUNDS,
      relays: [
        { name: 'sipedge', open: (round, serial) => NodeCall.open(relays.node, `round-${round}-${serial}`, 'pass-through'), parallel: 6, cpuSeconds: relays.nodeCpuSeconds },
        ...(engine === undefined
          ? []
          : [{ name: 'rtpengine' as const, open: (round: number, serial: number) => PlainRtpCall.open(rtpengineRelay(engine), `round-${round}-${serial}-${Date.now()}`, 'pass-through'), parallel: 20, cpuSeconds: () => processCpuSecondsOf(engine.pid) }]),
        { name: 'bare Node relay', open: (round, serial) => PlainRtpCall.open(bareRelay(bare), `round-${round}-${serial}`, 'pass-through'), parallel: 20, cpuSeconds: () => processCpuSecondsOf(bare.pid) },
      ],
      window: nodeWindow,
      capturing,
      progress,
    });
  } finally {
    await bare.stop();
  }
}

/**
 * A tcpdump capture of the relays' ports around a window, turned into the latency the relay added
 * per packet and direction for each group of calls (one group per relay); `into` gets the figures
 * per group, or why there are none (tcpdump missing or refused).
 */
function capturing(groups: () => readonly (readonly LoadCall[])[], into: (results: readonly (CapturedTransit | string)[]) => void): WindowOptions['around'] {
  const tool = PacketCapture.available();
  if (!tool.ok) {
    into(groups().map(() => tool.why));
    return undefined;
  }
  let capture: PacketCapture | undefined;
  return {
    begin: async () => {
      try {
        capture = await PacketCapture.start(tool.binary, CAPTURE_FILTER);
      } catch (error) {
        into(groups().map(() => `the capture failed: ${error instanceof Error ? error.message : String(error)}`));
      }
    },
    end: async () => {
      if (capture === undefined) return;
      const { pcap, droppedByKernel } = await capture.stop();
      into(
        groups().map((calls) => {
          const directions = calls.flatMap((call) => {
            const ports = call.ports();
            return ports === undefined ? [] : [relayDirections(ports)];
          });
          return {
            browserToPbx: relayTransit(pcap.datagrams, directions.map((direction) => direction.browserToPbx)),
            pbxToBrowser: relayTransit(pcap.datagrams, directions.map((direction) => direction.pbxToBrowser)),
            droppedByKernel,
          };
        }),
      );
    },
  };
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
  out(REAL_TIME ? `both relays run under \`${RELAY_LAUNCHER.join(' ')}\`, the generator under \`chrt --fifo 5\` (BENCH_MEDIA_RELAY_RT=1)` : 'relays and generator scheduled like everything else here (BENCH_MEDIA_RELAY_RT unset)');
  out();
  out('| relay | mode | calls | CPU per call | calls per core (from CPU) | late+lost | relay cores | relay waiting for a core (node: event loop; rtpengine: all threads) | CPU stolen by the hypervisor | generator cores | generator late sends |');
  out('|---|---|---|---|---|---|---|---|---|---|---|');
  const row = (relay: string, mode: LoadMode, result: WindowResult | undefined): void => {
    if (result === undefined) return;
    out(
      `| ${relay} | ${mode} | ${result.calls} | ${percent(result.relayCpuPerCall, 2)} | ${perCore(result.relayCpuPerCall)} | ${percent(result.badFraction, 3)} | ${result.relayCores.toFixed(2)} | ${Number.isNaN(result.relayWaitFraction) ? '-' : percent(result.relayWaitFraction, 2)} | ${percent(result.stealFraction, 1)} | ${result.generatorCores.toFixed(2)} | ${percent(result.lateSendFraction, 2)} |`,
    );
  };
  for (const mode of MODES) row('sipedge (SRTP browser leg)', mode, measured.fixed[mode]);
  for (const mode of MODES) row('rtpengine (plain RTP both sides)', mode, measured.reference[mode]);
  for (const mode of MODES) {
    const late = measured.fixed[mode];
    if (late === undefined || late.late + late.lost + late.relayDropped === 0) continue;
    const drops = Object.entries(late.relayDroppedBy).map(([why, count]) => `${why} ${count}`);
    const { toPbx, toBrowser } = late.byDirection;
    out(
      `  sipedge ${mode}: of ${late.expected} packets expected, late ${late.late} (at the PBX side ${toPbx.late}, at the browser side ${toBrowser.late}; worst ${Math.max(toPbx.worstMs, toBrowser.worstMs).toFixed(0)} ms behind), lost ${late.lost}, dropped by the node ${late.relayDropped}${drops.length === 0 ? '' : ` (${drops.join(', ')})`}`,
    );
  }
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
  out('pass-through, latency added by the relay: kernel timestamps (tcpdump on lo) of each packet into the relay and of the packet it causes out of it');
  out('and, of that, the relay\'s own time per packet: from the later of the packet\'s arrival and the relay\'s previous departure to its departure (the rest is the wait behind earlier packets of a burst; own time still includes any wait for a core)');
  out('| relay | direction | matched | unmatched in / out | added p50 | added p99 | added p99.9 | added max | own p50 | own p99 | own p99.9 | own max | most packets in within 1 ms |');
  out('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [relay, captured] of [
    ['sipedge', measured.captured.sipedge],
    ['rtpengine', measured.captured.rtpengine],
  ] as const) {
    if (captured === undefined) continue;
    if (typeof captured === 'string') {
      out(`| ${relay} | - | - | - | not measured: ${captured} | | | | | | | | |`);
      continue;
    }
    for (const [direction, figures] of [
      [relay === 'sipedge' ? 'browser->PBX (SRTP in, RTP out)' : 'browser->PBX (RTP)', captured.browserToPbx],
      [relay === 'sipedge' ? 'PBX->browser (RTP in, SRTP out)' : 'PBX->browser (RTP)', captured.pbxToBrowser],
    ] as const) {
      const ms = (values: Float64Array, q: number): string => `${sortedQuantile(values, q).toFixed(3)} ms`;
      const quantiles = (values: Float64Array): string => [0.5, 0.99, 0.999, 1].map((q) => ms(values, q)).join(' | ');
      out(
        `| ${relay} | ${direction} | ${figures.matched} | ${figures.unmatchedIn} / ${figures.unmatchedOut}${figures.unpaired > 0 ? ` (${figures.unpaired} streams unpaired)` : ''} | ${quantiles(figures.addedMs)} | ${quantiles(figures.ownMs)} | ${figures.burstMax} |`,
      );
    }
    if (captured.droppedByKernel !== 0) out(`  (${relay}: tcpdump says ${captured.droppedByKernel} packets dropped by the kernel)`);
  }
  if (measured.rounds.length > 0) {
    out();
    out(`pass-through, latency added by the relay in ${LATENCY_ROUNDS} rounds (BENCH_MEDIA_LATENCY_ROUNDS), each relay carrying ${FIXED_CALLS} calls in the same window, so the same stolen CPU and generator bursts reach all of them; both directions together:`);
    for (const line of latencyRoundLines(measured.rounds, 1)) out(line);
    out();
  }
  const stalls = measured.fixed['pass-through']?.relayStalls;
  if (stalls !== undefined) {
    out(`  the node's longest event-loop delay in the same window, by its /metrics (monitorEventLoopDelay): ${stalls.loopDelayMaxMs.toFixed(1)} ms; its GC pauses: BENCH_NODE_ARGS=--trace-gc BENCH_NODE_LOG=<file>`);
  }
  const ours = capturedSummary(measured.captured.sipedge);
  const theirs = capturedSummary(measured.captured.rtpengine);
  if (ours !== undefined && theirs !== undefined) {
    const ratios = (pick: 'added' | 'own'): string =>
      (['p50', 'p99', 'p999'] as const).map((q) => `${q === 'p999' ? 'p99.9' : q} ${(ours[pick][q] / theirs[pick][q]).toFixed(1)}x`).join(', ');
    out(`  sipedge / rtpengine, both directions together: added ${ratios('added')}; own time ${ratios('own')}`);
  }
  if (latency !== undefined) {
    out(
      `pass-through, send to arrival between the generator's sockets through the node (includes the generator's own SRTP and event loop): browser->PBX p50 ${latency.browserToPbx.p50.toFixed(2)} ms, p99 ${latency.browserToPbx.p99.toFixed(2)} ms; PBX->browser p50 ${latency.pbxToBrowser.p50.toFixed(2)} ms, p99 ${latency.pbxToBrowser.p99.toFixed(2)} ms`,
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
  if (referenceLatency !== undefined) out(`pass-through through rtpengine (plain RTP), generator to generator: p50 ${referenceLatency.p50.toFixed(2)} ms, p99 ${referenceLatency.p99.toFixed(2)} ms`);
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
          stealPercent: round(result.stealFraction * 100, 2),
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
      relayAddedLatencyMs: { sipedge: capturedJson(measured.captured.sipedge), rtpengine: capturedJson(measured.captured.rtpengine) },
      latencyRounds: latencyRoundsJson(measured.rounds),
      nodePassThroughStalls:
        stalls === undefined
          ? undefined
          : { loopDelayMaxMs: round(stalls.loopDelayMaxMs, 3) },
      ratioCallsPerCoreVsRtpengine: { transcoding: roundOrNull(ratio('transcoding')), passThrough: roundOrNull(ratio('pass-through')) },
      seconds: Math.round(seconds),
    }),
  );
}

interface Quantiles {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
}

/** Both directions together, added latency and own time, for the ratios. */
function capturedSummary(captured: CapturedTransit | string | undefined): { added: Quantiles; own: Quantiles } | undefined {
  if (captured === undefined || typeof captured === 'string') return undefined;
  const quantiles = (pick: (figures: TransitFigures) => Float64Array): Quantiles => {
    const all = Float64Array.from([...pick(captured.browserToPbx), ...pick(captured.pbxToBrowser)]).sort();
    return { p50: sortedQuantile(all, 0.5), p99: sortedQuantile(all, 0.99), p999: sortedQuantile(all, 0.999) };
  };
  if (captured.browserToPbx.matched + captured.pbxToBrowser.matched === 0) return undefined;
  return { added: quantiles((figures) => figures.addedMs), own: quantiles((figures) => figures.ownMs) };
}

function capturedJson(captured: CapturedTransit | string | undefined): unknown {
  if (captured === undefined) return undefined;
  if (typeof captured === 'string') return { missing: captured };
  const quantiles = (values: Float64Array): Record<string, number> => ({
    p50: round(sortedQuantile(values, 0.5), 4),
    p99: round(sortedQuantile(values, 0.99), 4),
    p999: round(sortedQuantile(values, 0.999), 4),
    max: round(sortedQuantile(values, 1), 4),
  });
  const direction = (figures: TransitFigures): Record<string, unknown> => ({
    matched: figures.matched,
    unmatchedIn: figures.unmatchedIn,
    unmatchedOut: figures.unmatchedOut,
    added: quantiles(figures.addedMs),
    own: quantiles(figures.ownMs),
    burstMax: figures.burstMax,
  });
  return { browserToPbx: direction(captured.browserToPbx), pbxToBrowser: direction(captured.pbxToBrowser), droppedByKernel: captured.droppedByKernel };
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
