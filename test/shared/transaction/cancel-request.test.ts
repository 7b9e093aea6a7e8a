import { describe, expect, it } from 'vitest';
import { getCSeq, getHeader, getHeaders, parseMessage, serializeMessage } from '../../../shared/message/index.ts';
import { clientTransactionKey, createCancel } from '../../../shared/transaction/index.ts';
import { request } from '../../support/sip-messages.ts';

describe('building a CANCEL (RFC 3261 §9.1)', () => {
  const invite = request({
    headers: ['Route: <sip:edge.sipedge.example;transport=ws;lr>', 'Route: <sip:pbx.example.com;lr>'],
    via: 'SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKcancelme, SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKbelow',
  });

  it('copies Request-URI, Call-ID, From, To and the CSeq number, with CSeq method CANCEL', () => {
    const cancel = createCancel(invite);
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.uri).toBe(invite.uri);
    for (const name of ['Call-ID', 'From', 'To']) expect(getHeader(cancel, name)).toBe(getHeader(invite, name));
    expect(getCSeq(cancel)).toEqual({ seq: 314159, method: 'CANCEL' });
  });

  it('carries only the top Via, so that it shares the INVITE branch but gets a transaction of its own', () => {
    const cancel = createCancel(invite);
    expect(getHeaders(cancel, 'Via')).toEqual(['SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKcancelme']);
    expect(clientTransactionKey(cancel)).toBe('z9hG4bKcancelme CANCEL');
    expect(clientTransactionKey(invite)).toBe('z9hG4bKcancelme INVITE');
  });

  it('follows the INVITE path: the same Route values, no body', () => {
    const cancel = createCancel(invite);
    expect(getHeaders(cancel, 'Route')).toEqual(getHeaders(invite, 'Route'));
    expect(cancel.body).toHaveLength(0);
    expect(getHeader(cancel, 'Content-Length')).toBe('0');
  });

  it('serialises to a message that parses back unchanged', () => {
    const cancel = createCancel(invite);
    expect(parseMessage(serializeMessage(cancel))).toEqual(cancel);
  });

  it('refuses to cancel an ACK or a CANCEL', () => {
    expect(() => createCancel(request({ method: 'ACK' }))).toThrow(RangeError);
    expect(() => createCancel(request({ method: 'CANCEL' }))).toThrow(RangeError);
  });
});
