import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DigestParseError,
  parseChallenge,
  parseChallenges,
  parseCredentials,
  serializeChallenge,
  serializeCredentials,
} from '../../../shared/auth/index.ts';

// RFC 7616 §3.9.1, as printed: the value is folded over several lines.
const RFC_7616_SHA256_CHALLENGE = `Digest
    realm="http-auth@example.org",
    qop="auth, auth-int",
    algorithm=SHA-256,
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;

const RFC_7616_MD5_CREDENTIALS = `Digest username="Mufasa",
    realm="http-auth@example.org",
    uri="/dir/index.html",
    algorithm=MD5,
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    nc=00000001,
    cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    qop=auth,
    response="8ca523f5e9506fed4657c9700eebdbec",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;

describe('parsing a challenge', () => {
  it('reads the folded RFC 7616 example', () => {
    const challenge = parseChallenge(RFC_7616_SHA256_CHALLENGE);

    expect(challenge).toMatchObject({
      realm: 'http-auth@example.org',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
      algorithm: 'SHA-256',
      qop: ['auth', 'auth-int'],
      stale: false,
      userhash: false,
    });
  });

  it('accepts any spacing, any case of names and scheme, and quoted tokens', () => {
    const challenge = parseChallenge('digest   REALM = "pbx.example.com" ,Nonce="abc"  ,\tALGORITHM="MD5",stale="TRUE",qop=auth');

    expect(challenge).toMatchObject({ realm: 'pbx.example.com', nonce: 'abc', algorithm: 'MD5', stale: true, qop: ['auth'] });
  });

  it('reads stale as a token in any case, and treats anything but true as false', () => {
    expect(parseChallenge('Digest realm="r", nonce="n", stale=FALSE').stale).toBe(false);
    expect(parseChallenge('Digest realm="r", nonce="n", stale=True').stale).toBe(true);
    expect(parseChallenge('Digest realm="r", nonce="n", stale=maybe').stale).toBe(false);
  });

  it('reads an unquoted qop list that a careless server split with a comma', () => {
    expect(parseChallenge('Digest realm="r", qop=auth,auth-int, nonce="n"').qop).toEqual(['auth', 'auth-int']);
  });

  it('unescapes quoted pairs inside quoted strings', () => {
    const challenge = parseChallenge(String.raw`Digest realm="the \"main\" PBX \\ east", nonce="a,b=c"`);

    expect(challenge.realm).toBe('the "main" PBX \\ east');
    expect(challenge.nonce).toBe('a,b=c');
  });

  it('keeps parameters it does not know, in order, quoted or not', () => {
    const challenge = parseChallenge('Digest realm="r", nonce="n", x-vendor="a b", x-flag=1');

    expect(challenge.extra).toEqual([
      { name: 'x-vendor', value: 'a b', quoted: true },
      { name: 'x-flag', value: '1', quoted: false },
    ]);
  });

  it('skips empty list elements, leading and trailing commas included', () => {
    expect(parseChallenge(', Digest realm="r",, nonce="n" ,').nonce).toBe('n');
  });

  it('finds every Digest challenge in one value and skips other schemes', () => {
    const challenges = parseChallenges('Basic realm="legacy", Digest realm="a", nonce="1", algorithm=SHA-256, Digest realm="a", nonce="1"');

    expect(challenges.map((challenge) => challenge.algorithm)).toEqual(['SHA-256', undefined]);
  });

  it('refuses a challenge without a nonce or realm', () => {
    expect(() => parseChallenge('Digest realm="r"')).toThrow(DigestParseError);
    expect(() => parseChallenge('Digest nonce="n"')).toThrow(DigestParseError);
  });

  it('refuses a parameter given twice, since either copy could be the one hashed', () => {
    expect(() => parseChallenge('Digest realm="r", nonce="n", realm="s"')).toThrow(/more than once/);
  });

  it.each([
    ['an unterminated quoted string', 'Digest realm="r, nonce="n'],
    ['a missing comma', 'Digest realm="r" nonce="n"'],
    ['an empty value', 'Digest realm=, nonce="n"'],
    ['a bare word', 'Digest realm="r", nonce="n", stale'],
    ['a stray character', 'Digest realm="r", @'],
    ['an empty header', '   '],
    ['another scheme', 'Basic realm="r"'],
  ])('throws DigestParseError for %s', (_case, value) => {
    expect(() => parseChallenge(value)).toThrow(DigestParseError);
  });

  it('answers any input with a value or a DigestParseError, never another exception', () => {
    const fragments = fc.constantFrom('Digest', ' ', ',', '=', '"', '\\', 'realm', 'nonce', 'qop', 'auth', '\r\n ', 'x');
    fc.assert(
      fc.property(fc.array(fragments, { maxLength: 24 }).map((parts) => parts.join('')), (value) => {
        try {
          parseChallenges(value);
          parseCredentials(value);
        } catch (error) {
          if (!(error instanceof DigestParseError)) throw error;
        }
      }),
    );
  });
});

describe('writing a challenge', () => {
  it('round-trips through the parser, escaping what needs escaping', () => {
    const challenge = parseChallenge(String.raw`Digest realm="a \"quoted\" realm", nonce="n", opaque="o", stale=true, algorithm=SHA-256, qop="auth,auth-int", x-extra=1`);

    expect(parseChallenge(serializeChallenge(challenge))).toEqual(challenge);
  });

  it('writes algorithm and stale as tokens and qop as a quoted list', () => {
    const value = serializeChallenge({ realm: 'r', nonce: 'n', stale: true, algorithm: 'MD5', qop: ['auth'], userhash: false, extra: [] });

    expect(value).toBe('Digest realm="r", nonce="n", stale=true, algorithm=MD5, qop="auth"');
  });

  it('round-trips any printable realm and nonce', () => {
    const text = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) });
    fc.assert(
      fc.property(text, text, (realm, nonce) => {
        const challenge = { realm, nonce, stale: false, qop: ['auth'], userhash: false, extra: [] };
        expect(parseChallenge(serializeChallenge(challenge))).toEqual(challenge);
      }),
    );
  });

  it('quotes a value meant to go bare when it could not be read back bare', () => {
    const value = serializeChallenge({ realm: 'r', nonce: 'n', stale: false, qop: [], userhash: false, extra: [{ name: 'x', value: 'a, b', quoted: false }] });

    expect(parseChallenge(value).extra).toEqual([{ name: 'x', value: 'a, b', quoted: true }]);
  });

  it('refuses to write a line break into a quoted string', () => {
    expect(() => serializeChallenge({ realm: 'r\r\nX-Evil: 1', nonce: 'n', stale: false, qop: [], userhash: false, extra: [] })).toThrow(RangeError);
  });
});

describe('parsing credentials', () => {
  it('reads the folded RFC 7616 example', () => {
    expect(parseCredentials(RFC_7616_MD5_CREDENTIALS)).toMatchObject({
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      uri: '/dir/index.html',
      algorithm: 'MD5',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      qop: 'auth',
      response: '8ca523f5e9506fed4657c9700eebdbec',
      opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
      userhash: false,
    });
  });

  it('accepts quoted qop and nc and an unquoted uri, as some phones send them', () => {
    const credentials = parseCredentials('Digest username="1001",realm="pbx",nonce="n",uri=sip:pbx.example.com,response="00",qop="auth",nc="0000000a",cnonce="c"');

    expect(credentials).toMatchObject({ uri: 'sip:pbx.example.com', qop: 'auth', nc: '0000000a' });
  });

  it('decodes a non-ASCII username sent as username*', () => {
    const credentials = parseCredentials("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=\"r\", nonce=\"n\", uri=\"/\", response=\"0\"");

    expect(credentials.username).toBe('Jäsøn Doe');
  });

  it.each([
    ['no response', 'Digest username="a", realm="r", nonce="n", uri="/"'],
    ['qop without nc', 'Digest username="a", realm="r", nonce="n", uri="/", response="0", qop=auth, cnonce="c"'],
    ['an nc that is not hex', 'Digest username="a", realm="r", nonce="n", uri="/", response="0", qop=auth, cnonce="c", nc=xyz'],
    ['both username and username*', "Digest username=\"a\", username*=UTF-8''a, realm=\"r\", nonce=\"n\", uri=\"/\", response=\"0\""],
    ['a username* in another charset', "Digest username*=ISO-8859-1''a, realm=\"r\", nonce=\"n\", uri=\"/\", response=\"0\""],
    ['two sets of credentials', 'Digest username="a", realm="r", nonce="n", uri="/", response="0", Digest realm="s"'],
  ])('throws DigestParseError for %s', (_case, value) => {
    expect(() => parseCredentials(value)).toThrow(DigestParseError);
  });

  it('round-trips through the writer', () => {
    const credentials = parseCredentials(`${RFC_7616_MD5_CREDENTIALS}, userhash=true, x-extra="kept"`);

    expect(parseCredentials(serializeCredentials(credentials))).toEqual(credentials);
  });
});
