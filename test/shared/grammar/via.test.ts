import { describe, expect, it } from 'vitest';
import { SipSyntaxError, parseVia, serializeVia } from '../../../shared/grammar/index.ts';

describe('Via', () => {
  it('reads a WebSocket Via with branch, received and rport (RFC 7118, RFC 3581)', () => {
    expect(parseVia('SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf;received=198.51.100.7;rport=53211')).toEqual([
      {
        protocolName: 'SIP',
        protocolVersion: '2.0',
        transport: 'WSS',
        host: 'df7jal23ls0d.invalid',
        port: undefined,
        params: [
          { name: 'branch', value: 'z9hG4bKasudf' },
          { name: 'received', value: '198.51.100.7' },
          { name: 'rport', value: '53211' },
        ],
        branch: 'z9hG4bKasudf',
        received: '198.51.100.7',
        rport: 53211,
      },
    ]);
  });

  it('reads several via-parms with LWS and folds around every separator (RFC 4475 §3.1.1.1)', () => {
    const vias = parseVia('SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239');
    expect(vias.map((v) => [v.transport, v.host, v.branch])).toEqual([
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
  });

  it('reads IPv6 sent-by and received with or without brackets (RFC 5118 §4.5)', () => {
    expect(parseVia('SIP/2.0/UDP [2001:db8::9:1]:6050;received=2001:db8::9:255;branch=z9hG4bKas3')[0]).toMatchObject({
      host: '[2001:db8::9:1]',
      port: 6050,
      received: '2001:db8::9:255',
    });
    expect(parseVia('SIP/2.0/UDP [2001:db8::9:1];received=[2001:db8::9:255]')[0]?.received).toBe('[2001:db8::9:255]');
  });

  it('knows an rport without value as a request for one', () => {
    expect(parseVia('SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-d87543;rport')[0]?.rport).toBe(true);
  });

  it('refuses broken via-parms with a reason', () => {
    const cases: [string, RegExp][] = [
      ['SIP/2.0/UDP 192.0.2.15;;,;,,', /empty parameter/],
      ['SIP/2.0/UDP a.example.com, ,SIP/2.0/UDP b.example.com', /empty via-parm/],
      ['SIP/2.0 host.example.com', /needs '\/'/],
      ['SIP/2.0/UDP', /sent-by is missing/],
      ['SIP/2.0/UDP host.example.com:port', /port '' is not/],
      ['SIP/2.0/UDP host.example.com;branch', /branch parameter needs a token/],
      ['SIP/2.0/UDP host.example.com;received=example.com', /not an IP address/],
      ['SIP/2.0/UDP host.example.com;ttl=256', /ttl parameter '256'/],
      ['SIP/2.0/UDP host_name.example.com', /unexpected '_'/],
    ];
    for (const [text, reason] of cases) {
      expect(() => parseVia(text), text).toThrow(SipSyntaxError);
      expect(() => parseVia(text), text).toThrow(reason);
    }
  });

  it('writes the canonical form and reads it back the same', () => {
    const [via] = parseVia('SIP / 2.0 / TLS  [2001:db8::1] : 5061 ; branch = z9hG4bK1 ; rport');
    expect(serializeVia(via!)).toBe('SIP/2.0/TLS [2001:db8::1]:5061;branch=z9hG4bK1;rport');
    expect(parseVia(serializeVia(via!))).toEqual([via]);
  });
});
