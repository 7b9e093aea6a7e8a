import { describe, expect, it } from 'vitest';
import {
  SipSyntaxError,
  parseCSeq,
  parseCallId,
  parseMediaRanges,
  parseMediaType,
  parseParams,
  serializeCSeq,
  serializeMediaType,
  serializeParams,
  splitList,
  unquote,
  withParam,
  withoutParam,
  getParam,
} from '../../../shared/grammar/index.ts';

describe('CSeq', () => {
  it('reads leading zeros and folded whitespace (RFC 4475 §3.1.1.1)', () => {
    expect(parseCSeq('0009\r\n  INVITE')).toEqual({ seq: 9, method: 'INVITE' });
    expect(serializeCSeq({ seq: 9, method: 'INVITE' })).toBe('9 INVITE');
  });

  it('accepts the largest 32-bit number and refuses anything larger or malformed', () => {
    expect(parseCSeq('4294967295 ACK').seq).toBe(4294967295);
    expect(() => parseCSeq('36893488147419103232 REGISTER')).toThrow(/larger than 4294967295/);
    expect(() => parseCSeq('1INVITE')).toThrow(/needs whitespace/);
    expect(() => parseCSeq('1 IN VITE')).toThrow(/not a method token/);
    expect(() => parseCSeq('-1 INVITE')).toThrow(SipSyntaxError);
  });
});

describe('Call-ID', () => {
  it('accepts every word character RFC 4475 §3.1.1.2 uses and refuses spaces', () => {
    expect(parseCallId("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")).toBe("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    expect(() => parseCallId('a b')).toThrow(/not a word character/);
    expect(() => parseCallId('@host')).toThrow(SipSyntaxError);
    expect(() => parseCallId('')).toThrow(SipSyntaxError);
  });
});

describe('media types', () => {
  it('reads a type with parameters, lower-casing type and subtype', () => {
    expect(parseMediaType('Multipart/Mixed ; boundary=7a9cbec02ceef655')).toEqual({
      type: 'multipart',
      subtype: 'mixed',
      params: [{ name: 'boundary', value: '7a9cbec02ceef655' }],
    });
    expect(serializeMediaType(parseMediaType('text/plain;charset="utf-8"'))).toBe('text/plain;charset="utf-8"');
    expect(() => parseMediaType('application/*')).toThrow(/may not use '\*'/);
    expect(() => parseMediaType('text/plain, text/html')).toThrow(/more than one/);
  });

  it('reads Accept media ranges with wildcards and q-values', () => {
    expect(parseMediaRanges('application/sdp;q=0.8, text/*, */*;q=0').map((r) => `${r.type}/${r.subtype}`)).toEqual(['application/sdp', 'text/*', '*/*']);
    expect(parseMediaRanges('')).toEqual([]);
  });
});

describe('generic parameters', () => {
  it('reads tokens, hosts and quoted strings, keeping quotes', () => {
    const params = parseParams(';expires=3600;+sip.instance="<urn:uuid:1>";maddr=[2001:db8::1];lr');
    expect(params).toEqual([
      { name: 'expires', value: '3600' },
      { name: '+sip.instance', value: '"<urn:uuid:1>"' },
      { name: 'maddr', value: '[2001:db8::1]' },
      { name: 'lr' },
    ]);
    expect(unquote(params[1]!.value!)).toBe('<urn:uuid:1>');
    expect(serializeParams(params)).toBe(';expires=3600;+sip.instance="<urn:uuid:1>";maddr=[2001:db8::1];lr');
  });

  it('finds parameters case-insensitively and edits copies', () => {
    const params = parseParams('Tag=abc;q=0.5');
    expect(getParam(params, 'TAG')?.value).toBe('abc');
    expect(withParam(params, 'q', '1')).toEqual([{ name: 'Tag', value: 'abc' }, { name: 'q', value: '1' }]);
    expect(withoutParam(params, 'tag')).toEqual([{ name: 'q', value: '0.5' }]);
    expect(params).toHaveLength(2);
  });

  it('refuses values that are not token, host or quoted string', () => {
    expect(() => parseParams(';a=b@c')).toThrow(/unexpected '@'/);
    expect(() => parseParams(';a="open')).toThrow(/unterminated quoted string/);
  });
});

describe('list splitting', () => {
  it('splits at commas outside quotes and angle brackets, keeping empty values for strict callers', () => {
    expect(splitList('"a, b" <sip:x;p=1,2>, c ,, "d\\", e"')).toEqual(['"a, b" <sip:x;p=1,2>', 'c', '', '"d\\", e"']);
  });
});
