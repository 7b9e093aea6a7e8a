import { describe, expect, it } from 'vitest';
import { getCSeq, getHeader, getHeaders, getTo, parseMessage, serializeMessage } from '../../../shared/message/index.ts';
import { createAckForFailure, serverTransactionKey } from '../../../shared/transaction/index.ts';
import { request, response } from '../../support/sip-messages.ts';

describe('the ACK for a failure response (RFC 3261 §17.1.1.3)', () => {
  const invite = request({
    via: 'SIP/2.0/TCP edge.sipedge.example:5060;branch=z9hG4bKack1, SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKbrowser',
    headers: ['Route: <sip:10.0.0.8;lr>'],
  });
  const declined = response(invite, 603, { toTag: 'pbx-77' });

  it('reuses the INVITE branch so the server transaction absorbs it', () => {
    const ack = createAckForFailure(invite, declined);
    expect(getHeaders(ack, 'Via')).toEqual(['SIP/2.0/TCP edge.sipedge.example:5060;branch=z9hG4bKack1']);
    expect(serverTransactionKey(ack)).toBe(serverTransactionKey(invite));
  });

  it('takes To from the response, tag included, and everything else from the INVITE', () => {
    const ack = createAckForFailure(invite, declined);
    expect(ack.uri).toBe(invite.uri);
    expect(getTo(ack)?.tag).toBe('pbx-77');
    expect(getHeader(ack, 'From')).toBe(getHeader(invite, 'From'));
    expect(getHeader(ack, 'Call-ID')).toBe(getHeader(invite, 'Call-ID'));
    expect(getCSeq(ack)).toEqual({ seq: 314159, method: 'ACK' });
    expect(getHeaders(ack, 'Route')).toEqual(['<sip:10.0.0.8;lr>']);
    expect(ack.body).toHaveLength(0);
  });

  it('serialises to a message that parses back unchanged', () => {
    const ack = createAckForFailure(invite, declined);
    expect(parseMessage(serializeMessage(ack))).toEqual(ack);
  });
});
