/**
 * The control API over TLS (`control.tls.cert` and `control.tls.key`): a certificate made for the
 * test with openssl, the edge's signed requests over HTTPS and the SIP gateway over WSS, and the
 * configuration errors an operator would meet.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../media-node/config/index.ts';
import { RequestSigner, newNonce } from '../../../media-node/signing/index.ts';
import { TEST_SECRET, startNode, type NodeRig } from '../support/media-node-rig.ts';

let directory: string;
let cert: string;
let key: string;
let node: NodeRig;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'sipedge-media-tls-'));
  cert = join(directory, 'cert.pem');
  key = join(directory, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  node = await startNode({ SIPEDGE_MEDIA_CONTROL_TLS_CERT: cert, SIPEDGE_MEDIA_CONTROL_TLS_KEY: key });
});

afterAll(async () => {
  await node?.close();
  rmSync(directory, { recursive: true, force: true });
});

/** One request over HTTPS trusting only the test's certificate. */
function httpsRequest(method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; body: string; protocol: string }> {
  const url = new URL(node.service.controlUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers, ca: readFileSync(cert) }, (response) => {
      let text = '';
      const protocol = (response.socket as { getProtocol?: () => string | null }).getProtocol?.() ?? '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text, protocol }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the control API over TLS', () => {
  it('answers signed requests over HTTPS and advertises an https URL', async () => {
    expect(node.service.controlUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(node.service.heartbeatBody().controlUrl).toBe(node.service.controlUrl);
    const health = await httpsRequest('GET', '/health', {});
    expect(health.status).toBe(200);
    expect(health.protocol).toMatch(/^TLSv1\.[23]$/);
    const body = JSON.stringify({ id: `tls-${process.pid}` });
    const signed = await new RequestSigner(TEST_SECRET).sign({ method: 'POST', path: '/v1/sessions', body }, Date.now(), newNonce());
    const created = await httpsRequest('POST', '/v1/sessions', { ...signed, 'Content-Type': 'application/json' }, body);
    expect(created.status).toBe(201);
    expect(JSON.parse(created.body)).toMatchObject({ offeredBy: 'node' });
    const deleteSigned = await new RequestSigner(TEST_SECRET).sign({ method: 'DELETE', path: `/v1/sessions/tls-${process.pid}`, body: '' }, Date.now(), newNonce());
    expect((await httpsRequest('DELETE', `/v1/sessions/tls-${process.pid}`, deleteSigned)).status).toBe(200);
    const unsigned = await httpsRequest('GET', '/v1/sessions', {});
    expect(unsigned.status).toBe(401);
  });

  it('takes the SIP gateway’s signed WebSocket upgrade over TLS', async () => {
    const path = '/v1/sip-gateway/links/tls-link';
    const signed = await new RequestSigner(TEST_SECRET).sign({ method: 'GET', path, body: '' }, Date.now(), newNonce());
    const url = new URL(node.service.controlUrl);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({
        host: url.hostname,
        port: url.port,
        path,
        ca: readFileSync(cert),
        headers: { ...signed, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      req.on('upgrade', (response, socket) => {
        socket.destroy();
        resolve(response.statusCode ?? 0);
      });
      req.on('response', (response) => resolve(response.statusCode ?? 0));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(101);
  });

  it('refuses a certificate setting without its key, and files that are not PEM, naming the field', () => {
    const base = { SIPEDGE_MEDIA_SECRET: TEST_SECRET, SIPEDGE_MEDIA_LOCAL: 'true' };
    const onlyCert = (() => {
      try {
        loadConfig({ ...base, SIPEDGE_MEDIA_CONTROL_TLS_CERT: cert });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(onlyCert).toBeInstanceOf(ConfigError);
    expect((onlyCert as ConfigError).issues.map((issue) => issue.field)).toEqual(['control.tls.key']);
    try {
      loadConfig({ ...base, SIPEDGE_MEDIA_CONTROL_TLS_CERT: join(directory, 'missing.pem'), SIPEDGE_MEDIA_CONTROL_TLS_KEY: join(directory, 'cert.pem').replace('cert.pem', 'nothing') });
      expect.unreachable('a missing file must be refused');
    } catch (error) {
      expect((error as ConfigError).issues.map((issue) => `${issue.field} ${issue.source}`)).toEqual([
        'control.tls.cert SIPEDGE_MEDIA_CONTROL_TLS_CERT',
        'control.tls.key SIPEDGE_MEDIA_CONTROL_TLS_KEY',
      ]);
    }
  });
});
