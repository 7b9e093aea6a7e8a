/**
 * `npm start`: runs sipedge locally. The edge Worker runs in workerd (Miniflare, via wrangler) on
 * http://127.0.0.1:8787 with its Durable Object state kept in `.sipedge/state`, so it survives
 * restarts. Ctrl-C stops it.
 *
 * Environment: SIPEDGE_PORT (default 8787), SIPEDGE_STATE (default .sipedge/state).
 */
import { startEdge, ROOT } from './edge-runner.ts';

const port = Number(process.env.SIPEDGE_PORT ?? 8787);
const persistTo = process.env.SIPEDGE_STATE ?? `${ROOT}.sipedge/state`;

const edge = await startEdge({ port, persistTo });
const health = await fetch(new URL('/health', edge.url));
if (!health.ok) throw new Error(`the edge started but /health answered ${health.status}`);
const info = (await health.json()) as { version: string; domain: string };

process.stdout.write(
  [
    '',
    `sipedge ${info.version} is running`,
    `  edge        ${edge.url.href}   (health: ${new URL('/health', edge.url).href})`,
    `  SIP domain  ${info.domain}`,
    `  state       ${persistTo}`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n'),
);

async function shutdown(): Promise<void> {
  await edge.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
