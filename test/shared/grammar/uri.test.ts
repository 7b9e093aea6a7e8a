import { describe, expect, it } from 'vitest';
import { SipSyntaxError, parseUri, serializeUri, unescapeUri, escapeUri } from '../../../shared/grammar/index.ts';

describe('SIP and SIPS URIs', () => {
  it('reads user, password, host, port, parameters and headers', () => {
    expect(parseUri('sips:alice:secret@Example.COM:5061;transport=tls;lr;maddr=239.255.255.1?Subject=hi%20there&Priority=urgent')).toEqual({
      kind: 'sip',
      scheme: 'sips',
      user: 'alice',
      password: 'secret',
      host: 'Example.COM',
      port: 5061,
      params: [{ name: 'transport', value: 'tls' }, { name: 'lr' }, { name: 'maddr', value: '239.255.255.1' }],
      headers: [
        { name: 'Subject', value: 'hi%20there' },
        { name: 'Priority', value: 'urgent' },
      ],
    });
  });

  it('reads IPv6 references, with the port outside the brackets (RFC 5118 §4.3, §4.4)', () => {
    expect(parseUri('sip:[2001:db8::10]:5070')).toMatchObject({ host: '[2001:db8::10]', port: 5070 });
    expect(parseUri('sip:[2001:db8::10:5070]')).toMatchObject({ host: '[2001:db8::10:5070]', port: undefined });
    expect(parseUri('sip:user@[2001:db8:::192.0.2.1]')).toMatchObject({ host: '[2001:db8:::192.0.2.1]' });
    expect(parseUri('sip:ted@[::ffff:192.0.2.2]')).toMatchObject({ host: '[::ffff:192.0.2.2]' });
  });

  it('keeps a user part with semicolons and escapes as written (RFC 4475 §3.1.1.9)', () => {
    const uri = parseUri('sip:user;par=u%40example.net@example.com');
    expect(uri).toMatchObject({ user: 'user;par=u%40example.net', host: 'example.com', params: [] });
    if (uri.kind === 'sip') expect(unescapeUri(uri.user!)).toBe('user;par=u@example.net');
  });

  it('accepts every character RFC 4475 §3.1.1.2 puts in user and password', () => {
    const uri = parseUri("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
    expect(uri).toMatchObject({ user: "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", password: "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)", host: 'example.com' });
  });

  it('writes back exactly what it read', () => {
    for (const text of [
      'sip:alice@example.com',
      'sips:alice:pw@[2001:db8::1]:5061;transport=tcp;lr?Route=%3Csip:x%3E',
      'sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31',
      'sip:+14155550123;phone-context=example.com@gw.example.com;user=phone',
      'tel:+1-201-555-0123;ext=1234',
      'urn:uuid:c7e8d8a5-3d4e-4f4c-8b2c-5d9c6f0a8e11',
      'soap.beep://192.0.2.103:3002',
    ]) {
      expect(serializeUri(parseUri(text))).toBe(text);
    }
  });

  it('refuses malformed SIP URIs with a reason', () => {
    const cases: [string, RegExp][] = [
      ['sip:', /no host/],
      ['sip:@example.com', /empty user/],
      ['sip:alice@', /no host/],
      ['sip:alice@exa mple.com', /whitespace/],
      ['sip:2001:db8::10', /IPv6 address not enclosed in \[ \]/],
      ['sip:[2001:db8::10', /without '\]'/],
      ['sip:[2001:db8::10::1]', /invalid IPv6 reference/],
      ['sip:alice@example.com:99999', /port '99999'/],
      ['sip:alice@example.com;=x', /empty parameter/],
      ['sip:alice@example.com;a=', /'=' but no value/],
      ['sip:alice@example.com?noequals', /header without 'name='/],
      ['sip:al%ZZice@example.com', /'%' that is not followed by two hex digits/],
      ['sip:alice@-bad-.example.com', /invalid host/],
      ['sip:alice@1.2.3.999', /invalid host/],
      ['<sip:alice@example.com>', /enclosed in <>/],
      ['9sip:alice@example.com', /scheme must start with a letter/],
      ['alice', /no scheme/],
    ];
    for (const [text, reason] of cases) {
      expect(() => parseUri(text), text).toThrow(SipSyntaxError);
      expect(() => parseUri(text), text).toThrow(reason);
    }
  });
});

describe('tel and other URIs', () => {
  it('reads a tel URI number and its parameters (RFC 3966)', () => {
    expect(parseUri('tel:+1-201-555-0123;ext=1234;isub=12')).toEqual({
      kind: 'tel',
      scheme: 'tel',
      number: '+1-201-555-0123',
      params: [{ name: 'ext', value: '1234' }, { name: 'isub', value: '12' }],
    });
    expect(parseUri('tel:7042;phone-context=example.com')).toMatchObject({ number: '7042' });
    expect(() => parseUri('tel:+1-abc')).toThrow(/'a' in its number/);
  });

  it('keeps unknown schemes opaque, as a parser must (RFC 4475 §3.3.2)', () => {
    expect(parseUri('nobodyKnowsThisScheme:totallyopaquecontent')).toEqual({
      kind: 'absolute',
      scheme: 'nobodyKnowsThisScheme',
      opaque: 'totallyopaquecontent',
    });
    expect(() => parseUri('http:')).toThrow(/nothing after its scheme/);
    expect(() => parseUri('http://exa"mple')).toThrow(SipSyntaxError);
  });
});

describe('%-escapes', () => {
  it('unescapes to UTF-8 and keeps escaped NULs (RFC 4475 §3.1.1.4)', () => {
    expect(unescapeUri('null-%00-null')).toBe('null-\u0000-null');
    expect(unescapeUri('%C3%A9t%C3%A9')).toBe('été');
    expect(unescapeUri('v%61lue%25%34%31')).toBe('value%41');
  });

  it('escapes what a part may not hold', () => {
    expect(escapeUri('I have spaces', (c) => c !== 32)).toBe('I%20have%20spaces');
    expect(escapeUri('é%', () => true)).toBe('%C3%A9%25');
  });
});
