import { describe, expect, it } from 'vitest';
import {
  COMPACT_FORMS,
  appendHeader,
  canonicalHeaderName,
  getHeader,
  getHeaders,
  hasHeader,
  parseMessage,
  prependHeader,
  removeHeader,
  serializeMessage,
  setHeader,
} from '../../../shared/message/index.ts';
import { OK_TO_INVITE, SIPJS_REGISTER_WITH_DIGEST } from './captured-messages.ts';

const REQUEST = [
  'INVITE sip:bob@example.com SIP/2.0',
  'v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b.example.com;branch=z9hG4bK2',
  'VIA: SIP/2.0/UDP c.example.com;branch=z9hG4bK3',
  'm: "Watson, Thomas" <sip:watson@example.com;a=b,c>;q=0.7, <sip:tw@example.org>',
  'i: abc@example.com',
  'WWW-Authenticate: Digest realm="x", nonce="y", qop="auth,auth-int"',
  'Date: Sat, 13 Nov 2010 23:29:00 GMT',
  'X-List: one, two',
  'Allow: INVITE,ACK , BYE',
  'Supported:',
  'l: 0',
  '',
  '',
].join('\r\n');

describe('looking up headers', () => {
  it('maps every compact form to its long name, as RFC 3261 §7.3.3 and the extensions define', () => {
    expect(Object.keys(COMPACT_FORMS).sort().join('')).toBe('abcdefijklmnorstuvxy');
    expect(canonicalHeaderName('i')).toBe('Call-ID');
    expect(canonicalHeaderName('O')).toBe('Event');
    expect(canonicalHeaderName('x')).toBe('Session-Expires');
    expect(canonicalHeaderName('n')).toBe('Identity-Info');
    expect(canonicalHeaderName('cseq')).toBe('CSeq');
    expect(canonicalHeaderName('www-authenticate')).toBe('WWW-Authenticate');
    expect(canonicalHeaderName('X-Custom')).toBe('X-Custom');
  });

  it('finds headers whatever their case and form', () => {
    const message = parseMessage(REQUEST);
    expect(getHeader(message, 'Call-ID')).toBe('abc@example.com');
    expect(getHeader(message, 'CALL-id')).toBe('abc@example.com');
    expect(getHeader(message, 'I')).toBe('abc@example.com');
    expect(getHeader(message, 'Content-Length')).toBe('0');
    expect(hasHeader(message, 'contact')).toBe(true);
    expect(hasHeader(message, 'Route')).toBe(false);
    expect(getHeader(message, 'Route')).toBeUndefined();
  });

  it('splits list headers at top-level commas only', () => {
    const message = parseMessage(REQUEST);
    expect(getHeaders(message, 'Via')).toEqual([
      'SIP/2.0/UDP a.example.com;branch=z9hG4bK1',
      'SIP/2.0/UDP b.example.com;branch=z9hG4bK2',
      'SIP/2.0/UDP c.example.com;branch=z9hG4bK3',
    ]);
    expect(getHeaders(message, 'Contact')).toEqual(['"Watson, Thomas" <sip:watson@example.com;a=b,c>;q=0.7', '<sip:tw@example.org>']);
    expect(getHeaders(message, 'Allow')).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(getHeaders(message, 'Supported')).toEqual([]);
  });

  it('does not split headers whose grammar holds commas, nor unknown headers', () => {
    const message = parseMessage(REQUEST);
    expect(getHeaders(message, 'WWW-Authenticate')).toEqual(['Digest realm="x", nonce="y", qop="auth,auth-int"']);
    expect(getHeaders(message, 'Date')).toEqual(['Sat, 13 Nov 2010 23:29:00 GMT']);
    expect(getHeaders(message, 'X-List')).toEqual(['one, two']);
  });
});

describe('editing headers', () => {
  it('returns a new message and leaves the original as it was', () => {
    const original = parseMessage(SIPJS_REGISTER_WITH_DIGEST);
    const before = serializeMessage(original);
    const edited = removeHeader(setHeader(appendHeader(original, 'X-A', '1'), 'Expires', '0'), 'Authorization');
    expect(serializeMessage(original)).toBe(before);
    expect(getHeader(edited, 'Expires')).toBe('0');
    expect(getHeader(edited, 'X-A')).toBe('1');
    expect(hasHeader(edited, 'Authorization')).toBe(false);
  });

  it('sets a header in place of the first field, removing the others and their compact forms', () => {
    const message = setHeader(parseMessage(REQUEST), 'Via', 'SIP/2.0/WSS edge.example.com;branch=z9hG4bKnew');
    expect(message.headers[0]).toEqual({ name: 'Via', value: 'SIP/2.0/WSS edge.example.com;branch=z9hG4bKnew' });
    expect(getHeaders(message, 'Via')).toHaveLength(1);
  });

  it('puts a prepended Via on top and an appended header last', () => {
    const ok = parseMessage(OK_TO_INVITE);
    const prepended = prependHeader(ok, 'Via', 'SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp');
    expect(getHeaders(prepended, 'Via')[0]).toBe('SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp');
    expect(appendHeader(ok, 'Warning', '399 edge "x"').headers.at(-1)).toEqual({ name: 'Warning', value: '399 edge "x"' });
  });

  it('refuses values that would inject header lines, and names that are not tokens', () => {
    const ok = parseMessage(OK_TO_INVITE);
    expect(() => setHeader(ok, 'Subject', 'hi\r\nVia: evil')).toThrow(TypeError);
    expect(() => appendHeader(ok, 'Bad Name', 'x')).toThrow(TypeError);
  });
});
