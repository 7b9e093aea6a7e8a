import { describe, it, expect } from 'vitest';
import { StreamFramer, type FrameEvent, type FramingErrorReason } from '../../../shared/framing/index.ts';
import {
  INVITE_WITH_WEBRTC_OFFER,
  MESSAGE_WITH_UTF8_BODY,
  REGISTER_WITH_DIGEST,
  sipText,
} from '../../support/arbitraries/sip-corpus.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

/** Feeds every chunk to one framer and returns all the events, in order. */
function frame(chunks: readonly Uint8Array[], framer = new StreamFramer()): FrameEvent[] {
  return chunks.flatMap((chunk) => framer.push(chunk));
}

function messagesOf(events: readonly FrameEvent[]): string[] {
  return events.flatMap((event) => (event.kind === 'message' ? [decoder.decode(event.bytes)] : []));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const OPTIONS = sipText([
  'OPTIONS sip:edge.example.com SIP/2.0',
  'Via: SIP/2.0/TLS 198.51.100.7:5061;branch=z9hG4bK-opt-1',
  'From: <sip:pbx@pbx.example.net>;tag=1',
  'To: <sip:edge.example.com>',
  'Call-ID: opt-1',
  'CSeq: 1 OPTIONS',
]);

describe('StreamFramer: messages', () => {
  it('frames a whole message delivered in one chunk', () => {
    const events = frame([bytes(REGISTER_WITH_DIGEST)]);
    expect(events).toEqual([{ kind: 'message', bytes: bytes(REGISTER_WITH_DIGEST) }]);
  });

  it('yields the same two messages wherever the stream is cut in two', () => {
    // INVITE carries a body and a UTF-8 MESSAGE follows, so cuts land in the start-line, in
    // headers, inside CRLFCRLF, inside the body and inside multi-byte characters.
    const stream = bytes(INVITE_WITH_WEBRTC_OFFER + MESSAGE_WITH_UTF8_BODY);
    const expected = [INVITE_WITH_WEBRTC_OFFER, MESSAGE_WITH_UTF8_BODY];
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const events = frame([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(events.every((event) => event.kind === 'message')).toBe(true);
      expect(messagesOf(events)).toEqual(expected);
    }
  });

  it('yields the same two messages when the stream arrives one octet at a time', () => {
    const stream = bytes(REGISTER_WITH_DIGEST + MESSAGE_WITH_UTF8_BODY);
    const chunks = Array.from(stream, (octet) => Uint8Array.of(octet));
    expect(messagesOf(frame(chunks))).toEqual([REGISTER_WITH_DIGEST, MESSAGE_WITH_UTF8_BODY]);
  });

  it('splits several pipelined messages arriving in one chunk', () => {
    const events = frame([bytes(OPTIONS + REGISTER_WITH_DIGEST + OPTIONS + MESSAGE_WITH_UTF8_BODY)]);
    expect(messagesOf(events)).toEqual([OPTIONS, REGISTER_WITH_DIGEST, OPTIONS, MESSAGE_WITH_UTF8_BODY]);
  });

  it('keeps the start of the next message when a chunk ends mid-way through it', () => {
    const framer = new StreamFramer();
    const stream = bytes(OPTIONS + REGISTER_WITH_DIGEST);
    const first = framer.push(stream.subarray(0, OPTIONS.length + 20));
    expect(messagesOf(first)).toEqual([OPTIONS]);
    expect(framer.pendingBytes).toBe(20);
    expect(messagesOf(framer.push(stream.subarray(OPTIONS.length + 20)))).toEqual([REGISTER_WITH_DIGEST]);
    expect(framer.pendingBytes).toBe(0);
  });

  it('does not end a body at a CRLFCRLF inside it', () => {
    const withBlankLines = sipText(['INFO sip:a@b SIP/2.0', 'Content-Type: text/plain'], 'one\r\n\r\ntwo\r\n\r\n');
    expect(messagesOf(frame([bytes(withBlankLines + OPTIONS)]))).toEqual([withBlankLines, OPTIONS]);
  });

  it('counts Content-Length in octets, so a multi-byte UTF-8 body ends where it should', () => {
    const body = 'naïve café ☕ 🎉';
    const message = sipText(['MESSAGE sip:a@b SIP/2.0'], body);
    expect(bytes(body).length).toBeGreaterThan(body.length);
    expect(messagesOf(frame([bytes(message + OPTIONS)]))).toEqual([message, OPTIONS]);
  });

  it('carries binary body octets through untouched', () => {
    const head = bytes('MESSAGE sip:a@b SIP/2.0\r\nContent-Type: application/octet-stream\r\nContent-Length: 6\r\n\r\n');
    const body = Uint8Array.of(0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a);
    const events = frame([concat(head, body, bytes(OPTIONS))]);
    expect(events[0]).toEqual({ kind: 'message', bytes: concat(head, body) });
    expect(messagesOf(events)[1]).toEqual(OPTIONS);
  });

  it.each([
    ['the compact form', 'l: 3'],
    ['the compact form in upper case', 'L:3'],
    ['upper case', 'CONTENT-LENGTH: 3'],
    ['mixed case with whitespace before the colon', 'content-Length \t:   3  '],
    ['a value folded onto the next line', 'Content-Length:\r\n 3'],
    ['leading zeros', 'Content-Length: 0003'],
    ['the same value twice', 'Content-Length: 3\r\nl: 3'],
  ])('finds Content-Length written in %s', (_label, field) => {
    const message = `INFO sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n${field}\r\n\r\nabc`;
    expect(messagesOf(frame([bytes(message + OPTIONS)]))).toEqual([message, OPTIONS]);
  });

  it('does not mistake a header that merely starts like Content-Length for it', () => {
    const message = 'INFO sip:a@b SIP/2.0\r\nContent-Length-Extra: 99\r\nLength: 7\r\nl: 0\r\n\r\n';
    expect(messagesOf(frame([bytes(message + OPTIONS)]))).toEqual([message, OPTIONS]);
  });
});

describe('StreamFramer: keep-alives (RFC 5626 §4.4.1)', () => {
  it('reports a double CRLF as a ping to be answered', () => {
    expect(frame([bytes('\r\n\r\n')])).toEqual([{ kind: 'keepalive', ping: true }]);
  });

  it('reports a single CRLF as a pong', () => {
    expect(frame([bytes('\r\n')])).toEqual([{ kind: 'keepalive', ping: false }]);
  });

  it('reports keep-alives between messages without disturbing them', () => {
    const events = frame([bytes(`\r\n\r\n${OPTIONS}\r\n\r\n\r\n${REGISTER_WITH_DIGEST}\r\n`)]);
    expect(events).toEqual([
      { kind: 'keepalive', ping: true },
      { kind: 'message', bytes: bytes(OPTIONS) },
      { kind: 'keepalive', ping: true },
      { kind: 'keepalive', ping: false },
      { kind: 'message', bytes: bytes(REGISTER_WITH_DIGEST) },
      { kind: 'keepalive', ping: false },
    ]);
  });

  it('still answers a ping that arrives cut in two', () => {
    for (const chunks of [['\r', '\n\r\n'], ['\r\n\r', '\n'], ['\r\n', '\r\n'], ['\r', '\n', '\r', '\n']]) {
      const events = frame(chunks.map(bytes));
      expect(events.filter((event) => event.kind === 'keepalive' && event.ping)).toHaveLength(1);
      expect(events.every((event) => event.kind === 'keepalive')).toBe(true);
    }
  });

  it('reports a pong at once, without waiting for the octets after it', () => {
    const framer = new StreamFramer();
    expect(framer.push(bytes('\r\n'))).toEqual([{ kind: 'keepalive', ping: false }]);
    expect(messagesOf(framer.push(bytes(OPTIONS)))).toEqual([OPTIONS]);
  });
});

describe('StreamFramer: fatal errors (RFC 3261 §18.3)', () => {
  const fatal = (reason: FramingErrorReason): FrameEvent[] => [{ kind: 'error', reason, fatal: true }];

  it('closes the connection when a message has no Content-Length', () => {
    const framer = new StreamFramer();
    expect(framer.push(bytes('BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n'))).toEqual(fatal('missing-content-length'));
    expect(framer.closed).toBe(true);
  });

  it.each([
    ['not a number', 'Content-Length: ten'],
    ['negative', 'Content-Length: -1'],
    ['followed by junk', 'Content-Length: 12abc'],
    ['empty', 'Content-Length:'],
    ['two values that disagree', 'Content-Length: 0\r\nl: 5'],
    ['a list', 'Content-Length: 0, 0'],
  ])('closes the connection when Content-Length is %s', (_label, field) => {
    expect(frame([bytes(`BYE sip:a@b SIP/2.0\r\n${field}\r\n\r\n`)])).toEqual(fatal('invalid-content-length'));
  });

  it('delivers the messages before a bad one, then closes', () => {
    const events = frame([bytes(`${OPTIONS}BYE sip:a@b SIP/2.0\r\n\r\n${OPTIONS}`)]);
    expect(events).toEqual([{ kind: 'message', bytes: bytes(OPTIONS) }, ...fatal('missing-content-length')]);
  });

  it('ignores everything after a fatal error', () => {
    const framer = new StreamFramer();
    framer.push(bytes('BYE sip:a@b SIP/2.0\r\n\r\n'));
    expect(framer.push(bytes(OPTIONS))).toEqual([]);
    expect(framer.pendingBytes).toBe(0);
  });

  it('accepts a message of exactly the size bound', () => {
    const message = bytes(OPTIONS);
    const framer = new StreamFramer({ maxMessageBytes: message.length });
    expect(framer.push(message)).toEqual([{ kind: 'message', bytes: message }]);
  });

  it('closes the connection as soon as Content-Length announces a message over the bound', () => {
    const framer = new StreamFramer({ maxMessageBytes: 1024 });
    const events = framer.push(bytes('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 2000\r\n\r\nonly the start'));
    expect(events).toEqual(fatal('message-too-large'));
  });

  it('closes the connection when a header section grows past the bound without ending', () => {
    const framer = new StreamFramer({ maxMessageBytes: 1024 });
    const padding = Array.from({ length: 40 }, () => bytes('X-Pad: 0123456789012345678901234567\r\n'));
    const events = frame([bytes('INVITE sip:a@b SIP/2.0\r\n'), ...padding], framer);
    expect(events).toEqual(fatal('message-too-large'));
  });

  it('closes the connection on an absurd Content-Length instead of waiting for it', () => {
    expect(frame([bytes(`BYE sip:a@b SIP/2.0\r\nl: ${'9'.repeat(400)}\r\n\r\n`)])).toEqual(fatal('message-too-large'));
  });

  it('refuses a size bound that is not a positive integer', () => {
    expect(() => new StreamFramer({ maxMessageBytes: 0 })).toThrow(RangeError);
    expect(() => new StreamFramer({ maxMessageBytes: 1.5 })).toThrow(RangeError);
  });
});

describe('StreamFramer: cost', () => {
  it('frames a message near the 64 KiB bound trickled one octet at a time, promptly', () => {
    // A sanity bound only: the growth of framing time with size is measured in
    // test/shared/properties/linear-time.test.ts.
    const padding = Array.from({ length: 1600 }, (_, i) => `X-Pad-${i}: ${'p'.repeat(24)}`);
    const message = bytes(sipText(['NOTIFY sip:a@b SIP/2.0', ...padding]));
    const framer = new StreamFramer();
    const started = performance.now();
    const events: FrameEvent[] = [];
    for (let at = 0; at < message.length; at += 1) events.push(...framer.push(message.subarray(at, at + 1)));
    expect(events).toEqual([{ kind: 'message', bytes: message }]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
