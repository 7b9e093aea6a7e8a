import { md5 } from '@noble/hashes/legacy.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import {
  answerChallenge,
  authorize,
  createChallenge,
  createChallenges,
  createDigestClientState,
  createNonceCounts,
  parseChallenge,
  pruneNonceCounts,
  userHA1,
  verifyCredentials,
} from '../../../shared/auth/index.ts';
import { MAX_TRACKED_NONCES } from '../../../shared/auth/index.ts';
import type { DigestAccount, DigestAlgorithm, NonceCounts, VerifyOptions } from '../../../shared/auth/index.ts';

const REALM = 'sipedge.test';
const SECRET = 'edge secret: at least sixteen bytes';
const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const MINUTE = 60_000;
const REGISTRAR = 'sip:sipedge.test';
const ALICE: DigestAccount = { username: 'alice', password: 'wonderland' };

function challenge(algorithm: DigestAlgorithm = 'MD5', now = T0): string {
  return createChallenge({ realm: REALM, algorithm, secret: SECRET, now });
}

function answer(challengeValue: string, overrides: { account?: DigestAccount; method?: string; uri?: string; body?: Uint8Array } = {}): string {
  const result = answerChallenge({
    challenges: [challengeValue],
    account: overrides.account ?? ALICE,
    method: overrides.method ?? 'REGISTER',
    uri: overrides.uri ?? REGISTRAR,
    body: overrides.body,
    state: createDigestClientState(),
  });
  if (!result.ok) throw new Error(result.detail);
  return result.value;
}

function verify(authorization: string, overrides: Partial<VerifyOptions> = {}) {
  return verifyCredentials({
    authorization,
    method: 'REGISTER',
    requestUri: REGISTRAR,
    realm: REALM,
    secret: SECRET,
    now: T0,
    account: ALICE,
    nonceCounts: createNonceCounts(T0 - MINUTE),
    ...overrides,
  });
}

const md5Hex = (text: string): string => bytesToHex(md5(new TextEncoder().encode(text)));

describe('a client answering the server', () => {
  it.each(['MD5', 'SHA-256', 'SHA-512-256', 'SHA-256-sess'] as const)('is accepted with %s', (algorithm) => {
    const result = verify(answer(challenge(algorithm)));

    expect(result).toMatchObject({ ok: true, username: 'alice', realm: REALM, algorithm, qop: 'auth', nc: 1 });
  });

  it('is accepted when the operator stored HA1 instead of the password', () => {
    const stored: DigestAccount = { username: 'alice', ha1: { 'SHA-256': userHA1('SHA-256', 'alice', REALM, 'wonderland') } };

    expect(verify(answer(challenge('SHA-256')), { account: stored }).ok).toBe(true);
  });

  it('is accepted when it hashed its username because the challenge allowed it', () => {
    const offered = challenge('SHA-256').concat(', userhash=true');
    const authorization = answer(offered);

    expect(authorization).not.toContain('"alice"');
    expect(verify(authorization)).toMatchObject({ ok: true, username: 'alice' });
  });

  it('is accepted with auth-int over the body it sent, and refused over another body', () => {
    const body = new TextEncoder().encode('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n');
    const offered = createChallenge({ realm: REALM, algorithm: 'SHA-256', secret: SECRET, now: T0, qop: ['auth-int'] });
    const authorization = answer(offered, { method: 'INVITE', uri: 'sip:bob@sipedge.test', body });
    const options = { method: 'INVITE', requestUri: 'sip:bob@sipedge.test' };

    expect(verify(authorization, { ...options, body })).toMatchObject({ ok: true, qop: 'auth-int' });
    expect(verify(authorization, { ...options, body: new Uint8Array(0) })).toMatchObject({ ok: false, reason: 'bad-response' });
  });

  it('gets SHA-256 from a server that offers SHA-256 before MD5, and MD5 when that is all it can do', () => {
    const offered = createChallenges({ realm: REALM, algorithms: ['SHA-256', 'MD5'], secret: SECRET, now: T0 });
    const state = createDigestClientState();
    const base = { challenges: offered, account: ALICE, method: 'REGISTER', uri: REGISTRAR, state };

    const modern = answerChallenge(base);
    const legacy = answerChallenge({ ...base, algorithms: ['MD5'] });

    expect(modern.ok && verify(modern.value)).toMatchObject({ ok: true, algorithm: 'SHA-256' });
    expect(legacy.ok && verify(legacy.value)).toMatchObject({ ok: true, algorithm: 'MD5' });
  });
});

describe('a captured browser header', () => {
  it('verifies a SIP.js / JsSIP style Authorization value', () => {
    // SIP.js and JsSIP both write: algorithm first, MD5, qop=auth, 8-digit nc, quoted cnonce.
    const nonce = parseChallenge(challenge('MD5')).nonce;
    const cnonce = '6q7vldqjatk0';
    const ha1 = md5Hex(`alice:${REALM}:wonderland`);
    const ha2 = md5Hex(`REGISTER:${REGISTRAR}`);
    const response = md5Hex(`${ha1}:${nonce}:00000001:${cnonce}:auth:${ha2}`);
    const header = `Digest algorithm=MD5, username="alice", realm="${REALM}", nonce="${nonce}", uri="${REGISTRAR}", response="${response}", qop=auth, cnonce="${cnonce}", nc=00000001`;

    expect(verify(header)).toMatchObject({ ok: true, username: 'alice', algorithm: 'MD5', nc: 1 });
  });

  it('verifies a desk-phone style value: no algorithm, quoted qop, uppercase hex, no spaces', () => {
    const nonce = parseChallenge(challenge('MD5')).nonce;
    const ha1 = md5Hex(`alice:${REALM}:wonderland`);
    const ha2 = md5Hex(`REGISTER:${REGISTRAR}`);
    const response = md5Hex(`${ha1}:${nonce}:00000001:0a4f113b:auth:${ha2}`).toUpperCase();
    const header = `Digest username="alice",realm="${REALM}",nonce="${nonce}",uri="${REGISTRAR}",response="${response}",qop="auth",cnonce="0a4f113b",nc=00000001`;

    expect(verify(header).ok).toBe(true);
  });
});

describe('reusing a nonce', () => {
  function session() {
    const state0 = createDigestClientState();
    const first = answerChallenge({ challenges: [challenge('SHA-256')], account: ALICE, method: 'REGISTER', uri: REGISTRAR, state: state0 });
    if (!first.ok) throw new Error(first.detail);
    const refresh = (state = first.state) => authorize({ selected: first.selected, account: ALICE, method: 'REGISTER', uri: REGISTRAR, state });
    return { first, refresh };
  }

  it('is accepted for each refresh with a higher nc, without a new challenge', () => {
    const { first, refresh } = session();
    const second = refresh();
    const third = refresh(second.state);

    const one = verify(first.value);
    const two = one.ok ? verify(second.value, { nonceCounts: one.nonceCounts, now: T0 + MINUTE }) : one;
    const three = two.ok ? verify(third.value, { nonceCounts: two.nonceCounts, now: T0 + 2 * MINUTE }) : two;

    expect([one, two, three].map((result) => result.ok && result.nc)).toEqual([1, 2, 3]);
  });

  it('refuses the same request played again', () => {
    const { first } = session();
    const accepted = verify(first.value);
    if (!accepted.ok) throw new Error(accepted.detail);

    expect(verify(first.value, { nonceCounts: accepted.nonceCounts })).toMatchObject({ ok: false, reason: 'replay' });
  });

  it('refuses a lower nc after a higher one', () => {
    const { first, refresh } = session();
    const second = refresh();
    const accepted = verify(second.value);
    if (!accepted.ok) throw new Error(accepted.detail);

    expect(verify(first.value, { nonceCounts: accepted.nonceCounts })).toMatchObject({ ok: false, reason: 'replay' });
  });

  it('is answered stale when the record of counts began after the nonce was issued', () => {
    // The record was lost (an evicted object) and started again: the nonce's past uses are unknown.
    const { first } = session();

    expect(verify(first.value, { nonceCounts: createNonceCounts(T0 + 1) })).toMatchObject({ ok: false, reason: 'stale' });
  });

  it('survives the record being stored as JSON and read back', () => {
    const { first, refresh } = session();
    const accepted = verify(first.value);
    if (!accepted.ok) throw new Error(accepted.detail);
    const restored = JSON.parse(JSON.stringify(accepted.nonceCounts)) as NonceCounts;

    expect(verify(first.value, { nonceCounts: restored })).toMatchObject({ ok: false, reason: 'replay' });
    expect(verify(refresh().value, { nonceCounts: restored }).ok).toBe(true);
  });
});

describe('a client that takes a fresh challenge for every request', () => {
  it('keeps the nonce-count record bounded, and a nonce dropped from it cannot be replayed', () => {
    let counts = createNonceCounts(T0 - MINUTE);
    const sent: string[] = [];
    for (let i = 0; i < MAX_TRACKED_NONCES * 3; i++) {
      const value = answer(challenge('MD5', T0 + i));
      const result = verify(value, { nonceCounts: counts, now: T0 + i });
      if (!result.ok) throw new Error(result.detail);
      counts = result.nonceCounts;
      sent.push(value);
    }

    expect(counts.nonces).toHaveLength(MAX_TRACKED_NONCES);
    const now = T0 + MAX_TRACKED_NONCES * 3;
    // The first request's nonce was dropped: played again it is stale, never accepted.
    expect(verify(sent[0] ?? '', { nonceCounts: counts, now })).toMatchObject({ ok: false, reason: 'stale' });
    // The newest is still tracked: played again it is a replay.
    expect(verify(sent.at(-1) ?? '', { nonceCounts: counts, now })).toMatchObject({ ok: false, reason: 'replay' });
  });
});

describe('an expired nonce', () => {
  it('with the right password is answered stale, and the stale challenge then succeeds', () => {
    const late = T0 + 6 * MINUTE;
    const expired = verify(answer(challenge('SHA-256')), { now: late });
    const fresh = createChallenge({ realm: REALM, algorithm: 'SHA-256', secret: SECRET, now: late, stale: true });

    expect(expired).toMatchObject({ ok: false, reason: 'stale' });
    expect(parseChallenge(fresh).stale).toBe(true);
    expect(verify(answer(fresh), { now: late }).ok).toBe(true);
  });

  it('with a wrong password is refused as a bad response, not stale', () => {
    const authorization = answer(challenge('SHA-256'), { account: { username: 'alice', password: 'guess' } });

    expect(verify(authorization, { now: T0 + 6 * MINUTE })).toMatchObject({ ok: false, reason: 'bad-response' });
  });

  it('lives as long as the configured lifetime', () => {
    const authorization = answer(challenge('SHA-256'));

    expect(verify(authorization, { now: T0 + 59 * MINUTE, nonceLifetimeMs: 60 * MINUTE }).ok).toBe(true);
  });

  it('drops out of the nonce-count record once expired', () => {
    const accepted = verify(answer(challenge('SHA-256')));
    if (!accepted.ok) throw new Error(accepted.detail);

    expect(accepted.nonceCounts.nonces).toHaveLength(1);
    expect(pruneNonceCounts(accepted.nonceCounts, T0 + 6 * MINUTE).nonces).toEqual([]);
  });
});

describe('credentials that must be refused', () => {
  it('a tampered nonce', () => {
    const authorization = answer(challenge('SHA-256'));
    const nonce = /nonce="([^"]+)"/.exec(authorization)?.[1] ?? '';
    const flipped = `${nonce.slice(0, 10)}${nonce[10] === 'A' ? 'B' : 'A'}${nonce.slice(11)}`;

    expect(verify(authorization.replace(nonce, flipped))).toMatchObject({ ok: false, reason: 'bad-nonce' });
  });

  it('a nonce this server never issued', () => {
    const foreign = createChallenge({ realm: REALM, algorithm: 'MD5', secret: 'another edge secret, 16+ bytes', now: T0 });

    expect(verify(answer(foreign))).toMatchObject({ ok: false, reason: 'bad-nonce' });
    expect(verify(answer(challenge().replace(/nonce="[^"]+"/, 'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"')))).toMatchObject({
      ok: false,
      reason: 'bad-nonce',
    });
  });

  it('a nonce dated in the future', () => {
    expect(verify(answer(challenge('MD5', T0 + 10 * MINUTE)))).toMatchObject({ ok: false, reason: 'bad-nonce' });
  });

  it('a wrong password', () => {
    expect(verify(answer(challenge(), { account: { username: 'alice', password: 'Wonderland' } }))).toMatchObject({
      ok: false,
      reason: 'bad-response',
    });
  });

  it('an unknown user, exactly like a wrong password', () => {
    expect(verify(answer(challenge()), { account: undefined })).toMatchObject({ ok: false, reason: 'bad-response' });
  });

  it('another user\'s credentials presented for this account', () => {
    const mallory = answer(challenge(), { account: { username: 'mallory', password: 'wonderland' } });

    expect(verify(mallory)).toMatchObject({ ok: false, reason: 'bad-response' });
  });

  it('a wrong realm', () => {
    const other = createChallenge({ realm: 'other.test', algorithm: 'MD5', secret: SECRET, now: T0 });

    expect(verify(answer(other))).toMatchObject({ ok: false, reason: 'wrong-realm' });
  });

  it('credentials computed for a different method', () => {
    const registerCredentials = answer(challenge(), { uri: 'sip:bob@sipedge.test' });

    expect(verify(registerCredentials, { method: 'INVITE', requestUri: 'sip:bob@sipedge.test' })).toMatchObject({
      ok: false,
      reason: 'bad-response',
    });
  });

  it('credentials for another Request-URI', () => {
    expect(verify(answer(challenge(), { uri: 'sip:bob@sipedge.test' }))).toMatchObject({ ok: false, reason: 'wrong-uri' });
  });

  it('an algorithm the operator does not allow', () => {
    expect(verify(answer(challenge('MD5')), { algorithms: ['SHA-256'] })).toMatchObject({ ok: false, reason: 'unsupported-algorithm' });
    expect(verify(answer(challenge('MD5')).replace('algorithm=MD5', 'algorithm=SHA-1'))).toMatchObject({
      ok: false,
      reason: 'unsupported-algorithm',
    });
  });

  it('an algorithm for which only another hash\'s HA1 is stored', () => {
    const md5Only: DigestAccount = { username: 'alice', ha1: { MD5: userHA1('MD5', 'alice', REALM, 'wonderland') } };

    expect(verify(answer(challenge('SHA-256')), { account: md5Only })).toMatchObject({ ok: false, reason: 'unsupported-algorithm' });
  });

  it.each([
    ['not Digest at all', 'Basic YWxpY2U6d29uZGVybGFuZA=='],
    ['an unterminated string', 'Digest username="alice'],
    ['nc zero', 'Digest username="a", realm="sipedge.test", nonce="n", uri="sip:x", response="0", qop=auth, cnonce="c", nc=00000000'],
    ['an unknown qop', 'Digest username="a", realm="sipedge.test", nonce="n", uri="sip:x", response="0", qop=auth-conf, cnonce="c", nc=00000001'],
  ])('a malformed header: %s', (_case, header) => {
    expect(verify(header)).toMatchObject({ ok: false, reason: 'malformed' });
  });
});

describe('RFC 2069 credentials (no qop)', () => {
  const rfc2069 = () => createChallenge({ realm: REALM, algorithm: 'MD5', secret: SECRET, now: T0, qop: [] });

  it('are refused unless the operator allows them', () => {
    expect(verify(answer(rfc2069()))).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('are accepted once per nonce when allowed; a second use is answered stale', () => {
    const authorization = answer(rfc2069());
    expect(authorization).not.toContain('nc=');

    const first = verify(authorization, { allowNoQop: true });
    if (!first.ok) throw new Error(first.detail);

    expect(first).toMatchObject({ qop: undefined, nc: undefined });
    expect(verify(authorization, { allowNoQop: true, nonceCounts: first.nonceCounts })).toMatchObject({ ok: false, reason: 'stale' });
  });
});
