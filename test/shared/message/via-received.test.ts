import { describe, expect, it } from 'vitest';
import { getHeader, getTopVia, markReceived, parseMessage, type SipRequest } from '../../../shared/message/index.ts';

function requestWithVia(via: string): SipRequest {
  return parseMessage(`OPTIONS sip:edge.example.com SIP/2.0\r\nVia: ${via}\r\nX-After: kept\r\nContent-Length: 0\r\n\r\n`) as SipRequest;
}

describe('recording where a request came from (RFC 3261 §18.2.1, RFC 3581 §4)', () => {
  it('adds received when the sent-by is a name, as a browser WebSocket Via always is', () => {
    const marked = markReceived(requestWithVia('SIP/2.0/WSS 4k8ncb2ot0s3.invalid;branch=z9hG4bK1'), '198.51.100.23', 49152);
    expect(getHeader(marked, 'Via')).toBe('SIP/2.0/WSS 4k8ncb2ot0s3.invalid;branch=z9hG4bK1;received=198.51.100.23');
  });

  it('fills an empty rport and adds received even when the address matches', () => {
    const marked = markReceived(requestWithVia('SIP/2.0/UDP 192.0.2.4:5060;rport;branch=z9hG4bK2'), '192.0.2.4', 61000);
    expect(getTopVia(marked)).toMatchObject({ received: '192.0.2.4', rport: 61000 });
    expect(getHeader(marked, 'Via')).toBe('SIP/2.0/UDP 192.0.2.4:5060;rport=61000;branch=z9hG4bK2;received=192.0.2.4');
  });

  it('leaves the request as it was when the sent-by is the source address', () => {
    const request = requestWithVia('SIP/2.0/UDP [2001:DB8::9:1];branch=z9hG4bK3');
    expect(markReceived(request, '2001:db8:0:0:0:0:9:1', 5060)).toBe(request);
  });

  it('writes an IPv6 source bare, as RFC 3261 §25.1 spells via-received', () => {
    const marked = markReceived(requestWithVia('SIP/2.0/TCP client.example.com;branch=z9hG4bK4'), '[2001:db8::20]', 5060);
    expect(getTopVia(marked)?.received).toBe('2001:db8::20');
  });

  it('rewrites only the top via-parm and keeps every other byte', () => {
    const request = requestWithVia('SIP/2.0/UDP  a.example.com ; branch=z9hG4bK5 ,  SIP/2.0/UDP   b.example.com;branch=z9hG4bK6');
    const marked = markReceived(request, '203.0.113.9', 5060);
    expect(getHeader(marked, 'Via')).toBe('SIP/2.0/UDP a.example.com;branch=z9hG4bK5;received=203.0.113.9 ,  SIP/2.0/UDP   b.example.com;branch=z9hG4bK6');
    expect(marked.headers.slice(1)).toEqual(request.headers.slice(1));
  });
});
