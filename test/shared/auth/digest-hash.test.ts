import { describe, expect, it } from 'vitest';
import { computeDigestResponse, digestsEqual, toDigestAlgorithm, userHA1 } from '../../../shared/auth/index.ts';
import type { DigestResponseInput } from '../../../shared/auth/index.ts';

// RFC 7616 §3.9.1: GET /dir/index.html, user "Mufasa", password "Circle of Life".
const RFC_7616: Omit<DigestResponseInput, 'algorithm'> = {
  username: 'Mufasa',
  realm: 'http-auth@example.org',
  secret: { password: 'Circle of Life' },
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  method: 'GET',
  uri: '/dir/index.html',
  qop: 'auth',
  nc: '00000001',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
};

describe('the digest response', () => {
  it('matches the RFC 7616 §3.9.1 MD5 example', () => {
    expect(computeDigestResponse({ ...RFC_7616, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });

  it('matches the RFC 7616 §3.9.1 SHA-256 example', () => {
    expect(computeDigestResponse({ ...RFC_7616, algorithm: 'SHA-256' })).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });

  it('matches the RFC 2617 §3.5 example', () => {
    const response = computeDigestResponse({
      algorithm: 'MD5',
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      secret: { password: 'Circle Of Life' },
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });

    expect(response).toBe('6629fae49393a05397450978507c4ef1');
  });

  it('gives the same answer from a stored HA1 as from the password', () => {
    const ha1 = { 'SHA-256': userHA1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life') };

    expect(computeDigestResponse({ ...RFC_7616, algorithm: 'SHA-256', secret: { ha1 } })).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });

  it('refuses to answer from a stored HA1 made with another hash', () => {
    const ha1 = { MD5: userHA1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life') };

    expect(() => computeDigestResponse({ ...RFC_7616, algorithm: 'SHA-256', secret: { ha1 } })).toThrow(RangeError);
  });

  it('uses the RFC 2069 form when there is no qop: H(HA1:nonce:HA2)', () => {
    // RFC 2069 §2.4's example; the response printed there is a known erratum, this is the
    // corrected value: MD5(MD5("Mufasa:testrealm@host.com:CircleOfLife") ":" nonce ":" MD5("GET:/dir/index.html")).
    const response = computeDigestResponse({
      algorithm: 'MD5',
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      secret: { password: 'CircleOfLife' },
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
    });

    expect(response).toBe('1949323746fe6a43ef61f9606e7febea');
  });

  it('ties auth-int credentials to the body', () => {
    const input = { ...RFC_7616, algorithm: 'SHA-256', qop: 'auth-int' } as const;
    const withBody = computeDigestResponse({ ...input, body: new TextEncoder().encode('v=0\r\n') });

    expect(withBody).not.toBe(computeDigestResponse({ ...input, body: new TextEncoder().encode('v=1\r\n') }));
    expect(computeDigestResponse({ ...input })).toBe(computeDigestResponse({ ...input, body: new Uint8Array(0) }));
    expect(withBody).not.toBe(computeDigestResponse({ ...RFC_7616, algorithm: 'SHA-256' }));
  });

  it('binds a -sess response to the client nonce', () => {
    const first = computeDigestResponse({ ...RFC_7616, algorithm: 'SHA-256-sess' });

    expect(first).not.toBe(computeDigestResponse({ ...RFC_7616, algorithm: 'SHA-256' }));
    expect(first).not.toBe(computeDigestResponse({ ...RFC_7616, algorithm: 'SHA-256-sess', cnonce: 'other' }));
  });

  it('computes SHA-512-256 as a 64-digit hex response', () => {
    expect(computeDigestResponse({ ...RFC_7616, algorithm: 'SHA-512-256' })).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('algorithm tokens', () => {
  it('default to MD5 when absent and match in any case', () => {
    expect(toDigestAlgorithm(undefined)).toBe('MD5');
    expect(toDigestAlgorithm('sha-256')).toBe('SHA-256');
    expect(toDigestAlgorithm('md5-SESS')).toBe('MD5-sess');
  });

  it('are unknown for algorithms this stack does not implement', () => {
    expect(toDigestAlgorithm('SHA-1')).toBeUndefined();
    expect(toDigestAlgorithm('AKAv1-MD5')).toBeUndefined();
  });
});

describe('comparing digests', () => {
  it('ignores hex case but not length or content', () => {
    expect(digestsEqual('8ca523f5e9506fed4657c9700eebdbec', '8CA523F5E9506FED4657C9700EEBDBEC')).toBe(true);
    expect(digestsEqual('8ca523f5e9506fed4657c9700eebdbec', '8ca523f5e9506fed4657c9700eebdbed')).toBe(false);
    expect(digestsEqual('8ca523f5', '8ca523f5e9506fed4657c9700eebdbec')).toBe(false);
  });
});
