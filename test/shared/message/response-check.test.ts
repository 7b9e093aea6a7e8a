import { describe, expect, it } from 'vitest';
import { checkResponse, parseMessage, prependHeader, removeHeader, type SipResponse } from '../../../shared/message/index.ts';
import { OK_TO_INVITE } from './captured-messages.ts';

const ok = parseMessage(OK_TO_INVITE) as SipResponse;

describe('dropping responses a receiver must not act on', () => {
  it('keeps a well-formed response at its UAC', () => {
    expect(checkResponse(ok, { role: 'uac' })).toBeUndefined();
  });

  it('drops a response with more than one Via at a UAC (RFC 3261 §8.1.3.3)', () => {
    const twice = prependHeader(ok, 'Via', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp');
    expect(checkResponse(twice, { role: 'uac' })).toEqual({ action: 'discard', reason: 'a response at a UAC carries 2 Via values' });
    expect(checkResponse(twice, { role: 'proxy' })).toBeUndefined();
  });

  it('drops at a proxy a response whose next hop is the broadcast address (RFC 4475 §3.3.10)', () => {
    const broadcast = prependHeader(removeHeader(ok, 'Via'), 'Via', 'SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1, SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK2');
    expect(checkResponse(broadcast, { role: 'proxy' })?.reason).toBe('the next Via points at the broadcast address 255.255.255.255');
  });

  it('drops a response missing a header the transaction layer matches on', () => {
    expect(checkResponse(removeHeader(ok, 'CSeq'), { role: 'uac' })?.reason).toBe('missing CSeq');
  });
});
