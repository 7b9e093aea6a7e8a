/**
 * The two servers under load, started the way their owners start them: sipedge through
 * `startEdge` (workers/local/edge-runner.ts) with users created through its API, Kamailio through
 * the reference rig's own `scripts/start-kamailio.sh` and `kamailio.cfg`, stopped by its pid file
 * with `scripts/stop.sh`.
 *
 * Each target names its server processes, so CPU and memory are read from /proc the same way for
 * both.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startEdge } from '../../../workers/local/edge-runner.ts';
import type { LoadTarget } from './loadgen.ts';
import { RIG_DIR } from './loadgen.ts';
import { descendants, isAlive, listenerOf, portInUse, processName, udpPortInUse } from './proc.ts';

export interface ServerProcess {
  /** What the process does, e.g. `workerd (worker)`; CPU and memory are reported per role. */
  readonly role: string;
  readonly pid: number;
  /**
   * Part of the server proper. False for the Node process that hosts Miniflare locally: it exists
   * only in local runs, so its CPU and memory are reported apart from the server's.
   */
  readonly core: boolean;
}

export interface Target extends LoadTarget {
  readonly name: 'sipedge' | 'kamailio';
  /** The server processes as they are now (Kamailio and workerd may add processes). */
  processes(): ServerProcess[];
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- sipedge

export interface EdgeTarget extends Target {
  /** Seconds spent creating the load users through the API. */
  readonly usersCreatedInS: number;
}

/** The users' password on the edge: its API refuses passwords under 8 characters, so not the rig's `pw`. */
const EDGE_PASSWORD = 'bench-password-1';

export async function startEdgeTarget(options: { readonly stateDir: string; readonly users: number }): Promise<EdgeTarget> {
  const secrets = {
    SIPEDGE_NONCE_SECRET: randomBytes(24).toString('hex'),
    SIPEDGE_OPERATOR_TOKEN: randomBytes(24).toString('hex'),
    SIPEDGE_MEDIA_SECRET: randomBytes(32).toString('hex'),
  };
  // As `npm start` does: wrangler checks wrangler.toml's required secrets against the environment.
  Object.assign(process.env, secrets);
  const edge = await startEdge({ port: 0, persistTo: options.stateDir, vars: secrets });
  try {
    const health = await fetch(new URL('/health', edge.url));
    if (!health.ok) throw new Error(`the edge started but /health answered ${health.status}`);
    const info: unknown = await health.json();
    const domain = typeof info === 'object' && info !== null && 'domain' in info && typeof info.domain === 'string' ? info.domain : undefined;
    if (domain === undefined) throw new Error('/health did not name the SIP domain');

    const started = performance.now();
    await createUsers(edge.url, secrets.SIPEDGE_OPERATOR_TOKEN, options.users);
    const usersCreatedInS = (performance.now() - started) / 1000;

    const webSocketUrl = new URL('/sip', edge.url);
    webSocketUrl.protocol = 'ws:';
    const port = Number(edge.url.port);
    return {
      name: 'sipedge',
      url: webSocketUrl.href,
      domain,
      userPattern: 'user{n}',
      password: EDGE_PASSWORD,
      users: options.users,
      usersCreatedInS,
      processes: () => edgeProcesses(port),
      stop: () => edge.stop(),
    };
  } catch (error) {
    await edge.stop();
    throw error;
  }
}

async function createUsers(base: URL, token: string, count: number): Promise<void> {
  let next = 1;
  const failures: string[] = [];
  const worker = async (): Promise<void> => {
    while (next <= count && failures.length === 0) {
      const username = `user${next}`;
      next += 1;
      const response = await fetch(new URL(`/api/v1/users/${username}`, base), {
        method: 'PUT',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ password: EDGE_PASSWORD, displayName: `Load ${username}` }),
      });
      if (!response.ok) failures.push(`${username}: ${response.status} ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  if (failures.length > 0) throw new Error(`creating load users failed: ${failures.join('; ')}`);
}

/**
 * The workerd processes this process started and this Node process, which hosts Miniflare (and
 * follows workerd's log file). `startEdge` runs one workerd, which listens on the port itself; when
 * there are two (wrangler's dev proxy in front, as `startEdge` once did), the one holding the port is
 * the proxy.
 */
function edgeProcesses(port: number): ServerProcess[] {
  const workerds = descendants(process.pid).filter((pid) => processName(pid) === 'workerd');
  const listener = listenerOf(port, workerds);
  const roleOf = (pid: number): string => (workerds.length === 1 ? 'workerd' : pid === listener ? 'workerd (dev proxy)' : 'workerd (worker)');
  return [
    ...workerds.map((pid) => ({ role: roleOf(pid), pid, core: true })),
    { role: 'node (edge host)', pid: process.pid, core: false },
  ];
}

// ---------------------------------------------------------------- Kamailio

export const KAMAILIO_BINARY = '/usr/sbin/kamailio';
const KAMAILIO_WS_PORT = 8080;
const KAMAILIO_SIP_PORT = 5060;

/** Why the reference cannot run here; `busy` when only a fixed port is taken (worth waiting for). */
export interface Unavailable {
  readonly reason: string;
  readonly busy: boolean;
}

/** Why the reference cannot run here, or undefined when it can. */
export function kamailioUnavailable(): Unavailable | undefined {
  try {
    accessSync(KAMAILIO_BINARY, constants.X_OK);
  } catch {
    return { reason: `${KAMAILIO_BINARY} is not installed (apt-get install --no-install-recommends kamailio kamailio-websocket-modules)`, busy: false };
  }
  for (const script of ['scripts/start-kamailio.sh', 'scripts/stop.sh', 'kamailio.cfg']) {
    if (!existsSync(`${RIG_DIR}/${script}`)) return { reason: `the reference rig has no ${script} (looked in ${RIG_DIR})`, busy: false };
  }
  for (const port of [KAMAILIO_WS_PORT, KAMAILIO_SIP_PORT]) {
    if (portInUse(port)) return { reason: `port ${port} is taken (another Kamailio rig running?); the rig's config listens on it`, busy: true };
  }
  return undefined;
}

export interface KamailioTarget extends Target {
  readonly runDir: string;
  /** Kamailio's own count of used shared memory (`kamcmd core.shmmem`), KiB; undefined when kamcmd fails. */
  sharedMemoryUsedKiB(): Promise<number | undefined>;
}

/**
 * `args` go to kamailio through the rig's script, e.g. `-A WITH_CALLAUTH` (407 on initial INVITE
 * and MESSAGE from local users, as the edge does; REGISTER is unaffected).
 */
export async function startKamailioTarget(options: { readonly runDir: string; readonly users: number; readonly args?: readonly string[] }): Promise<KamailioTarget> {
  const env = { ...process.env, RUN_DIR: options.runDir };
  const started = await run('bash', [`${RIG_DIR}/scripts/start-kamailio.sh`, ...(options.args ?? [])], env);
  const pidFile = `${options.runDir}/kamailio.pid`;
  const mainPid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : Number.NaN;
  if (started.code !== 0 || !Number.isInteger(mainPid) || !isAlive(mainPid)) {
    await run('bash', [`${RIG_DIR}/scripts/stop.sh`, 'kamailio'], env);
    throw new Error(`the rig's start-kamailio.sh failed (exit ${started.code}): ${started.output.trim().slice(-600)}`);
  }
  return {
    name: 'kamailio',
    url: `ws://127.0.0.1:${KAMAILIO_WS_PORT}/`,
    // kamailio.cfg: user1..user10000 with password "pw", domain example.test.
    domain: 'example.test',
    userPattern: 'user{n}',
    password: 'pw',
    users: options.users,
    runDir: options.runDir,
    processes: () => [mainPid, ...descendants(mainPid)].filter(isAlive).map((pid) => ({ role: 'kamailio', pid, core: true })),
    sharedMemoryUsedKiB: async () => {
      const result = await run('kamcmd', ['-s', `unix:${options.runDir}/kamailio_ctl`, 'core.shmmem', 'k'], env);
      const line = result.output.split('\n').find((text) => text.trim().startsWith('used:'));
      const value = line === undefined ? Number.NaN : Number(line.trim().split(/\s+/)[1]);
      return result.code === 0 && Number.isFinite(value) ? value : undefined;
    },
    stop: async () => {
      const stopped = await run('bash', [`${RIG_DIR}/scripts/stop.sh`, 'kamailio'], env);
      if (stopped.code !== 0) process.stderr.write(`stop.sh kamailio: ${stopped.output}\n`);
    },
  };
}

// ---------------------------------------------------------------- rtpengine

const RTPENGINE_NG_PORT = 2223;

/** Why the rig's rtpengine cannot start here, or undefined when it can. */
export function rtpengineUnavailable(): Unavailable | undefined {
  if (!existsSync(`${RIG_DIR}/scripts/start-rtpengine.sh`)) return { reason: `the reference rig has no scripts/start-rtpengine.sh (looked in ${RIG_DIR})`, busy: false };
  try {
    accessSync('/usr/bin/rtpengine', constants.X_OK);
  } catch {
    return { reason: '/usr/bin/rtpengine is not installed', busy: false };
  }
  if (udpPortInUse(RTPENGINE_NG_PORT)) return { reason: `UDP port ${RTPENGINE_NG_PORT} (rtpengine ng) is taken (another rig running?)`, busy: true };
  return undefined;
}

export interface Rtpengine {
  readonly process: ServerProcess;
  stop(): Promise<void>;
}

/**
 * The rig's rtpengine (`scripts/start-rtpengine.sh`, `rtpengine.conf`: ng on udp 127.0.0.1:2223), which
 * kamailio.cfg asks to anchor the media of every INVITE with SDP; without it each call set-up would
 * wait on rtpengine timeouts. Stopped by its pid file.
 */
export async function startRtpengine(runDir: string): Promise<Rtpengine> {
  const env = { ...process.env, RUN_DIR: runDir };
  const started = await run('bash', [`${RIG_DIR}/scripts/start-rtpengine.sh`], env);
  const pidFile = `${runDir}/rtpengine.pid`;
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : Number.NaN;
  if (started.code !== 0 || !Number.isInteger(pid) || !isAlive(pid)) {
    await run('bash', [`${RIG_DIR}/scripts/stop.sh`, 'rtpengine'], env);
    throw new Error(`the rig's start-rtpengine.sh failed (exit ${started.code}): ${started.output.trim().slice(-600)}`);
  }
  return {
    process: { role: 'rtpengine', pid, core: true },
    stop: async () => {
      const stopped = await run('bash', [`${RIG_DIR}/scripts/stop.sh`, 'rtpengine'], env);
      if (stopped.code !== 0) process.stderr.write(`stop.sh rtpengine: ${stopped.output}\n`);
    },
  };
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    child.on('error', (error) => resolve({ code: -1, output: `${output}${error.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}
