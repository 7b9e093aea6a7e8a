/**
 * The routing webhooks against a real HTTP server on loopback: the request is signed as
 * documented (shared/signing), the reply is parsed, and every way a webhook can fail (no answer in
 * time, an error status, a reply that is not the expected JSON) comes back as a reason.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NONCE_HEADER, RequestSigner, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../shared/signing/index.ts';
import { callWebhook, inboundReply, routingReply } from '../../workers/routing/routing-webhook.ts';

const SECRET = 'webhook-secret-0123456789';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A server that hands each request to `answer`; resolves to its base URL. */
async function serve(answer: (request: Received, response: ServerResponse) => void): Promise<string> {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => answer({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') }, response));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server?.address() as AddressInfo).port}`;
}

const hook = (url: string, timeout_ms = 2000) => ({ url, secret: SECRET, timeout_ms });

describe('routing webhooks on loopback', () => {
  it('POSTs signed JSON and reads the chosen trunks', async () => {
    let received: Received | undefined;
    const base = await serve((request, response) => {
      received = request;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ trunks: ['trunk-b'] }));
    });
    const body = { caller: 'alice', dialled: '0049301', candidates: [{ link_id: 'trunk-b', number: '+49301' }] };
    const result = await callWebhook(hook(`${base}/route?domain=x`), body, routingReply, fetch, Date.now());
    expect(result).toEqual({ ok: true, value: { trunks: ['trunk-b'] } });
    expect(received?.method).toBe('POST');
    expect(received?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(received?.body ?? '')).toEqual(body);
    const parts = {
      method: 'POST',
      path: '/route?domain=x',
      timestamp: Number(received?.headers[TIMESTAMP_HEADER]),
      nonce: String(received?.headers[NONCE_HEADER]),
      body: new TextEncoder().encode(received?.body),
    };
    expect(await new RequestSigner(SECRET).verify(parts, String(received?.headers[SIGNATURE_HEADER]))).toBe(true);
    expect(await new RequestSigner('another-secret-0123456789').verify(parts, String(received?.headers[SIGNATURE_HEADER]))).toBe(false);
  });

  it('gives up when there is no answer within the timeout', async () => {
    const base = await serve(() => undefined);
    const result = await callWebhook(hook(base, 200), {}, routingReply, fetch, Date.now());
    expect(result).toEqual({ ok: false, reason: 'no answer within 200 ms' });
  });

  it('reports an error status', async () => {
    const base = await serve((_request, response) => response.writeHead(500).end('boom'));
    expect(await callWebhook(hook(base), {}, inboundReply, fetch, Date.now())).toEqual({ ok: false, reason: 'HTTP 500' });
  });

  it('reports a reply that is not JSON, or not the expected JSON', async () => {
    const notJson = await serve((_request, response) => response.writeHead(200).end('users: alice'));
    expect(await callWebhook(hook(notJson), {}, inboundReply, fetch, Date.now())).toEqual({ ok: false, reason: 'the reply is not JSON' });
    server?.closeAllConnections();
    server?.close();
    const wrongShape = await serve((_request, response) => response.writeHead(200).end(JSON.stringify({ users: 'alice' })));
    expect(await callWebhook(hook(wrongShape), {}, inboundReply, fetch, Date.now())).toEqual({ ok: false, reason: 'the reply is not the expected JSON' });
  });

  it('reports a server that is not there', async () => {
    const base = await serve(() => undefined);
    server?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => setImmediate(resolve));
    const result = await callWebhook(hook(base), {}, routingReply, fetch, Date.now());
    expect(result.ok).toBe(false);
  });

  it('does not read the reply of a notification', async () => {
    const base = await serve((_request, response) => response.writeHead(204).end());
    expect(await callWebhook(hook(base), { link: 'trunk-a' }, undefined, fetch, Date.now())).toEqual({ ok: true, value: undefined });
  });
});
