/**
 * `npm test`: everything CI proves, in order, stopping at the first failure.
 *   1. generate the Worker's binding types from wrangler.toml;
 *   2. type-check the Node side, the Worker side and the web pages (strict);
 *   3. build the web pages (Vite, into workers/web/dist, which `[assets]` serves), then bundle the
 *      Worker exactly as `wrangler deploy` would (dry run) and print its size;
 *   4. say which Debian peers are present (with SIPEDGE_REQUIRE_PEERS=1 a missing one is an error);
 *   5. run every vitest project (SIP core, media node, workerd tests, integration tests).
 */
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { readFileSync, statSync } from 'node:fs';
import { PEERS, isInstalled, peersRequired, type PeerName } from './support/peers.ts';

const root = new URL('../', import.meta.url).pathname;
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' };

function step(title: string, command: string, args: string[]): void {
  process.stdout.write(`\n== ${title}: ${command} ${args.join(' ')}\n`);
  const started = performance.now();
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (result.status !== 0) {
    process.stdout.write(`\n== ${title} FAILED after ${seconds} s\n`);
    process.exit(result.status ?? 1);
  }
  process.stdout.write(`== ${title} passed in ${seconds} s\n`);
}

step('binding types', 'wrangler', ['types', 'workers/worker-configuration.d.ts']);
step('type-check (Node side)', 'tsc', ['--noEmit', '-p', 'tsconfig.json']);
step('type-check (Worker side)', 'tsc', ['--noEmit', '-p', 'workers/tsconfig.json']);
step('type-check (web pages)', 'tsc', ['--noEmit', '-p', 'workers/web/tsconfig.json']);
step('web pages', 'vite', ['build', '--config', 'workers/web/vite.config.ts']);
step('deployable bundle', 'wrangler', ['deploy', '--dry-run', '--outdir', 'dist']);
const bundle = readFileSync(`${root}dist/index.js`);
process.stdout.write(
  `== bundle dist/index.js: ${(statSync(`${root}dist/index.js`).size / 1024).toFixed(1)} KiB, ` +
    `${(gzipSync(bundle).length / 1024).toFixed(1)} KiB gzipped\n`,
);

const missing = (Object.keys(PEERS) as PeerName[]).filter((name) => !isInstalled(name));
if (missing.length > 0) {
  const list = missing.map((name) => `${name} (apt-get install ${PEERS[name].debianPackage})`).join(', ');
  if (peersRequired()) {
    process.stdout.write(`\n== SIPEDGE_REQUIRE_PEERS=1 and peers are missing: ${list}\n`);
    process.exit(1);
  }
  process.stdout.write(`\n!!! Peers missing, their tests will be SKIPPED: ${list}\n`);
} else {
  process.stdout.write(`\n== peers present: ${Object.keys(PEERS).join(', ')}\n`);
}

step('tests', 'vitest', ['run', ...process.argv.slice(2)]);
