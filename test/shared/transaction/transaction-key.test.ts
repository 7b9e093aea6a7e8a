import { describe, expect, it } from 'vitest';
import {
  cancelledTransactionKey,
  clientTransactionKey,
  generateBranch,
  isRfc3261Branch,
  MAGIC_COOKIE,
  responseTransactionKey,
  serverTransactionKey,
} from '../../../shared/transaction/index.ts';
import { request, response } from '../../support/sip-messages.ts';

describe('client transaction matching (RFC 3261 §17.1.3)', () => {
  const invite = request({ branch: 'z9hG4bKnashds8' });

  it('matches a response to the request by top Via branch and CSeq method', () => {
    expect(responseTransactionKey(response(invite, 180, { toTag: 't' }))).toBe(clientTransactionKey(invite));
  });

  it('keeps the CANCEL, which shares the INVITE branch, apart from the INVITE', () => {
    const cancel = request({ method: 'CANCEL', branch: 'z9hG4bKnashds8' });
    expect(clientTransactionKey(cancel)).not.toBe(clientTransactionKey(invite));
    expect(responseTransactionKey(response(cancel, 200))).toBe(clientTransactionKey(cancel));
  });

  it('finds no transaction for a response without a branch', () => {
    const unbranched = request({ via: 'SIP/2.0/UDP 192.0.2.1:5060' , branch: '' });
    expect(responseTransactionKey(response(unbranched, 200))).toBeUndefined();
  });
});

describe('server transaction matching (RFC 3261 §17.2.3)', () => {
  const invite = request({ via: 'SIP/2.0/UDP PC33.Atlanta.example.com:5060', branch: 'z9hG4bK74bf9' });

  it('matches a retransmission by branch, sent-by and method, comparing the host case-insensitively', () => {
    const retransmission = request({ via: 'SIP/2.0/UDP pc33.atlanta.example.com:5060', branch: 'z9hG4bK74bf9' });
    expect(serverTransactionKey(retransmission)).toBe(serverTransactionKey(invite));
  });

  it('matches the ACK of a failure to the INVITE', () => {
    const ack = request({
      method: 'ACK',
      via: 'SIP/2.0/UDP PC33.Atlanta.example.com:5060',
      branch: 'z9hG4bK74bf9',
      to: '<sip:bob@pbx.example.com>;tag=edge-1',
    });
    expect(serverTransactionKey(ack)).toBe(serverTransactionKey(invite));
  });

  it('does not match the same branch from another sent-by: two clients that picked the same branch', () => {
    const other = request({ via: 'SIP/2.0/UDP 198.51.100.9:5060', branch: 'z9hG4bK74bf9' });
    expect(serverTransactionKey(other)).not.toBe(serverTransactionKey(invite));
  });

  it('gives a CANCEL its own transaction but lets it name the INVITE it cancels (RFC 3261 §9.2)', () => {
    const cancel = request({ method: 'CANCEL', via: 'SIP/2.0/UDP PC33.Atlanta.example.com:5060', branch: 'z9hG4bK74bf9' });
    expect(serverTransactionKey(cancel)).not.toBe(serverTransactionKey(invite));
    expect(cancelledTransactionKey(cancel)).toBe(serverTransactionKey(invite));
  });

  describe('for an RFC 2543 client, whose branch lacks the magic cookie', () => {
    const legacy = { via: 'SIP/2.0/UDP 10.1.1.1:5060', branch: '' };
    const old = request({ ...legacy, cseq: 1 });

    it('matches a retransmission by Request-URI, tags, Call-ID, CSeq and top Via', () => {
      expect(serverTransactionKey(request({ ...legacy, cseq: 1 }))).toBe(serverTransactionKey(old));
    });

    it('tells apart requests that differ in CSeq, Call-ID or Request-URI', () => {
      expect(serverTransactionKey(request({ ...legacy, cseq: 2 }))).not.toBe(serverTransactionKey(old));
      expect(serverTransactionKey(request({ ...legacy, cseq: 1, callId: 'other@10.1.1.1' }))).not.toBe(serverTransactionKey(old));
      expect(serverTransactionKey(request({ ...legacy, cseq: 1, uri: 'sip:carol@pbx.example.com' }))).not.toBe(serverTransactionKey(old));
    });

    it('matches the ACK, which carries the To tag of the response, to the INVITE', () => {
      const ack = request({ ...legacy, method: 'ACK', cseq: 1, to: '<sip:bob@pbx.example.com>;tag=8321234356' });
      expect(serverTransactionKey(ack)).toBe(serverTransactionKey(old));
    });

    it('treats a branch that does not begin with the cookie as no branch at all', () => {
      const pseudo = request({ via: 'SIP/2.0/UDP 10.1.1.1:5060', branch: 'abc123', cseq: 1 });
      expect(serverTransactionKey(pseudo)).toMatch(/^rfc2543 /);
    });
  });
});

describe('branch generation (RFC 3261 §8.1.1.7)', () => {
  it('starts every branch with the magic cookie', () => {
    const branch = generateBranch();
    expect(branch.startsWith(MAGIC_COOKIE)).toBe(true);
    expect(isRfc3261Branch(branch)).toBe(true);
  });

  it('never repeats a branch', () => {
    const branches = new Set(Array.from({ length: 1_000 }, () => generateBranch()));
    expect(branches.size).toBe(1_000);
  });

  it('draws its randomness from the given source', () => {
    const branch = generateBranch((bytes) => bytes.fill(0xab));
    expect(branch).toBe(`${MAGIC_COOKIE}${'ab'.repeat(12)}`);
  });

  it('recognises only cookie branches as RFC 3261 branches', () => {
    expect(isRfc3261Branch('z9hG4bK776asdhds')).toBe(true);
    expect(isRfc3261Branch('776asdhds')).toBe(false);
    expect(isRfc3261Branch(MAGIC_COOKIE)).toBe(false);
    expect(isRfc3261Branch(undefined)).toBe(false);
  });
});
