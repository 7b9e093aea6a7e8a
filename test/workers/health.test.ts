import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

describe('the edge Worker', () => {
  it('answers a liveness probe on /health with its version and domain', async () => {
    const response = await exports.default.fetch('http://edge.test/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', service: 'sipedge-edge', domain: 'demo.sipedge.local' });
  });
});
