/**
 * Runs the edge Worker locally in workerd through wrangler's programmatic dev server, configured
 * from `wrangler.toml`, so the local edge and the deployed one are configured in one place.
 *
 * Used by `npm start`, by integration tests (a real port on 127.0.0.1 that sipp, Kamailio and
 * browsers reach) and by the benchmarks.
 */
import { unstable_startWorker } from 'wrangler';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Local runs never talk to Cloudflare: no telemetry, no download of `request.cf` data.
process.env.WRANGLER_SEND_METRICS = 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';

export interface EdgeOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Folder for Durable Object storage, so state survives restarts; omitted uses a fresh temporary store. */
  persistTo?: string;
  /** Overrides of `[vars]` (and secrets, locally). */
  vars?: Record<string, string>;
}

export interface RunningEdge {
  readonly url: URL;
  stop(): Promise<void>;
}

export async function startEdge(options: EdgeOptions = {}): Promise<RunningEdge> {
  const bindings = Object.fromEntries(
    Object.entries(options.vars ?? {}).map(([name, value]) => [name, { type: 'plain_text', value }]),
  );
  const worker = await unstable_startWorker({
    config: `${ROOT}wrangler.toml`,
    bindings,
    dev: {
      server: { hostname: '127.0.0.1', port: options.port ?? 0 },
      inspector: false,
      watch: false,
      persist: options.persistTo ?? false,
      logLevel: 'warn',
    },
  } as Parameters<typeof unstable_startWorker>[0]);
  await worker.ready;
  const url = await worker.url;
  return { url, stop: () => worker.dispose() };
}
