import { describe, expect, it } from 'vitest';
import {
  answerChallenge,
  authorize,
  createDigestClientState,
  credentialsHeaderName,
  parseCredentials,
  userHA1,
} from '../../../shared/auth/index.ts';
import type { AnswerChallengeOptions, ChallengeAnswer, DigestAccount } from '../../../shared/auth/index.ts';

// RFC 7616 §3.9.1: the server offers SHA-256 first, then MD5, with the same nonce.
const RFC_7616_CHALLENGES = ['SHA-256', 'MD5'].map(
  (algorithm) => `Digest
    realm="http-auth@example.org",
    qop="auth, auth-int",
    algorithm=${algorithm},
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
);

const MUFASA: DigestAccount = { username: 'Mufasa', password: 'Circle of Life' };

function rfcAnswer(overrides: Partial<AnswerChallengeOptions> = {}): ChallengeAnswer {
  return answerChallenge({
    challenges: RFC_7616_CHALLENGES,
    account: MUFASA,
    method: 'GET',
    uri: '/dir/index.html',
    state: createDigestClientState(),
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    ...overrides,
  });
}

function credentialsOf(answer: ChallengeAnswer) {
  if (!answer.ok) throw new Error(answer.detail);
  return parseCredentials(answer.value);
}

describe('answering a challenge', () => {
  it('takes the topmost algorithm it supports and reproduces the RFC 7616 SHA-256 response', () => {
    expect(credentialsOf(rfcAnswer())).toMatchObject({
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      uri: '/dir/index.html',
      algorithm: 'SHA-256',
      nc: '00000001',
      qop: 'auth',
      response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    });
  });

  it('falls back to MD5 when it does not support SHA-256, reproducing the RFC 7616 MD5 response', () => {
    expect(credentialsOf(rfcAnswer({ algorithms: ['MD5'] }))).toMatchObject({
      algorithm: 'MD5',
      response: '8ca523f5e9506fed4657c9700eebdbec',
    });
  });

  it('follows the server\'s order, taking MD5 when the server lists it first', () => {
    expect(credentialsOf(rfcAnswer({ challenges: [...RFC_7616_CHALLENGES].reverse() })).algorithm).toBe('MD5');
  });

  it('skips challenges it cannot answer: unknown algorithms, unknown qop, unparseable values', () => {
    const unusable = [
      'Digest realm="r", nonce="n", algorithm=AKAv1-MD5, qop="auth"',
      'Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth-conf"',
      'Digest realm="r, nonce="n"',
      'Basic realm="r"',
    ];

    expect(credentialsOf(rfcAnswer({ challenges: [...unusable, ...RFC_7616_CHALLENGES] })).algorithm).toBe('SHA-256');
  });

  it('skips an algorithm for which only another hash\'s HA1 is stored', () => {
    const md5Only: DigestAccount = { username: 'Mufasa', ha1: { MD5: userHA1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life') } };

    expect(credentialsOf(rfcAnswer({ account: md5Only }))).toMatchObject({ algorithm: 'MD5', response: '8ca523f5e9506fed4657c9700eebdbec' });
  });

  it('reports when no challenge can be answered', () => {
    const answer = rfcAnswer({ challenges: ['Digest realm="r", nonce="n", algorithm=SHA-1'] });

    expect(answer).toMatchObject({ ok: false, reason: 'no-supported-challenge' });
  });

  it('uses auth-int, hashing the body, when that is the only qop offered', () => {
    const challenges = ['Digest realm="pbx", nonce="abc", algorithm=MD5, qop="auth-int"'];
    const body = new TextEncoder().encode('v=0\r\n');
    const withBody = credentialsOf(rfcAnswer({ challenges, body }));
    const withoutBody = credentialsOf(rfcAnswer({ challenges }));

    expect(withBody.qop).toBe('auth-int');
    expect(withBody.response).not.toBe(withoutBody.response);
  });

  it('answers an RFC 2069 challenge without qop, nc or cnonce', () => {
    const credentials = credentialsOf(rfcAnswer({ challenges: ['Digest realm="pbx", nonce="abc"'] }));

    expect(credentials).toMatchObject({ algorithm: 'MD5', qop: undefined, nc: undefined, cnonce: undefined });
  });

  it('authenticates as an auth username that differs from the user in the Request-URI', () => {
    const credentials = credentialsOf(
      rfcAnswer({
        challenges: ['Digest realm="pbx.example.com", nonce="abc", qop="auth"'],
        account: { username: 'trunk-7-auth', password: 's3cret' },
        method: 'REGISTER',
        uri: 'sip:1001@pbx.example.com',
      }),
    );

    expect(credentials).toMatchObject({ username: 'trunk-7-auth', uri: 'sip:1001@pbx.example.com' });
  });

  it('sends a fresh random cnonce when none is fixed', () => {
    const a = credentialsOf(rfcAnswer({ cnonce: undefined }));
    const b = credentialsOf(rfcAnswer({ cnonce: undefined }));

    expect(a.cnonce).toMatch(/^[0-9a-f]{32}$/);
    expect(a.cnonce).not.toBe(b.cnonce);
  });
});

describe('the client nonce count', () => {
  it('counts up for each request with the same nonce and starts again for a new one', () => {
    const first = rfcAnswer();
    if (!first.ok) throw new Error(first.detail);
    const again = authorize({ selected: first.selected, account: MUFASA, method: 'GET', uri: '/dir/index.html', state: first.state });
    const next = rfcAnswer({ challenges: ['Digest realm="http-auth@example.org", nonce="new", qop="auth"'], state: again.state });

    expect(parseCredentials(again.value).nc).toBe('00000002');
    expect(credentialsOf(next).nc).toBe('00000001');
    expect(next.ok && next.state.counts.map((entry) => entry.nc)).toEqual([2, 1]);
  });

  it('is plain JSON that survives being stored', () => {
    const first = rfcAnswer();
    if (!first.ok) throw new Error(first.detail);
    const stored = JSON.parse(JSON.stringify(first.state)) as typeof first.state;

    const again = authorize({ selected: first.selected, account: MUFASA, method: 'GET', uri: '/dir/index.html', state: stored });

    expect(parseCredentials(again.value).nc).toBe('00000002');
  });
});

describe('the credentials header name', () => {
  it('is Authorization for a 401 and Proxy-Authorization for a 407', () => {
    expect(credentialsHeaderName(401)).toBe('Authorization');
    expect(credentialsHeaderName(407)).toBe('Proxy-Authorization');
  });
});
