import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ReplayGuard, RequestSigner, verifySignedRequest } from '../../../media-node/signing/index.ts';
import { FakeClock } from '../../support/fake-clock.ts';

const SECRET = 'test-control-secret-0123456789abcdef';
const encoder = new TextEncoder();

describe('request signatures', () => {
  it('are HMAC-SHA-256 over version, method, path, timestamp, nonce and body, as documented for the edge', async () => {
    const headers = await new RequestSigner(SECRET).sign({ method: 'post', path: '/v1/sessions?x=1', body: '{"id":"a"}' }, 1_790_000_000_123, 'nonce-0123456789abcdef');
    const expected = createHmac('sha256', SECRET).update('sipedge-v1\nPOST\n/v1/sessions?x=1\n1790000000\nnonce-0123456789abcdef\n{"id":"a"}').digest('hex');
    expect(headers).toEqual({ 'sipedge-timestamp': '1790000000', 'sipedge-nonce': 'nonce-0123456789abcdef', 'sipedge-signature': `v1=${expected}` });
  });

  it('verify only the exact request that was signed', async () => {
    const signer = new RequestSigner(SECRET);
    const parts = { method: 'DELETE', path: '/v1/sessions/a', timestamp: 1_790_000_000, nonce: 'nonce-0123456789abcdef', body: encoder.encode('') };
    const signature = (await signer.sign({ method: parts.method, path: parts.path }, parts.timestamp * 1000, parts.nonce))['sipedge-signature'];
    expect(await signer.verify(parts, signature)).toBe(true);
    for (const changed of [
      { ...parts, method: 'GET' },
      { ...parts, path: '/v1/sessions/b' },
      { ...parts, timestamp: parts.timestamp + 1 },
      { ...parts, nonce: 'nonce-0123456789abcdeF' },
      { ...parts, body: encoder.encode('{}') },
    ]) {
      expect(await signer.verify(changed, signature)).toBe(false);
    }
    expect(await new RequestSigner(`${SECRET}x`).verify(parts, signature)).toBe(false);
    expect(await signer.verify(parts, signature.toUpperCase())).toBe(false);
  });
});

describe('the replay guard', () => {
  it('takes timestamps within 30 s either way, and each nonce once while it could pass', () => {
    const clock = new FakeClock(1_790_000_000_000);
    const guard = new ReplayGuard({ clock });
    const now = clock.now() / 1000;
    expect([guard.isFresh(now), guard.isFresh(now - 30), guard.isFresh(now + 30), guard.isFresh(now - 31), guard.isFresh(now + 31)]).toEqual([true, true, true, false, false]);
    expect(guard.remember('n1-0123456789abcdef', now)).toBe(true);
    expect(guard.remember('n1-0123456789abcdef', now)).toBe(false);
    clock.advance(29_000);
    expect(guard.remember('n1-0123456789abcdef', now)).toBe(false);
    // Once its timestamp is stale, the nonce is forgotten: the record stays about one window long.
    clock.advance(3_000);
    expect(guard.isFresh(now)).toBe(false);
    guard.remember('n2-0123456789abcdef', clock.now() / 1000);
    expect(guard.remembered).toBe(1);
  });

  it('gives each refusal its reason, checking the MAC before recording the nonce', async () => {
    const clock = new FakeClock(1_790_000_000_000);
    const guard = new ReplayGuard({ clock });
    const signer = new RequestSigner(SECRET);
    const request = async (headers: Readonly<Record<string, string>>, body = ''): Promise<string> => {
      const verdict = await verifySignedRequest(signer, guard, { method: 'POST', path: '/v1/sessions', body: encoder.encode(body), header: (name) => headers[name] });
      return verdict.ok ? 'ok' : verdict.error.reason;
    };
    const signed = await signer.sign({ method: 'POST', path: '/v1/sessions', body: '{}' }, clock.now(), 'nonce-aaaaaaaaaaaaaaaa');
    expect(await request({})).toBe('unsigned');
    expect(await request({ ...signed, 'sipedge-timestamp': 'yesterday' }, '{}')).toBe('malformed');
    expect(await request(signed, '{"forged":true}')).toBe('bad-signature');
    // The forged attempt did not burn the nonce: the genuine request still passes, once.
    expect(await request(signed, '{}')).toBe('ok');
    expect(await request(signed, '{}')).toBe('replayed');
    clock.advance(31_000);
    expect(await request(signed, '{}')).toBe('stale');
  });
});
