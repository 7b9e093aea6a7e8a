/**
 * Runs the reference rig's own load generator (`kamailio-rig/loadgen/loadgen.mjs`) as a child
 * process, unmodified, against either server, so sipedge and Kamailio are driven by identical code.
 *
 * The rig's generator prints progress on stderr and, as its last stdout line, one JSON summary. The
 * runner reports the progress lines that mark phases (`running N registrations`, `ALL_REGISTERED`,
 * `HOLD_DONE`) the moment they arrive, so the caller can read the servers' CPU and memory at the
 * edges of the measured phase rather than around the whole child process.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpuSeconds } from './proc.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WS_FALLBACK = fileURLToPath(new URL('./ws-fallback.ts', import.meta.url));

/** The rig's folder: `../shared/reference/kamailio-rig` from the project root, or SIPEDGE_RIG_DIR. */
export const RIG_DIR = process.env.SIPEDGE_RIG_DIR ?? `${PROJECT_ROOT}../shared/reference/kamailio-rig`;
export const LOADGEN = `${RIG_DIR}/loadgen/loadgen.mjs`;

/** Which copy of `ws` the generator will load, for the report. */
export function wsInUse(): string {
  const own = `${RIG_DIR}/loadgen/node_modules/ws/package.json`;
  const project = `${PROJECT_ROOT}node_modules/ws/package.json`;
  if (existsSync(own)) return `ws ${versionOf(own)} (the rig's own loadgen/node_modules)`;
  if (existsSync(project)) return `ws ${versionOf(project)} (the project's node_modules, via test/bench/edge/ws-fallback.ts)`;
  return 'ws not found';
}

function versionOf(packageJson: string): string {
  const parsed: unknown = JSON.parse(readFileSync(packageJson, 'utf8'));
  return isRecord(parsed) && typeof parsed.version === 'string' ? parsed.version : '?';
}

export interface LoadTarget {
  readonly url: string;
  readonly domain: string;
  readonly userPattern: string;
  readonly password: string;
  /** How many users exist, `user1`.. on both servers; the generator maps connection i to user (i mod users) + 1. */
  readonly users: number;
}

/** `traffic`: the MESSAGE or call loop starts (call mode logs `placing ...`; message mode has no such line, so its `opening ...` line, before 20 connects and REGISTERs, marks it). */
export type Phase = 'registering' | 'traffic' | 'all-registered' | 'hold-done' | 'summary';

export type LoadgenMode = 'register' | 'hold' | 'message' | 'call';

export interface LoadgenResult {
  readonly summary: Readonly<Record<string, unknown>>;
  readonly exitCode: number | null;
  /** CPU seconds the generator itself used, read just before it exited. */
  readonly loadgenCpuS: number;
  /** The last progress lines, for the report when something went wrong. */
  readonly stderrTail: readonly string[];
}

/**
 * Runs `node loadgen.mjs <mode> ...args` against `target` (`args` come last, so they may override
 * `--users`). `onPhase` is called synchronously when
 * the line that marks a phase arrives.
 */
export function runLoadgen(mode: LoadgenMode, args: readonly string[], target: LoadTarget, onPhase: (phase: Phase) => void): Promise<LoadgenResult> {
  const argv = [
    '--import', WS_FALLBACK,
    LOADGEN, mode,
    '--url', target.url,
    '--domain', target.domain,
    '--user-pattern', target.userPattern,
    '--password', target.password,
    '--users', String(target.users),
    ...args,
  ];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let lastStdout = '';
  let loadgenCpuS = 0;
  const lines = (stream: NodeJS.ReadableStream, each: (line: string) => void): void => {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let end = buffered.indexOf('\n');
      while (end >= 0) {
        each(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
        end = buffered.indexOf('\n');
      }
    });
  };
  lines(child.stderr, (line) => {
    tail.push(line);
    if (tail.length > 8) tail.shift();
    if (line.startsWith('running ')) onPhase('registering');
    else if (line.startsWith('placing ') || (mode === 'message' && line.startsWith('opening '))) onPhase('traffic');
    else if (line.startsWith('ALL_REGISTERED')) onPhase('all-registered');
    else if (line.startsWith('HOLD_DONE')) onPhase('hold-done');
  });
  lines(child.stdout, (line) => {
    if (!line.startsWith('{')) return;
    lastStdout = line;
    if (child.pid !== undefined) loadgenCpuS = cpuSeconds(child.pid);
    onPhase('summary');
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => {
      let summary: Record<string, unknown> = { error: 'no summary line' };
      try {
        const parsed: unknown = JSON.parse(lastStdout);
        if (isRecord(parsed)) summary = parsed;
      } catch {
        // Kept as "no summary line"; the stderr tail says why.
      }
      resolve({ summary, exitCode, loadgenCpuS, stderrTail: tail });
    });
  });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function numberAt(record: Readonly<Record<string, unknown>>, ...path: string[]): number | undefined {
  let value: unknown = record;
  for (const key of path) {
    if (!isRecord(value)) return undefined;
    value = value[key];
  }
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function countsAt(record: Readonly<Record<string, unknown>>, key: string): Record<string, number> {
  const value = record[key];
  const counts: Record<string, number> = {};
  if (!isRecord(value)) return counts;
  for (const [name, count] of Object.entries(value)) if (typeof count === 'number') counts[name] = count;
  return counts;
}
