import { describe, expect, it } from 'vitest';
import { paramValue } from '../../../shared/grammar/index.ts';
import {
  SipParseError,
  getCSeq,
  getCallId,
  getContacts,
  getContentLength,
  getContentType,
  getExpires,
  getFrom,
  getMaxForwards,
  getOptionTags,
  getRoutes,
  getTo,
  getTopVia,
  getVia,
  parseMessage,
  setHeader,
} from '../../../shared/message/index.ts';
import { BYE, INVITE_WITH_CHROME_OFFER, OK_TO_INVITE, SIPJS_REGISTER_WITH_DIGEST } from './captured-messages.ts';

describe('typed header views', () => {
  it('reads every Via in order, with branch, received and rport', () => {
    const message = parseMessage(
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK1;received=198.51.100.23;rport=49152, SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK2;rport\r\nv: SIP/2.0/UDP c.example.com\r\nContent-Length: 0\r\n\r\n',
    );
    const vias = getVia(message);
    expect(vias.map((via) => [via.transport, via.host, via.port, via.branch, via.received, via.rport])).toEqual([
      ['WSS', 'a.invalid', undefined, 'z9hG4bK1', '198.51.100.23', 49152],
      ['TCP', '[2001:db8::1]', 5061, 'z9hG4bK2', undefined, true],
      ['UDP', 'c.example.com', undefined, undefined, undefined, undefined],
    ]);
    expect(getTopVia(message)?.branch).toBe('z9hG4bK1');
  });

  it('reads From and To with their tags and display names', () => {
    const invite = parseMessage(INVITE_WITH_CHROME_OFFER);
    const from = getFrom(invite);
    expect(from?.displayName).toBe('Alice Liddell');
    expect(from?.tag).toBe('2g7rbk4q1h');
    expect(from?.uri).toMatchObject({ kind: 'sip', user: 'alice', host: 'sip.example.com' });
    expect(getTo(invite)?.tag).toBeUndefined();
    expect(getTo(parseMessage(OK_TO_INVITE))?.tag).toBe('as5f3a1c2e');
  });

  it('reads the Contact of a SIP.js REGISTER with its outbound parameters', () => {
    const contacts = getContacts(parseMessage(SIPJS_REGISTER_WITH_DIGEST));
    expect(contacts).not.toBe('*');
    if (contacts === '*') return;
    expect(contacts).toHaveLength(1);
    expect(contacts[0]?.uri).toMatchObject({ user: '9bdfnq8r', host: '4k8ncb2ot0s3.invalid', params: [{ name: 'transport', value: 'ws' }] });
    expect(paramValue(contacts[0]!.params, '+sip.instance')).toBe('"<urn:uuid:c7e8d8a5-3d4e-4f4c-8b2c-5d9c6f0a8e11>"');
    expect(paramValue(contacts[0]!.params, 'expires')).toBe('600');
  });

  it('reads the Contact wildcard and refuses it mixed with addresses', () => {
    const register = parseMessage(SIPJS_REGISTER_WITH_DIGEST);
    expect(getContacts(setHeader(register, 'Contact', '*'))).toBe('*');
    expect(() => getContacts(setHeader(register, 'Contact', '*, <sip:a@b.example>'))).toThrow(SipParseError);
    expect(getContacts(parseMessage(BYE))).toEqual([]);
  });

  it('reads the numbers and the simple values', () => {
    const register = parseMessage(SIPJS_REGISTER_WITH_DIGEST);
    expect(getCSeq(register)).toEqual({ seq: 2, method: 'REGISTER' });
    expect(getCallId(register)).toBe('3cmd0ngm0mdnu3a2o0gdn1');
    expect(getMaxForwards(register)).toBe(70);
    expect(getContentLength(register)).toBe(0);
    expect(getExpires(register)).toBe(600);
    expect(getOptionTags(register, 'Supported')).toEqual(['path', 'gruu', 'outbound']);
    expect(getContentType(parseMessage(INVITE_WITH_CHROME_OFFER))).toEqual({ type: 'application', subtype: 'sdp', params: [] });
    expect(getContentType(register)).toBeUndefined();
  });

  it('reads Route and Record-Route sets in order', () => {
    expect(getRoutes(parseMessage(BYE)).map((route) => route.uri)).toMatchObject([{ host: 'edge.example.com' }, { host: '10.0.0.5' }]);
    expect(getRoutes(parseMessage(OK_TO_INVITE), 'Record-Route')).toHaveLength(2);
  });

  it('refuses a malformed header only when it is read, naming it and asking for 400', () => {
    const register = setHeader(parseMessage(SIPJS_REGISTER_WITH_DIGEST), 'Expires', 'soon');
    expect(getCallId(register)).toBe('3cmd0ngm0mdnu3a2o0gdn1');
    try {
      getExpires(register);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SipParseError);
      expect((error as SipParseError).reason).toBe("Expires: value 'soon' is not a non-negative integer");
      expect((error as SipParseError).response).toBe(400);
    }
  });
});
