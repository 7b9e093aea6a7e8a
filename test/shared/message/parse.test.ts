import { describe, expect, it } from 'vitest';
import {
  SipParseError,
  createResponse,
  getHeader,
  getTopVia,
  parseMessage,
  parseMessageBytes,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../../shared/message/index.ts';
import { BYE, CHROME_OFFER, INVITE_WITH_CHROME_OFFER, OK_TO_INVITE, SIPJS_REGISTER_WITH_DIGEST } from './captured-messages.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function request(text: string): SipRequest {
  const message = parseMessage(text);
  if (message.kind !== 'request') throw new Error('expected a request');
  return message;
}

function response(text: string): SipResponse {
  const message = parseMessage(text);
  if (message.kind !== 'response') throw new Error('expected a response');
  return message;
}

function parseFailure(input: string | Uint8Array): SipParseError {
  try {
    if (typeof input === 'string') parseMessage(input);
    else parseMessageBytes(input);
  } catch (error) {
    if (error instanceof SipParseError) return error;
    throw error;
  }
  throw new Error('expected the parse to fail');
}

const OPTIONS_HEAD = [
  'OPTIONS sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKnashds8',
  'To: <sip:bob@example.com>',
  'From: <sip:alice@example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710',
  'CSeq: 63104 OPTIONS',
  'Max-Forwards: 70',
];

function options(extra: string[] = [], body = ''): string {
  return [...OPTIONS_HEAD, ...extra, '', body].join('\r\n');
}

describe('parsing a message', () => {
  it('reads a SIP.js REGISTER with its digest Authorization kept byte for byte', () => {
    const register = request(SIPJS_REGISTER_WITH_DIGEST);
    expect(register.method).toBe('REGISTER');
    expect(register.uri).toBe('sip:sip.example.com');
    expect(register.version).toBe('SIP/2.0');
    expect(register.headers).toHaveLength(13);
    expect(getHeader(register, 'authorization')).toBe(
      'Digest algorithm=MD5, username="alice", realm="sip.example.com", nonce="YzI5Mzk4ODk0NmY6NDk0", uri="sip:sip.example.com", response="6629fae49393a05397450978507c4ef1", qop=auth, cnonce="k1pg1db8ho9o", nc=00000001',
    );
    expect(register.body).toHaveLength(0);
  });

  it('reads an INVITE whose body is exactly the Chrome offer', () => {
    const invite = request(INVITE_WITH_CHROME_OFFER);
    expect(invite.method).toBe('INVITE');
    expect(decoder.decode(invite.body)).toBe(CHROME_OFFER);
    expect(getTopVia(invite)?.transport).toBe('WSS');
  });

  it('reads a 200 OK and a BYE', () => {
    const ok = response(OK_TO_INVITE);
    expect(ok.status).toBe(200);
    expect(ok.reason).toBe('OK');
    expect(decoder.decode(ok.body)).toContain('m=audio 14566 RTP/AVP 0 101');
    expect(request(BYE).method).toBe('BYE');
  });

  it('gives the same message from text and from its UTF-8 octets', () => {
    for (const text of [SIPJS_REGISTER_WITH_DIGEST, INVITE_WITH_CHROME_OFFER, OK_TO_INVITE, BYE]) {
      expect(parseMessageBytes(encoder.encode(text))).toEqual(parseMessage(text));
    }
  });

  it('keeps a folded value as received and unfolds nothing', () => {
    const message = parseMessage(options(['Subject: I know you are there,', '  pick up the phone', '\tand talk to me!']));
    expect(getHeader(message, 'Subject')).toBe('I know you are there,\r\n  pick up the phone\r\n\tand talk to me!');
  });

  it('drops whitespace around the colon and at both ends of a value, folds before the value included', () => {
    const message = parseMessage(options(['Subject  :   ', '   spaced out   ', 'X-Empty:']));
    expect(message.headers.at(-2)).toEqual({ name: 'Subject', value: 'spaced out' });
    expect(message.headers.at(-1)).toEqual({ name: 'X-Empty', value: '' });
  });

  it('accepts bare LF line ends, as RFC 5118 messages are written', () => {
    const message = parseMessage(options().replaceAll('\r\n', '\n'));
    expect(message.headers).toHaveLength(6);
    expect(getHeader(message, 'CSeq')).toBe('63104 OPTIONS');
  });

  it('ignores CRLFs before the start line (RFC 3261 §7.5)', () => {
    expect(request(`\r\n\r\n${options()}`).method).toBe('OPTIONS');
  });

  it('accepts input that ends right after the last header line', () => {
    const message = parseMessage(`${OPTIONS_HEAD.join('\r\n')}\r\nContent-Length: 0\r\n`);
    expect(message.headers).toHaveLength(7);
  });

  it('takes exactly Content-Length octets and ignores the rest of the datagram (RFC 3261 §18.3)', () => {
    const message = parseMessage(options(['Content-Type: text/plain', 'Content-Length: 5'], 'hello, and then some noise'));
    expect(decoder.decode(message.body)).toBe('hello');
  });

  it('counts Content-Length in octets, not characters', () => {
    const body = 'grüße';
    const message = parseMessage(options(['Content-Type: text/plain', `Content-Length: ${encoder.encode(body).length}`], body));
    expect(decoder.decode(message.body)).toBe(body);
  });

  it('takes the rest of the input as the body when there is no Content-Length', () => {
    const message = parseMessage(options(['Content-Type: text/plain'], 'all of this'));
    expect(decoder.decode(message.body)).toBe('all of this');
  });

  it('keeps binary bodies intact when parsing octets', () => {
    const head = encoder.encode(options(['Content-Type: application/octet-stream', 'Content-Length: 6']));
    const bytes = new Uint8Array([...head, 0, 13, 10, 255, 13, 10]);
    expect([...parseMessageBytes(bytes).body]).toEqual([0, 13, 10, 255, 13, 10]);
  });

  it('reads an empty reason phrase and a UTF-8 one', () => {
    expect(response('SIP/2.0 100 \r\nContent-Length: 0\r\n\r\n').reason).toBe('');
    const bytes = encoder.encode('SIP/2.0 486 Занято\r\nContent-Length: 0\r\n\r\n');
    expect((parseMessageBytes(bytes) as SipResponse).reason).toBe('Занято');
  });

  it('parses any SIP version so that an element can answer 505', () => {
    expect(request('OPTIONS sip:a@example.com SIP/3.0\r\n\r\n').version).toBe('SIP/3.0');
  });

  it('keeps unknown headers, their case and their order, untouched', () => {
    const message = parseMessage(options(['X-Weird: ;;,,;;,;', 'p-custom-THING: <a>, "b,c"']));
    expect(message.headers.slice(-2)).toEqual([
      { name: 'X-Weird', value: ';;,,;;,;' },
      { name: 'p-custom-THING', value: '<a>, "b,c"' },
    ]);
  });
});

describe('refusing a message', () => {
  it('refuses a request cut inside its header section, with 400', () => {
    const error = parseFailure(SIPJS_REGISTER_WITH_DIGEST.slice(0, 200));
    expect(error.reason).toMatch(/not terminated by an empty line/);
    expect(error.response).toBe(400);
  });

  it('refuses a request cut inside its body and still offers what parsed', () => {
    const truncated = INVITE_WITH_CHROME_OFFER.slice(0, -100);
    const error = parseFailure(truncated);
    expect(error.reason).toMatch(/^Content-Length \d+ exceeds the \d+ octets received$/);
    expect(error.response).toBe(400);
    expect(error.partial?.kind).toBe('request');
    const answer = createResponse(error.partial as SipRequest, 400);
    expect(getHeader(answer, 'Call-ID')).toBe('5ttpbgc4i3h7jfoo0p7l');
  });

  it('refuses a response cut inside its body without asking for an answer', () => {
    const error = parseFailure(OK_TO_INVITE.slice(0, -10));
    expect(error.response).toBeUndefined();
  });

  it('refuses empty input and a bare start line without a line end', () => {
    expect(parseFailure('').reason).toBe('empty message');
    expect(parseFailure('\r\n\r\n').reason).toBe('empty message');
    expect(parseFailure('OPTIONS sip:a@example.com SIP/2.0').reason).toMatch(/not terminated/);
  });

  it('names a header line without a colon, and keeps the good lines in the partial message', () => {
    const error = parseFailure(options(['Foobar roobar']));
    expect(error.reason).toBe("header line without a colon: 'Foobar roobar'");
    expect(error.partial?.headers).toHaveLength(6);
  });

  it('refuses broken mandatory headers and names the header', () => {
    const cases: [string, RegExp][] = [
      ['Via: SIP/2.0/UDP', /^Via: sent-by is missing/],
      ['Via: SIP/2.0/UDP host;;branch=z9hG4bK1', /^Via: empty parameter/],
      ['From: Bell, Alexander <sip:bell@example.com>', /^From: display name 'Bell, Alexander' must be quoted/],
      ['To: "unterminated <sip:bob@example.com>', /^To: unterminated quoted string/],
      ['Call-ID: two words', /^Call-ID: .* not a word character/],
      ['CSeq: 4294967296 OPTIONS', /^CSeq: sequence number 4294967296 is larger than 4294967295/],
      ['CSeq: OPTIONS', /^CSeq: .*does not start with a sequence number/],
      ['Max-Forwards: 256', /^Max-Forwards: value 256 is larger than 255/],
      ['Content-Length: five', /^Content-Length: value 'five' is not a non-negative integer/],
      ['Content-Type: sdp', /^Content-Type: media type 'sdp' has no '\/'/],
    ];
    for (const [line, reason] of cases) {
      const error = parseFailure(options([line]));
      expect(error.reason).toMatch(reason);
      expect(error.response).toBe(400);
    }
  });

  it('refuses two Content-Length headers that disagree', () => {
    const error = parseFailure(options(['Content-Length: 13', 'l: 5'], 'hello'));
    expect(error.reason).toBe('Content-Length appears twice with different values (13 and 5)');
  });

  it('refuses malformed Request-Lines but guesses the parts so that 400 can be sent', () => {
    const cases: [string, RegExp][] = [
      ['OPTIONS  sip:bob@example.com SIP/2.0', /more than one SP/],
      ['OPTIONS sip:bob@example.com SIP/2.0 ', /ends in whitespace/],
      ['OPTIONS <sip:bob@example.com> SIP/2.0', /enclosed in <>/],
      ['OPTIONS sip:bob@example.com;\tlr SIP/2.0', /contains whitespace/],
      ['OPTIONS sip:bob@example.com', /has no SIP-Version/],
      ['OPTIONS sip:bob@example.com SIP/two', /SIP-Version 'SIP\/two' is malformed/],
      ['OPTIONS sip:bob@example.com?Subject=hi SIP/2.0', /carries URI headers/],
      ['OPTIONS sip:2001:db8::10 SIP/2.0', /IPv6 address not enclosed in \[ \]/],
      ['OPT[IONS sip:bob@example.com SIP/2.0', /method 'OPT\[IONS' is not a token/],
    ];
    for (const [line, reason] of cases) {
      const error = parseFailure(options().replace(OPTIONS_HEAD[0]!, line));
      expect(error.reason).toMatch(reason);
      expect(error.response).toBe(400);
      expect(error.partial?.kind).toBe('request');
      expect(error.partial?.headers).toHaveLength(6);
    }
  });

  it('refuses malformed Status-Lines with nothing to answer', () => {
    for (const [line, reason] of [
      ['SIP/2.0 4294967301 better not break the receiver', /not three digits/],
      ['SIP/2.0 099 Too Early', /outside 100-699/],
      ['SIP/2.0 700 Too Late', /outside 100-699/],
      ['SIP/2.0', /has no status code/],
    ] as const) {
      const error = parseFailure(`${line}\r\nContent-Length: 0\r\n\r\n`);
      expect(error.reason).toMatch(reason);
      expect(error.response).toBeUndefined();
      expect(error.partial).toBeUndefined();
    }
  });

  it('refuses a header section that is not UTF-8', () => {
    const bytes = encoder.encode(options(['Subject: x']));
    bytes[bytes.indexOf(120)] = 0xff;
    expect(parseFailure(bytes).reason).toBe('the header section is not valid UTF-8');
  });

  it('throws nothing but SipParseError on garbage', () => {
    const garbage = ['\u0000', 'SIP/', ':\r\n\r\n', 'A B C\r\n\r\n', 'INVITE sip:x SIP/2.0\r\n :\r\n\r\n', 'SIP/2.0 200 OK\r\nVia\r\n\r\n', '\r\nx\r\n\r\n'];
    for (const input of garbage) {
      const outcome = (): SipMessage | SipParseError => {
        try {
          return parseMessage(input);
        } catch (error) {
          if (error instanceof SipParseError) return error;
          throw error;
        }
      };
      expect(outcome).not.toThrow();
    }
  });
});
