import { describe, it, expect } from 'vitest';
import { classifyWebSocketFrame } from '../../../shared/framing/index.ts';
import { MESSAGE_WITH_UTF8_BODY, REGISTER_WITH_DIGEST } from '../../support/arbitraries/sip-corpus.ts';

const encoder = new TextEncoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

describe('classifyWebSocketFrame (RFC 7118 §5)', () => {
  it('takes a text frame as one whole SIP message, in UTF-8 octets', () => {
    expect(classifyWebSocketFrame(MESSAGE_WITH_UTF8_BODY)).toEqual({
      kind: 'message',
      bytes: bytes(MESSAGE_WITH_UTF8_BODY),
    });
  });

  it('takes a binary frame as one whole SIP message, from an ArrayBuffer or a Uint8Array', () => {
    const octets = bytes(REGISTER_WITH_DIGEST);
    const buffer = octets.slice().buffer;
    expect(classifyWebSocketFrame(buffer)).toEqual({ kind: 'message', bytes: octets });
    expect(classifyWebSocketFrame(octets)).toEqual({ kind: 'message', bytes: octets });
  });

  it('does not need Content-Length, since the frame bounds the message', () => {
    const text = 'OPTIONS sip:edge.example.com SIP/2.0\r\nCall-ID: x\r\n\r\n';
    expect(classifyWebSocketFrame(text)).toEqual({ kind: 'message', bytes: bytes(text) });
  });

  it('drops CRLFs sent before the start-line', () => {
    expect(classifyWebSocketFrame(`\r\n\r\n${REGISTER_WITH_DIGEST}`)).toEqual({
      kind: 'message',
      bytes: bytes(REGISTER_WITH_DIGEST),
    });
  });

  it.each([
    ['a text', (text: string): string | Uint8Array => text],
    ['a binary', (text: string): string | Uint8Array => bytes(text)],
  ])('reads %s double CRLF as a ping and a single CRLF as a pong (SIP.js keep-alives)', (_label, make) => {
    expect(classifyWebSocketFrame(make('\r\n\r\n'))).toEqual({ kind: 'keepalive', ping: true });
    expect(classifyWebSocketFrame(make('\r\n'))).toEqual({ kind: 'keepalive', ping: false });
  });

  it.each([
    ['an empty text frame', ''],
    ['an empty binary frame', new Uint8Array(0)],
    ['whitespace only', ' \t \r\n'],
    ['three CRLFs', '\r\n\r\n\r\n'],
  ])('drops %s as empty, keeping the connection', (_label, data) => {
    expect(classifyWebSocketFrame(data)).toEqual({ kind: 'error', reason: 'empty', fatal: false });
  });

  it('drops a message over the bound, counting octets rather than characters', () => {
    const text = `MESSAGE sip:a@b SIP/2.0\r\n\r\n${'€'.repeat(100)}`;
    const octets = bytes(text).length;
    expect(text.length).toBeLessThan(octets);
    const tooLarge = { kind: 'error', reason: 'message-too-large', fatal: false };
    expect(classifyWebSocketFrame(text, octets - 1)).toEqual(tooLarge);
    expect(classifyWebSocketFrame(bytes(text), octets - 1)).toEqual(tooLarge);
    expect(classifyWebSocketFrame(text, octets).kind).toBe('message');
  });

  it('drops a binary frame whose header section is not UTF-8', () => {
    const garbage = Uint8Array.of(0x49, 0x4e, 0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a);
    expect(classifyWebSocketFrame(garbage)).toEqual({ kind: 'error', reason: 'not-utf8', fatal: false });
    expect(classifyWebSocketFrame(Uint8Array.of(0xc3, 0x28, 0x80, 0x00))).toEqual({
      kind: 'error',
      reason: 'not-utf8',
      fatal: false,
    });
  });

  it('accepts a binary frame whose body is arbitrary octets', () => {
    const head = bytes('MESSAGE sip:a@b SIP/2.0\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\n');
    const frame = new Uint8Array(head.length + 3);
    frame.set(head);
    frame.set([0xff, 0x00, 0xfe], head.length);
    expect(classifyWebSocketFrame(frame)).toEqual({ kind: 'message', bytes: frame });
  });
});
