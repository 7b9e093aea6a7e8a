/**
 * `workers/pbx/link-notify.ts` and `workers/presence/message-summary.ts`: which NOTIFYs from a PBX
 * are message-waiting indications, which edge user one is for, and what a summary must say.
 */
import { describe, expect, it } from 'vitest';
import { parseMessage, type SipRequest } from '../../shared/message/index.ts';
import type { PbxLinkConfig } from '../../workers/pbx/link-config.ts';
import { isUnsolicitedSummary, summaryUser } from '../../workers/pbx/link-notify.ts';
import type { StoredLink } from '../../workers/pbx/link-store.ts';
import { isMessageSummary } from '../../workers/presence/message-summary.ts';

function notify(to: string, event: string): SipRequest {
  const message = parseMessage([
    'NOTIFY sip:s@abc.invalid;transport=tcp SIP/2.0',
    'Via: SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bKn1',
    'From: <sip:asterisk@pbx.example>;tag=1',
    `To: ${to}`,
    'Call-ID: n1',
    'CSeq: 1 NOTIFY',
    `Event: ${event}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'));
  if (message.kind !== 'request') throw new Error('not a request');
  return message;
}

function link(config: Partial<PbxLinkConfig>): StoredLink {
  return {
    config: { id: 'pbx', host: 'pbx.example', port: 5060, transport: 'tcp', contact_user: 's', line: false, ...config } as PbxLinkConfig,
    identity: { contactHost: 'abc.invalid', instanceId: '00000000-0000-4000-8000-000000000001', line: 'a1b2c3d4' },
  } as StoredLink;
}

describe('unsolicited message-summary NOTIFYs from a PBX', () => {
  it('are NOTIFYs outside any dialog with Event message-summary (parameters and case aside)', () => {
    expect(isUnsolicitedSummary(notify('<sip:s@abc.invalid>', 'message-summary'))).toBe(true);
    expect(isUnsolicitedSummary(notify('<sip:s@abc.invalid>', 'Message-Summary;id=1'))).toBe(true);
    expect(isUnsolicitedSummary(notify('<sip:s@abc.invalid>;tag=x', 'message-summary'))).toBe(false);
    expect(isUnsolicitedSummary(notify('<sip:s@abc.invalid>', 'check-sync'))).toBe(false);
  });

  it('go to the endpoint for the link\'s contact or line, to a proxied user by Contact user, else to nobody', () => {
    const proxied = (user: string) => (user === '1002' ? 'bob' : undefined);
    const plain = link({ endpoint: 'alice' });
    expect(summaryUser('sip:s@abc.invalid;transport=tcp', plain, proxied)).toBe('alice');
    expect(summaryUser('sip:1002@abc.invalid;transport=tcp', plain, proxied)).toBe('bob');
    expect(summaryUser('sip:1003@abc.invalid', plain, proxied)).toBeUndefined();
    expect(summaryUser('sip:s@abc.invalid', link({}), proxied)).toBeUndefined();
    expect(summaryUser('tel:+4930123', plain, proxied)).toBeUndefined();
    const lined = link({ endpoint: 'alice', line: true });
    expect(summaryUser('sip:9999@abc.invalid;line=a1b2c3d4', lined, proxied)).toBe('alice');
    expect(summaryUser('sip:s@abc.invalid;line=00000000', lined, proxied)).toBeUndefined();
  });

  it('carry a summary only with a Messages-Waiting line (RFC 3842 §5.2)', () => {
    expect(isMessageSummary('Messages-Waiting: yes\r\nVoice-Message: 2/8 (0/2)\r\n')).toBe(true);
    expect(isMessageSummary('messages-waiting:no\r\n')).toBe(true);
    expect(isMessageSummary('Voice-Message: 2/8\r\n')).toBe(false);
    expect(isMessageSummary('Messages-Waiting: maybe\r\n')).toBe(false);
  });
});
