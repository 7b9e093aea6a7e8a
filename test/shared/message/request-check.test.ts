import { describe, expect, it } from 'vitest';
import {
  appendHeader,
  checkRequest,
  createResponse,
  getHeader,
  getTo,
  parseMessage,
  removeHeader,
  serializeMessage,
  setHeader,
  withBody,
  type SipRequest,
} from '../../../shared/message/index.ts';
import { BYE, INVITE_WITH_CHROME_OFFER, SIPJS_REGISTER_WITH_DIGEST } from './captured-messages.ts';

const invite = parseMessage(INVITE_WITH_CHROME_OFFER) as SipRequest;
const register = parseMessage(SIPJS_REGISTER_WITH_DIGEST) as SipRequest;
const UAS = { role: 'uas', extensions: ['outbound', 'path', 'gruu'] } as const;

describe('checking a request before acting on it', () => {
  it('lets well-formed requests through at every role', () => {
    expect(checkRequest(invite, UAS)).toBeUndefined();
    expect(checkRequest(invite, { role: 'proxy' })).toBeUndefined();
    expect(checkRequest(register, { ...UAS, role: 'registrar' })).toBeUndefined();
    expect(checkRequest(parseMessage(BYE) as SipRequest, UAS)).toBeUndefined();
  });

  it('answers 505 to another SIP version', () => {
    expect(checkRequest({ ...invite, version: 'SIP/3.0' }, UAS)).toMatchObject({ status: 505, reason: 'Version Not Supported' });
  });

  it('answers 400 to missing, repeated or malformed mandatory headers', () => {
    expect(checkRequest(removeHeader(invite, 'CSeq'), UAS)).toMatchObject({ status: 400, detail: 'missing CSeq' });
    expect(checkRequest(appendHeader(invite, 't', '<sip:x@example.com>'), UAS)).toMatchObject({ status: 400, detail: 'multiple To header fields' });
    expect(checkRequest(setHeader(invite, 'Max-Forwards', '-1'), UAS)?.detail).toBe("Max-Forwards: value '-1' is not a non-negative integer");
    expect(checkRequest(setHeader(invite, 'CSeq', '1 BYE'), UAS)?.detail).toBe('CSeq method BYE does not match the request method INVITE');
    expect(checkRequest(setHeader(invite, 'Expires', 'never'), UAS)).toMatchObject({ status: 400 });
  });

  it('accepts an RFC 2543 request without Max-Forwards', () => {
    expect(checkRequest(removeHeader(invite, 'Max-Forwards'), UAS)).toBeUndefined();
  });

  it('answers 405 to a known method it does not allow and 501 to an unknown one, both with Allow', () => {
    const options = { ...UAS, methods: ['INVITE', 'ACK', 'CANCEL', 'BYE'] };
    const message = { ...invite, method: 'MESSAGE', headers: setHeader(invite, 'CSeq', '1 MESSAGE').headers };
    expect(checkRequest(message, options)).toMatchObject({ status: 405, headers: [{ name: 'Allow', value: 'INVITE, ACK, CANCEL, BYE' }] });
    const unknown = { ...invite, method: 'FROBNICATE', headers: setHeader(invite, 'CSeq', '1 FROBNICATE').headers };
    expect(checkRequest(unknown, options)).toMatchObject({ status: 501, reason: 'Not Implemented' });
    expect(checkRequest(unknown, { role: 'proxy' })).toBeUndefined();
  });

  it('answers 416 to a Request-URI scheme it does not serve', () => {
    const tel = { ...invite, uri: 'tel:+14155550123' };
    expect(checkRequest(tel, UAS)).toMatchObject({ status: 416, detail: 'Request-URI scheme tel is not supported' });
    expect(checkRequest(tel, { ...UAS, uriSchemes: ['sip', 'sips', 'tel'] })).toBeUndefined();
  });

  it('answers 420 listing the unsupported option tags of Require, or of Proxy-Require at a proxy', () => {
    const required = setHeader(invite, 'Require', '100rel, outbound, timer');
    expect(checkRequest(required, UAS)).toMatchObject({ status: 420, headers: [{ name: 'Unsupported', value: '100rel, timer' }] });
    expect(checkRequest(required, { role: 'proxy' })).toBeUndefined();
    expect(checkRequest(setHeader(invite, 'Proxy-Require', 'sec-agree'), { role: 'proxy' })).toMatchObject({ status: 420 });
    const cancel = { ...required, method: 'CANCEL', headers: setHeader(required, 'CSeq', '1 CANCEL').headers };
    expect(checkRequest(cancel, UAS)).toBeUndefined();
  });

  it('answers 415 with Accept or Accept-Encoding to a body it cannot read', () => {
    expect(checkRequest(withBody(invite, '<x/>', 'application/xml'), UAS)).toMatchObject({
      status: 415,
      headers: [{ name: 'Accept', value: 'application/sdp' }],
    });
    expect(checkRequest(setHeader(invite, 'Content-Encoding', 'gzip'), UAS)).toMatchObject({
      status: 415,
      headers: [{ name: 'Accept-Encoding', value: 'identity' }],
    });
    expect(checkRequest(removeHeader(invite, 'Content-Type'), UAS)).toMatchObject({ status: 400, detail: 'a body without Content-Type' });
  });

  it('answers 406 when Accept excludes the SDP an INVITE answer needs', () => {
    expect(checkRequest(setHeader(invite, 'Accept', 'text/plain'), UAS)).toMatchObject({ status: 406 });
    expect(checkRequest(setHeader(invite, 'Accept', 'application/sdp;q=0, text/*'), UAS)).toMatchObject({ status: 406 });
    expect(checkRequest(setHeader(invite, 'Accept', 'application/*'), UAS)).toBeUndefined();
    expect(checkRequest(setHeader(invite, 'Accept', '*/*'), UAS)).toBeUndefined();
  });

  it('answers 483 at a proxy when Max-Forwards is spent, and not at a UAS', () => {
    const spent = setHeader(invite, 'Max-Forwards', '0');
    expect(checkRequest(spent, { role: 'proxy' })).toMatchObject({ status: 483, reason: 'Too Many Hops' });
    expect(checkRequest(spent, UAS)).toBeUndefined();
  });

  it('applies the registrar rules to REGISTER', () => {
    const registrar = { ...UAS, role: 'registrar' } as const;
    expect(checkRequest(setHeader(register, 'To', '<tel:+14155550123>'), registrar)?.status).toBe(400);
    const removeAll = setHeader(register, 'Contact', '*');
    expect(checkRequest(removeAll, registrar)).toMatchObject({ status: 400, detail: "Contact '*' needs Expires: 0" });
    expect(checkRequest(setHeader(removeAll, 'Expires', '0'), registrar)).toBeUndefined();
  });
});

describe('building a response', () => {
  it('copies Via, From, To, Call-ID and CSeq as received, and adds the To tag (RFC 3261 §8.2.6.2)', () => {
    const folded = parseMessage(INVITE_WITH_CHROME_OFFER.replace('Via: SIP/2.0/WSS', 'v:  SIP/2.0/WSS')) as SipRequest;
    const ringing = createResponse(folded, 180, undefined, { toTag: 'b2bua-1' });
    expect(ringing.reason).toBe('Ringing');
    expect(ringing.headers.slice(0, 5)).toEqual([
      { name: 'v', value: 'SIP/2.0/WSS 4k8ncb2ot0s3.invalid;branch=z9hG4bK8329457' },
      { name: 'From', value: '"Alice Liddell" <sip:alice@sip.example.com>;tag=2g7rbk4q1h' },
      { name: 'To', value: '<sip:+14155550123@sip.example.com>;tag=b2bua-1' },
      { name: 'Call-ID', value: '5ttpbgc4i3h7jfoo0p7l' },
      { name: 'CSeq', value: '1 INVITE' },
    ]);
    expect(getHeader(ringing, 'Content-Length')).toBe('0');
  });

  it('keeps an existing To tag and copies Timestamp into a 100', () => {
    const bye = appendHeader(parseMessage(BYE) as SipRequest, 'Timestamp', '54');
    expect(getTo(createResponse(bye, 200, undefined, { toTag: 'other' }))?.tag).toBe('as5f3a1c2e');
    expect(getHeader(createResponse(bye, 100), 'Timestamp')).toBe('54');
    expect(getHeader(createResponse(bye, 200), 'Timestamp')).toBeUndefined();
  });

  it('carries extra headers and a body with its length', () => {
    const ok = createResponse(invite, 200, 'OK', {
      toTag: 't',
      headers: [{ name: 'Contact', value: '<sip:edge@198.51.100.1;transport=ws>' }],
      body: 'v=0\r\n',
      contentType: 'application/sdp',
    });
    const text = serializeMessage(ok);
    expect(text).toMatch(/^SIP\/2\.0 200 OK\r\n/);
    expect(text).toContain('Contact: <sip:edge@198.51.100.1;transport=ws>\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n');
    expect(parseMessage(text)).toEqual(ok);
  });

  it('refuses a status outside 100-699', () => {
    expect(() => createResponse(invite, 700)).toThrow(RangeError);
  });
});
