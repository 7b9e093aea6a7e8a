/**
 * Runs the edge Worker locally in workerd through the Miniflare API, configured from
 * `wrangler.toml`, so the local edge and the deployed one are configured in one place.
 *
 * Used by `npm start`, by integration tests (a real port on 127.0.0.1 that sipp, Kamailio and
 * browsers reach) and by the benchmarks.
 *
 * How it is put together, and why not wrangler's `unstable_startWorker`:
 * - wrangler's own helpers read `wrangler.toml` (`unstable_readConfig`) and turn it into Miniflare
 *   worker options (`unstable_getMiniflareWorkerOptions`: bindings, Durable Objects with their
 *   SQLite flags, `[vars]`, the `[secrets]` it finds in .dev.vars, .env or the environment).
 * - `workers/index.ts` is bundled with esbuild with the options wrangler uses for a modules Worker
 *   (target, conditions, `cloudflare:*` external, keep names, `[define]`).
 * - One workerd process, started by Miniflare, listens on 127.0.0.1 itself. `wrangler dev` puts a
 *   second workerd in front (its dev proxy) that relays every request and WebSocket, and turns on
 *   local observability (every request traced into SQLite) and the local explorer; none of that
 *   here. `cf` is off (no download of `request.cf` data), no dev registry, no telemetry.
 * - workerd's stdout and stderr go to a file, not to pipes read by this Node process: a pipe fills
 *   when Node is busy (a test blocked in a synchronous call) and then workerd stops in the middle of
 *   a write, edge and all. Warnings and errors from that file are copied to this process's stderr
 *   as they appear. Miniflare always spawns workerd with pipes, so this goes through a small
 *   wrapper script named by `MINIFLARE_WORKERD_PATH` (see `workerdWithLogFile`).
 * - The `[assets]` block (the web pages) comes through wrangler's helper and Miniflare as it is:
 *   assets are served by workerd's own asset workers with `run_worker_first`, as on Cloudflare.
 * - `NODE_EXTRA_CA_CERTS`: Miniflare gives workerd the certificates of that file as trusted for
 *   outgoing TLS (`connect()` with `secureTransport`), reading the variable once, when Miniflare is
 *   first loaded. It is loaded on the first `startEdge` call, so set the variable before that.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import type { Json, Miniflare, V4MiniflareOptions, V4WorkerOptions } from 'miniflare';
import type { Unstable_MiniflareWorkerOptions } from 'wrangler';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG_PATH = `${ROOT}wrangler.toml`;

// Local runs never talk to Cloudflare: no telemetry, no download of `request.cf` data.
process.env.WRANGLER_SEND_METRICS = 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';

/** Levels of workerd's structured log lines, least severe first. */
export type EdgeLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none';

export interface EdgeOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Folder for Durable Object storage, so state survives restarts; omitted uses a fresh temporary store. */
  persistTo?: string;
  /** Overrides of `[vars]` (and secrets, locally). */
  vars?: Record<string, string>;
  /**
   * Worker log lines (`console.*` in the edge, workerd's own messages) at or above this level are
   * copied to this process's stderr. Default: `SIPEDGE_EDGE_LOG_LEVEL`, else `warn`.
   */
  logLevel?: EdgeLogLevel;
  /**
   * File that keeps workerd's whole output (every level), appended to. Omitted: a temporary file,
   * removed by `stop()`.
   */
  logFile?: string;
}

export interface RunningEdge {
  readonly url: URL;
  stop(): Promise<void>;
}

/** wrangler's parsed configuration (its `Unstable_Config` export names a type its declarations cannot resolve). */
type WranglerConfig = Extract<Parameters<typeof import('wrangler').unstable_getMiniflareWorkerOptions>[0], object>;

export async function startEdge(options: EdgeOptions = {}): Promise<RunningEdge> {
  // Loaded here, not at the top: Miniflare reads NODE_EXTRA_CA_CERTS when it loads (wrangler loads it too).
  const [miniflare, wrangler] = await Promise.all([import('miniflare'), import('wrangler')]);
  const vars = options.vars ?? {};

  // wrangler warns about `[secrets] required` it cannot find in .dev.vars, .env or the environment;
  // those given as vars here are not missing.
  const parsed: WranglerConfig = withWranglerLogLevel('warn', () => wrangler.unstable_readConfig({ config: CONFIG_PATH }));
  refuseUnsupported(parsed);
  const required = parsed.secrets?.required;
  const config: WranglerConfig = required === undefined ? parsed : { ...parsed, secrets: { ...parsed.secrets, required: required.filter((name) => !(name in vars)) } };
  const fromConfig: Unstable_MiniflareWorkerOptions = withWranglerLogLevel('warn', () => wrangler.unstable_getMiniflareWorkerOptions(config));
  if (fromConfig.externalWorkers.length > 0) throw new Error('wrangler.toml binds services of other Workers; the local edge runner does not start those');
  const main = fromConfig.main ?? parsed.main;
  if (main === undefined) throw new Error(`${CONFIG_PATH} names no main module`);
  const assets: unknown = fromConfig.workerOptions.assets;
  ensureAssetsDirectory(typeof assets === 'object' && assets !== null && 'directory' in assets && typeof assets.directory === 'string' ? assets.directory : undefined);

  const runDir = mkdtempSync(join(tmpdir(), 'sipedge-edge-run-'));
  const logFile = options.logFile ?? join(runDir, 'workerd.log');
  mkdirSync(dirname(logFile), { recursive: true });
  writeFileSync(logFile, '', { flag: 'a' });
  let log: LogFollower | undefined;
  let mf: Miniflare | undefined;
  try {
    const bundle = await bundleWorker(main, join(runDir, 'bundle'), parsed, fromConfig.define);
    const workerd = workerdWithLogFile(createRequire(import.meta.resolve('miniflare')));
    const { modulesRules: _rules, ...workerOptions } = fromConfig.workerOptions;
    // `[vars]` and the secrets wrangler found, as name -> value; `vars` override them.
    const configured: unknown = workerOptions.bindings;
    const bindings: Record<string, Json> = { ...(typeof configured === 'object' && configured !== null ? (configured as Record<string, Json>) : {}), ...vars };
    const worker: V4WorkerOptions = {
      ...workerOptions,
      name: parsed.name ?? 'sipedge',
      modulesRoot: bundle.root,
      modules: [{ type: 'ESModule', path: bundle.path, contents: bundle.contents }],
      bindings,
    };
    const v4: V4MiniflareOptions = {
      rootPath: ROOT,
      host: '127.0.0.1',
      port: options.port ?? 0,
      cf: false,
      log: new miniflare.Log(miniflare.LogLevel.WARN),
      logRequests: false,
      telemetry: { enabled: false },
      // The same layout as `wrangler dev --persist-to DIR` (DIR/v3/do/<worker>-<class>/...), so a
      // folder written by either keeps working with the other.
      resourcePersistencePath: options.persistTo === undefined ? undefined : join(options.persistTo, 'v3'),
      unsafeRuntimeEnv: { [LOG_FILE_VARIABLE]: logFile, [BINARY_VARIABLE]: workerd.binary },
      workers: [worker],
    };
    log = await followLog(logFile, options.logLevel ?? logLevelFromEnvironment());
    process.env.MINIFLARE_WORKERD_PATH = workerd.wrapper;
    mf = new miniflare.Miniflare(miniflare.convertV4MiniflareOptions(v4));
    const url = await mf.ready;
    const running = mf;
    const follower = log;
    let stopped: Promise<void> | undefined;
    return {
      url,
      stop: () => {
        stopped ??= (async () => {
          try {
            await running.dispose();
          } finally {
            await follower.stop();
            rmSync(runDir, { recursive: true, force: true });
          }
        })();
        return stopped;
      },
    };
  } catch (error) {
    await mf?.dispose().catch(() => undefined);
    const tail = (await log?.stop()) ?? [];
    rmSync(runDir, { recursive: true, force: true });
    const detail = tail.length > 0 ? `\nworkerd said:\n${tail.join('\n')}` : '';
    throw new Error(`the local edge did not start: ${error instanceof Error ? error.message : String(error)}${detail}`, { cause: error });
  }
}

/** Configuration this runner does not reproduce the way wrangler would: better to say so than to run something else. */
function refuseUnsupported(config: WranglerConfig): void {
  const problems: string[] = [];
  if (config.no_bundle === true) problems.push('no_bundle');
  if ((config.rules?.length ?? 0) > 0) problems.push('[[rules]]');
  if (config.compatibility_flags?.some((flag) => flag.startsWith('nodejs_compat') || flag === 'node_compat') === true) {
    problems.push('nodejs_compat (wrangler adds unenv polyfills when bundling)');
  }
  if (problems.length > 0) throw new Error(`${CONFIG_PATH} uses ${problems.join(', ')}, which workers/local/edge-runner.ts does not support`);
}

/**
 * The `[assets]` directory (the web pages, built by `npm run build:web`) must exist for Miniflare to
 * start; a checkout that has not built the pages still runs the edge, with /phone and /console
 * answering 404 until it does.
 */
function ensureAssetsDirectory(directory: string | undefined): void {
  if (directory === undefined || existsSync(directory)) return;
  mkdirSync(directory, { recursive: true });
  process.stderr.write(`${directory} did not exist: the web pages are not built (npm run build:web), so /phone and /console answer 404\n`);
}

/** wrangler's logger reads WRANGLER_LOG on each call: quiet its info lines ("Using secrets defined in ...") for `fn`. */
function withWranglerLogLevel<T>(level: string, fn: () => T): T {
  const before = process.env.WRANGLER_LOG;
  if (before !== undefined) return fn();
  process.env.WRANGLER_LOG = level;
  try {
    return fn();
  } finally {
    delete process.env.WRANGLER_LOG;
  }
}

// ---------------------------------------------------------------- bundling

interface Bundle {
  /** Folder the module names are relative to. */
  readonly root: string;
  /** The entry module's path (the bundle and its source map are written there too). */
  readonly path: string;
  readonly contents: string;
}

/** Bundles the Worker as `wrangler dev` does for a modules Worker (wrangler's `bundleWorker`, less its dev-only middleware). */
async function bundleWorker(entry: string, outdir: string, config: WranglerConfig, define: Readonly<Record<string, string>>): Promise<Bundle> {
  const { build } = await import('esbuild');
  const nodeEnv = JSON.stringify(process.env.NODE_ENV ?? 'development');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    absWorkingDir: ROOT,
    outdir,
    entryNames: '[name]',
    format: 'esm',
    target: 'es2024',
    supported: { 'import-source': true, using: true },
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:*', '__STATIC_CONTENT_MANIFEST'],
    keepNames: config.keep_names ?? true,
    minify: config.minify ?? false,
    sourcemap: true,
    sourceRoot: outdir,
    define: {
      'process.env.NODE_ENV': nodeEnv,
      'global.process.env.NODE_ENV': nodeEnv,
      'globalThis.process.env.NODE_ENV': nodeEnv,
      ...define,
    },
    ...(config.alias === undefined ? {} : { alias: { ...config.alias } }),
    loader: { '.js': 'jsx', '.mjs': 'jsx', '.cjs': 'jsx' },
    logLevel: 'silent',
    write: true,
  });
  if (result.errors.length > 0) throw new Error(`bundling ${entry} failed: ${result.errors.map((message) => message.text).join('; ')}`);
  const path = join(outdir, `${entry.slice(entry.lastIndexOf('/') + 1).replace(/\.[cm]?[jt]sx?$/, '')}.js`);
  return { root: outdir, path, contents: readFileSync(path, 'utf8') };
}

// ---------------------------------------------------------------- workerd's output

const LOG_FILE_VARIABLE = 'SIPEDGE_WORKERD_LOG_FILE';
const BINARY_VARIABLE = 'SIPEDGE_WORKERD_BINARY';

/**
 * A script Miniflare runs in place of workerd (`MINIFLARE_WORKERD_PATH`): given a log file in its
 * environment (Miniflare's `unsafeRuntimeEnv`, per instance) it execs workerd with stdout and stderr
 * appended to that file; otherwise it execs workerd unchanged, so any other Miniflare in this
 * process (wrangler's) runs as before. `exec` keeps the pid, stdin (the config) and fd 3 (the
 * control pipe Miniflare reads the bound ports from). The script is written once per machine and
 * binary, under a name derived from its content, and left in place: child processes inherit the
 * variable and may outlive this one.
 */
function workerdWithLogFile(fromMiniflare: NodeJS.Require): { readonly wrapper: string; readonly binary: string } {
  const inherited = process.env.MINIFLARE_WORKERD_PATH;
  const binary = inherited !== undefined && !inherited.includes(WRAPPER_MARK) ? inherited : workerdBinary(fromMiniflare);
  const script = [
    '#!/bin/sh',
    '# Written by sipedge workers/local/edge-runner.ts: workerd with its output in a file instead of pipes.',
    `if [ -n "$${LOG_FILE_VARIABLE}" ]; then exec "$${BINARY_VARIABLE}" "$@" >>"$${LOG_FILE_VARIABLE}" 2>&1; fi`,
    `exec ${shellQuote(binary)} "$@"`,
    '',
  ].join('\n');
  const name = `${WRAPPER_MARK}-${createHash('sha256').update(script).digest('hex').slice(0, 16)}.sh`;
  const dir = join(tmpdir(), `sipedge-workerd-${userInfo().uid}`);
  const wrapper = join(dir, name);
  if (!existsSync(wrapper)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const partial = `${wrapper}.${process.pid}.tmp`;
    writeFileSync(partial, script, { mode: 0o755 });
    chmodSync(partial, 0o755);
    renameSync(partial, wrapper);
  }
  return { wrapper, binary };
}

const WRAPPER_MARK = 'workerd-output-to-file';

/** The workerd binary Miniflare would run: the `workerd` package Miniflare itself depends on. */
function workerdBinary(fromMiniflare: NodeJS.Require): string {
  const workerd: unknown = fromMiniflare('workerd');
  const path = typeof workerd === 'object' && workerd !== null && 'default' in workerd ? workerd.default : undefined;
  if (typeof path !== 'string') throw new Error("the 'workerd' package did not name its binary");
  return path;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

function logLevelFromEnvironment(): EdgeLogLevel {
  const value = process.env.SIPEDGE_EDGE_LOG_LEVEL;
  return value === 'debug' || value === 'info' || value === 'warn' || value === 'error' || value === 'none' ? value : 'warn';
}

const SEVERITY: Readonly<Record<string, number>> = { debug: 0, trace: 0, info: 1, log: 1, warn: 2, error: 3 };

interface LogFollower {
  /** Reads what is left, stops, and returns the last lines seen (for error messages). */
  stop(): Promise<string[]>;
}

/**
 * Follows workerd's log file from its current end: every 200 ms reads what was appended and copies
 * the lines at or above `level` to stderr. workerd writes structured lines
 * (`{"timestamp","level","message"}`); anything else (a crash report) counts as an error.
 */
async function followLog(path: string, level: EdgeLogLevel): Promise<LogFollower> {
  const minimum = level === 'none' ? Number.POSITIVE_INFINITY : (SEVERITY[level] ?? 2);
  const file: FileHandle = await open(path, 'r');
  let position = (await file.stat()).size;
  let partial = '';
  const recent: string[] = [];
  const buffer = Buffer.alloc(64 * 1024);
  const decoder = new StringDecoder('utf8');
  let reading: Promise<void> = Promise.resolve();
  const emit = (line: string): void => {
    if (line.trim() === '') return;
    let severity = 3;
    let message = line;
    if (line.startsWith('{')) {
      try {
        const entry: unknown = JSON.parse(line);
        if (typeof entry === 'object' && entry !== null && 'level' in entry && 'message' in entry && typeof entry.message === 'string') {
          severity = typeof entry.level === 'string' ? (SEVERITY[entry.level] ?? 1) : 1;
          message = entry.message;
        }
      } catch {
        // Not a structured line: kept whole, as an error.
      }
    }
    recent.push(message);
    if (recent.length > 20) recent.shift();
    if (severity >= minimum) process.stderr.write(`${message}\n`);
  };
  const readMore = async (): Promise<void> => {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      const lines = (partial + decoder.write(buffer.subarray(0, bytesRead))).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) emit(line);
    }
  };
  const timer = setInterval(() => {
    reading = reading.then(readMore).catch(() => undefined);
  }, 200);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await reading;
      await readMore().catch(() => undefined);
      if (partial !== '') emit(partial);
      partial = '';
      await file.close().catch(() => undefined);
      return recent.slice();
    },
  };
}
