/**
 * Reliable provisional responses (RFC 3262) with real SIP.js on both ends through the local edge:
 * the caller requires 100rel (`sipExtension100rel: Required`, issue 8's `rel100` row), the callee
 * sends its 183 reliably, SIP.js PRACKs it through the B2BUA, and only then answers.
 */
import { SessionState, SIPExtension } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { installFakeWebRtc, webRtcSdp } from './support/static-media.ts';
import { within } from './support/test-edge.ts';
import { useEdgePhones } from './support/edge-phones.ts';
import { reach } from './support/sessions.ts';

installFakeWebRtc(webRtcSdp('7777'));

const phones = useEdgePhones();
let serial = 0;

describe('100rel through the edge', () => {
  it('relays a reliable 183 from SIP.js to SIP.js and the PRACK back, then connects the call', async () => {
    serial += 1;
    const caller = await phones.sipJs(`rel${serial}a`, { sipExtension100rel: SIPExtension.Required });
    const callee = await phones.sipJs(`rel${serial}b`, { sipExtension100rel: SIPExtension.Supported });
    const inviter = caller.inviter(`rel${serial}b`);
    const provisional: { status: number; require: string; rseq: string }[] = [];
    await inviter.invite({
      requestDelegate: {
        onProgress: (response) => {
          provisional.push({ status: response.message.statusCode ?? 0, require: response.message.getHeader('Require') ?? '', rseq: response.message.getHeader('RSeq') ?? '' });
        },
      },
    });
    const invitation = await callee.invitations.next();
    expect(invitation.request.getHeader('Require')).toContain('100rel');
    // The callee's reliable 183 waits for the caller's PRACK, relayed by the phones.edge.
    await within(10_000, 'PRACK at the callee', invitation.progress());
    expect(provisional.find((each) => each.status === 183)?.require).toContain('100rel');
    expect(provisional.find((each) => each.status === 183)?.rseq).toMatch(/^\d+$/);
    await invitation.accept();
    await reach(inviter, SessionState.Established);
    await reach(invitation, SessionState.Established);
    await inviter.bye();
    await reach(invitation, SessionState.Terminated);
  });
});
