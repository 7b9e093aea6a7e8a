import { describe, expect, it } from 'vitest';
import { SipSyntaxError, parseNameAddr, parseNameAddrList, serializeNameAddr } from '../../../shared/grammar/index.ts';

describe('name-addr and addr-spec', () => {
  it('reads a quoted display name with escapes, a URI and header parameters', () => {
    expect(parseNameAddr('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8')).toEqual({
      displayName: 'J Rosenberg \\"',
      uri: expect.objectContaining({ user: 'jdrosen', host: 'example.com' }),
      params: [{ name: 'tag', value: '98asjd8' }],
    });
  });

  it('reads a token display name, even when it touches the < (RFC 4475 §3.1.1.6)', () => {
    expect(parseNameAddr('caller<sip:caller@example.com>;tag=323').displayName).toBe('caller');
    expect(parseNameAddr('A.  Bell <sip:a.g.bell@example.com>').displayName).toBe('A. Bell');
  });

  it('gives the parameters after a bare addr-spec to the header, not to the URI (RFC 3261 §20.10)', () => {
    const value = parseNameAddr('sip:+19725552222@gw1.example.net;unknownparam');
    expect(value.uri).toMatchObject({ params: [] });
    expect(value.params).toEqual([{ name: 'unknownparam' }]);
    const bracketed = parseNameAddr('<sip:+19725552222@gw1.example.net;unknownparam>');
    expect(bracketed.uri).toMatchObject({ params: [{ name: 'unknownparam' }] });
    expect(bracketed.params).toEqual([]);
  });

  it('reads quoted-pairs holding control characters (RFC 4475 §3.1.1.2)', () => {
    expect(parseNameAddr('"BEL:\\\u0007 NUL:\\\u0000 DEL:\\\u007f" <sip:x@example.com>').displayName).toBe('BEL:\u0007 NUL:\u0000 DEL:\u007f');
  });

  it('accepts any absolute URI', () => {
    expect(parseNameAddr('isbn:2983792873').uri).toEqual({ kind: 'absolute', scheme: 'isbn', opaque: '2983792873' });
    expect(parseNameAddr('<http://www.example.com>;tag=3234233').params).toEqual([{ name: 'tag', value: '3234233' }]);
  });

  it('refuses the invalid forms of RFC 4475 §3.1.2 with a reason naming the fault', () => {
    const cases: [string, RegExp][] = [
      ['"Mr. J. User <sip:j.user@example.com>', /unterminated quoted string/],
      ['Bell, Alexander <sip:a.g.bell@example.com>;tag=43', /display name 'Bell, Alexander' must be quoted/],
      ['"Watson, Thomas" < sip:t.watson@example.org >', /whitespace inside </],
      ['sip:user@example.com?Route=%3Csip:sip.example.com%3E', /must be enclosed in <>/],
      ['"Joe" <sip:joe@example.org>;;;;', /empty parameter/],
      ['<sip:joe@example.org', /without a closing '>'/],
      ['"Joe" sip:joe@example.org', /not followed by <URI>/],
      ['', /empty value/],
    ];
    for (const [text, reason] of cases) {
      expect(() => parseNameAddr(text), text).toThrow(SipSyntaxError);
      expect(() => parseNameAddr(text), text).toThrow(reason);
    }
  });

  it('reads comma-separated lists and refuses empty elements', () => {
    const list = parseNameAddrList('"Watson, Thomas" <sip:tw@example.com;a=b?h=1>;q=0.7 , sip:t@example.org;expires=60');
    expect(list.map((v) => v.params)).toEqual([[{ name: 'q', value: '0.7' }], [{ name: 'expires', value: '60' }]]);
    expect(() => parseNameAddrList('<sip:a@example.com>,,<sip:b@example.com>')).toThrow(/empty value/);
  });

  it('writes the name-addr form, quoting names that are not tokens', () => {
    expect(serializeNameAddr(parseNameAddr('sip:a@example.com;tag=1'))).toBe('<sip:a@example.com>;tag=1');
    expect(serializeNameAddr(parseNameAddr('Alice  Liddell <sip:a@example.com>'))).toBe('Alice Liddell <sip:a@example.com>');
    const tricky = { displayName: 'Watson, "Tom" \\ Jr', uri: { kind: 'absolute', scheme: 'urn', opaque: 'x' }, params: [] } as const;
    expect(serializeNameAddr(tricky)).toBe('"Watson, \\"Tom\\" \\\\ Jr" <urn:x>');
    expect(parseNameAddr(serializeNameAddr(tricky))).toEqual(tricky);
  });
});
