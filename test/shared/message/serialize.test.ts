import { describe, expect, it } from 'vitest';
import {
  getContentLength,
  getHeader,
  parseMessage,
  parseMessageBytes,
  serializeMessage,
  serializeMessageBytes,
  setHeader,
  withBody,
  type SipRequest,
} from '../../../shared/message/index.ts';
import { BYE, INVITE_WITH_CHROME_OFFER, OK_TO_INVITE, SIPJS_REGISTER_WITH_DIGEST } from './captured-messages.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe('serialising a message', () => {
  it('gives back the exact bytes of a well-formed message', () => {
    for (const text of [SIPJS_REGISTER_WITH_DIGEST, INVITE_WITH_CHROME_OFFER, OK_TO_INVITE, BYE]) {
      expect(serializeMessage(parseMessage(text))).toBe(text);
      expect(serializeMessageBytes(parseMessageBytes(encoder.encode(text)))).toEqual(encoder.encode(text));
    }
  });

  it('normalises only the documented things: colon spacing, value edges, line ends, leading CRLFs', () => {
    const received = [
      '\r\nOPTIONS sip:bob@example.com SIP/2.0',
      'Via  :  SIP/2.0/UDP host.example.com;branch=z9hG4bK77  ',
      'Subject:\tfolded',
      ' continuation',
      's :',
      'Call-ID: a@b',
      'Content-Length: 0',
      '',
      '',
    ].join('\n');
    expect(serializeMessage(parseMessage(received))).toBe(
      [
        'OPTIONS sip:bob@example.com SIP/2.0',
        'Via: SIP/2.0/UDP host.example.com;branch=z9hG4bK77',
        'Subject: folded\n continuation',
        's:',
        'Call-ID: a@b',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  });

  it('writes a binary body as octets', () => {
    const head = 'MESSAGE sip:bob@example.com SIP/2.0\r\nContent-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\n';
    const bytes = new Uint8Array([...encoder.encode(head), 0, 255, 13, 10]);
    expect(serializeMessageBytes(parseMessageBytes(bytes))).toEqual(bytes);
  });

  it('refuses to turn a body that is not UTF-8 into text', () => {
    const message: SipRequest = { ...(parseMessage(BYE) as SipRequest), body: new Uint8Array([0xff]) };
    expect(() => serializeMessage(message)).toThrow(TypeError);
  });

  it('never changes Content-Length on its own', () => {
    const message = { ...parseMessage(BYE), body: encoder.encode('unexpected') };
    expect(serializeMessage(message)).toContain('Content-Length: 0\r\n\r\nunexpected');
  });
});

describe('replacing a body', () => {
  it('sets the body, its Content-Length and its Content-Type together', () => {
    const bye = parseMessage(BYE);
    const next = withBody(bye, 'Bye now, 👋', 'text/plain;charset=utf-8');
    expect(getContentLength(next)).toBe(encoder.encode('Bye now, 👋').length);
    expect(getHeader(next, 'Content-Type')).toBe('text/plain;charset=utf-8');
    expect(decoder.decode(parseMessage(serializeMessage(next)).body)).toBe('Bye now, 👋');
    expect(bye.body).toHaveLength(0);
  });

  it('drops Content-Type with the body and replaces a compact Content-Length', () => {
    const invite = setHeader(parseMessage(INVITE_WITH_CHROME_OFFER), 'l', '9');
    const emptied = withBody(invite, new Uint8Array(0));
    expect(getHeader(emptied, 'Content-Type')).toBeUndefined();
    expect(emptied.headers.filter((h) => /^(l|content-length)$/i.test(h.name))).toEqual([{ name: 'Content-Length', value: '0' }]);
  });
});
