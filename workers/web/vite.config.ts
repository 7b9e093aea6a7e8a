/**
 * Builds the web pages (`npm run build:web`): /phone (the softphone) and /console (the operator
 * console), plain TypeScript and DOM with SIP.js bundled in. The output, `workers/web/dist`, is what
 * wrangler.toml's `[assets]` block serves; `phone.html` answers /phone.
 */
import { defineConfig } from 'vite';

const page = (name: string): string => new URL(`./${name}.html`, import.meta.url).pathname;

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/',
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    rolldownOptions: {
      input: { index: page('index'), phone: page('phone'), console: page('console') },
    },
  },
});
