/**
 * A tiny static server on 127.0.0.1 for the browser tests: one page per library, whose script is
 * `pages/<name>-phone.ts` bundled by esbuild together with the real `sip.js` or `jssip` package
 * from node_modules. Pages are served over http://127.0.0.1, which browsers treat as a secure
 * context, so getUserMedia works.
 */
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const PAGES = ['sipjs', 'jssip'] as const;
export type PageName = (typeof PAGES)[number];

export interface PageServer {
  url(page: PageName): string;
  close(): Promise<void>;
}

async function bundle(page: PageName): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(`../pages/${page}-phone.ts`, import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced nothing for ${page}`);
  return output.text;
}

function html(page: PageName): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${page} phone</title></head><body><script type="module" src="/${page}.js"></script></body></html>`;
}

export async function startPageServer(): Promise<PageServer> {
  const scripts = new Map<string, string>();
  for (const page of PAGES) scripts.set(`/${page}.js`, await bundle(page));
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const script = scripts.get(path);
    const page = PAGES.find((name) => path === `/${name}.html`);
    if (script !== undefined) {
      response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(script);
    } else if (page !== undefined) {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html(page));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: (page) => `http://127.0.0.1:${address.port}/${page}.html`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
