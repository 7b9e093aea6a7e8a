import { defineConfig } from 'vitest/config';
import { cloudflareTest } from '@cloudflare/vitest-plugin';

/** Test values of the secrets wrangler.toml requires (never used outside tests). */
const TEST_SECRETS = {
  SIPEDGE_NONCE_SECRET: 'test-nonce-secret-0123456789abcdef',
  SIPEDGE_OPERATOR_TOKEN: 'test-operator-token',
  SIPEDGE_MEDIA_SECRET: 'test-media-secret-0123456789abcdef',
};
// wrangler checks the required secrets against the environment when the workers project reads
// wrangler.toml; without them it warns once per test file.
for (const [name, value] of Object.entries(TEST_SECRETS)) process.env[name] ??= value;

// Two kinds of tests:
// - `node`: the SIP core, the media node, and integration tests that start the edge in Miniflare
//   and drive it with real peers (sipp, Kamailio, baresip, Chromium) over real sockets.
// - `workers`: white-box tests inside workerd (runInDurableObject, runDurableObjectAlarm).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/workers/**', 'node_modules/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            // The secrets wrangler.toml requires, with test values.
            miniflare: { bindings: TEST_SECRETS },
          }),
        ],
        test: {
          name: 'workers',
          include: ['test/workers/**/*.test.ts'],
        },
      },
    ],
  },
});
