/**
 * `workers/pbx/sent-by.ts`: the Via and Contact a PbxLink's messages get from the flow that carries
 * them (UDP through a media node's gateway, SIP over WebSocket).
 */
import { describe, expect, it } from 'vitest';
import { getHeader, getHeaders, parseMessage } from '../../shared/message/index.ts';
import { wireWithSentBy } from '../../workers/pbx/sent-by.ts';

const INVITE = [
  'INVITE sip:1001@pbx.example.com:5060;transport=udp SIP/2.0',
  'Via: SIP/2.0/TCP edge.example.com;branch=z9hG4bKabc',
  'Max-Forwards: 70',
  'From: <sip:alice@pbx.example.com>;tag=1',
  'To: <sip:1001@pbx.example.com>',
  'Call-ID: c1',
  'CSeq: 1 INVITE',
  'Contact: <sip:edge.example.com;transport=tcp>',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const OK = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 198.51.100.5:5060;branch=z9hG4bKpbx;rport=5060',
  'Via: SIP/2.0/UDP 198.51.100.9;branch=z9hG4bKext',
  'From: <sip:1001@pbx.example.com>;tag=2',
  'To: <sip:edge@pbx.example.com>;tag=3',
  'Call-ID: c2',
  'CSeq: 7 INVITE',
  'Contact: "Edge" <sip:edge.example.com;transport=tcp>;expires=60',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const GATEWAY = { via: 'UDP', uriTransport: 'udp', address: { host: '203.0.113.7', port: 40000 } } as const;

describe('the Via and Contact of a message on a gateway or WebSocket flow', () => {
  it('names the gateway\'s UDP address in a request\'s Via (with rport) and Contact', () => {
    const request = parseMessage(wireWithSentBy(INVITE, GATEWAY));
    expect(getHeader(request, 'Via')).toBe('SIP/2.0/UDP 203.0.113.7:40000;branch=z9hG4bKabc;rport');
    expect(getHeader(request, 'Contact')).toBe('<sip:203.0.113.7:40000;transport=udp>');
    expect(request.kind === 'request' && request.uri).toBe('sip:1001@pbx.example.com:5060;transport=udp');
  });

  it('keeps a response\'s Vias (the PBX\'s) and rewrites only its Contact, keeping display name and parameters', () => {
    const response = parseMessage(wireWithSentBy(OK, GATEWAY));
    expect(getHeaders(response, 'Via')).toEqual(['SIP/2.0/UDP 198.51.100.5:5060;branch=z9hG4bKpbx;rport=5060', 'SIP/2.0/UDP 198.51.100.9;branch=z9hG4bKext']);
    expect(getHeader(response, 'Contact')).toBe('Edge <sip:203.0.113.7:40000;transport=udp>;expires=60');
  });

  it('over a WebSocket, changes the transports only (RFC 7118 §5.2: the hosts stay as built)', () => {
    const request = parseMessage(wireWithSentBy(INVITE, { via: 'WSS', uriTransport: 'ws' }));
    expect(getHeader(request, 'Via')).toBe('SIP/2.0/WSS edge.example.com;branch=z9hG4bKabc');
    expect(getHeader(request, 'Contact')).toBe('<sip:edge.example.com;transport=ws>');
  });
});
