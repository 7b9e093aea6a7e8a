/**
 * `npm start`: runs sipedge locally (after `npm run build:web`, which builds the web pages the edge
 * serves at /phone and /console). The edge Worker runs in workerd (through the Miniflare API,
 * configured from wrangler.toml) on http://127.0.0.1:8787 with its Durable Object state kept in
 * `.sipedge/state`, so it survives restarts, and SIP over WebSocket at ws://127.0.0.1:8787/sip. A
 * media node runs beside it as its own process (control API on 127.0.0.1:8090, local mode). The
 * first start generates the nonce secret, an operator token, the media control secret and two demo
 * users, kept in `.sipedge/local.json`; every start makes sure the demo users exist (through the
 * API) and prints how to use them. Ctrl-C stops both.
 *
 * Environment: PORT or SIPEDGE_PORT (default 8787), SIPEDGE_STATE (default .sipedge/state),
 * SIPEDGE_LOCAL_CONFIG (default .sipedge/local.json), SIPEDGE_MEDIA_CONTROL_PORT (default 8090).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { startEdge, ROOT } from './edge-runner.ts';
import { loadOrCreateLocalConfig, saveLocalConfig } from './local-config.ts';

const port = Number(process.env.PORT ?? process.env.SIPEDGE_PORT ?? 8787);
const persistTo = process.env.SIPEDGE_STATE ?? `${ROOT}.sipedge/state`;
const configPath = process.env.SIPEDGE_LOCAL_CONFIG ?? `${ROOT}.sipedge/local.json`;

const { config, created } = loadOrCreateLocalConfig(configPath);
const secrets = { SIPEDGE_NONCE_SECRET: config.nonceSecret, SIPEDGE_OPERATOR_TOKEN: config.operatorToken, SIPEDGE_MEDIA_SECRET: config.mediaSecret ?? '' };
// wrangler checks wrangler.toml's required secrets against the environment; the edge gets them as vars.
Object.assign(process.env, secrets);
const edge = await startEdge({ port, persistTo, vars: secrets });

const mediaPort = Number(process.env.SIPEDGE_MEDIA_CONTROL_PORT ?? 8090);
let mediaNode: ChildProcess | undefined;

/** The media node runs as its own process, as in production; its JSON logs go to .sipedge/media-node.log. */
async function startMediaNode(secret: string, edgeUrl: URL): Promise<URL> {
  mkdirSync(`${ROOT}.sipedge`, { recursive: true });
  const log = openSync(`${ROOT}.sipedge/media-node.log`, 'a');
  mediaNode = spawn(process.execPath, [`${ROOT}media-node/main.ts`], {
    env: {
      ...process.env,
      SIPEDGE_MEDIA_SECRET: secret,
      SIPEDGE_MEDIA_LOCAL: 'true',
      SIPEDGE_MEDIA_CONTROL_PORT: String(mediaPort),
      SIPEDGE_MEDIA_EDGE_URL: edgeUrl.href.replace(/\/$/, ''),
    },
    stdio: ['ignore', log, log],
  });
  const url = new URL(`http://127.0.0.1:${mediaPort}/`);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (mediaNode.exitCode !== null) throw new Error(`the media node exited with code ${mediaNode.exitCode}; see .sipedge/media-node.log`);
    const health = await fetch(new URL('/health', url)).catch(() => undefined);
    if (health?.ok) return url;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the media node did not answer /health within 15 s; see .sipedge/media-node.log');
}

async function stop(code: number): Promise<never> {
  if (mediaNode !== undefined && mediaNode.exitCode === null) {
    const exited = new Promise((resolve) => mediaNode?.once('exit', resolve));
    mediaNode.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  }
  await edge.stop();
  process.exit(code);
}

try {
  const health = await fetch(new URL('/health', edge.url));
  if (!health.ok) throw new Error(`the edge started but /health answered ${health.status}`);
  const info = (await health.json()) as { version: string; domain: string };

  for (const user of config.users) {
    const response = await fetch(new URL(`/api/v1/users/${encodeURIComponent(user.username)}`, edge.url), {
      method: 'PUT',
      headers: { Authorization: `Bearer ${config.operatorToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ password: user.password, displayName: user.displayName }),
    });
    if (!response.ok) throw new Error(`creating demo user ${user.username} failed: ${response.status} ${await response.text()}`);
  }

  const mediaUrl = await startMediaNode(config.mediaSecret ?? '', edge.url);

  const webSocketUrl = new URL('/sip', edge.url);
  webSocketUrl.protocol = 'ws:';
  saveLocalConfig(configPath, { ...config, domain: info.domain, edgeUrl: edge.url.href, webSocketUrl: webSocketUrl.href });

  const width = Math.max(...config.users.map((user) => user.username.length));
  process.stdout.write(
    [
      '',
      `sipedge ${info.version} is running${created ? ' (first start: secrets and demo users generated)' : ''}`,
      `  edge            ${edge.url.href}   (health: ${new URL('/health', edge.url).href})`,
      `  SIP domain      ${info.domain}`,
      `  SIP WebSocket   ${webSocketUrl.href}`,
      `  softphone       ${new URL('/phone', edge.url).href}   (sign in as a demo user)`,
      `  console         ${new URL('/console', edge.url).href}   (sign in with the operator token)`,
      `  media node      ${mediaUrl.href}   (control API, signed; health: ${new URL('/health', mediaUrl).href})`,
      '  demo users      (SIP URI, then password; the username is also the digest username)',
      ...config.users.map((user) => `    sip:${user.username}@${info.domain}`.padEnd(width + info.domain.length + 10) + `  ${user.password}`),
      `  operator token  ${config.operatorToken}   (Authorization: Bearer <token> on ${new URL('/api/v1/', edge.url).href})`,
      `  state           ${persistTo}`,
      `  these facts     ${configPath}`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  await stop(1);
}

// Whoever ends this process (a library's own signal handler included), the media node goes with it.
process.on('exit', () => {
  if (mediaNode !== undefined && mediaNode.exitCode === null) mediaNode.kill('SIGTERM');
});
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
