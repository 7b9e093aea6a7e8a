/**
 * Reliable provisional responses (RFC 3262) with real SIP.js on both ends through the local edge:
 * the caller requires 100rel (`sipExtension100rel: Required`, issue 8's `rel100` row), the callee
 * sends its 183 reliably, SIP.js PRACKs it through the B2BUA, and only then answers.
 */
import { SessionState, SIPExtension, type Session } from 'sip.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SipJsPhone } from './support/phones.ts';
import { installFakeWebRtc, webRtcSdp } from './support/static-media.ts';
import { startTestEdge, within, type TestEdge } from './support/test-edge.ts';

installFakeWebRtc(webRtcSdp('7777'));

let edge: TestEdge;
let serial = 0;
const running: { stop(): unknown }[] = [];

beforeAll(async () => {
  edge = await startTestEdge();
}, 60_000);

afterAll(async () => {
  await edge?.stop();
});

afterEach(async () => {
  for (const phone of running.splice(0)) await phone.stop();
});

async function sipJs(name: string, rel100: SIPExtension): Promise<SipJsPhone> {
  await edge.createUser(name, `${name} password`);
  const phone = new SipJsPhone({ webSocketUrl: edge.webSocketUrl, domain: edge.domain, username: name, password: `${name} password`, sipJs: { sipExtension100rel: rel100 } });
  running.push(phone);
  await within(10_000, 'SIP.js connect', phone.start());
  phone.register();
  expect((await phone.nextOutcome()).status).toBe(200);
  return phone;
}

function reach(session: Session, state: SessionState, ms = 10_000): Promise<void> {
  if (session.state === state) return Promise.resolve();
  return within(ms, `SIP.js session ${state}`, new Promise<void>((resolve) => {
    const listener = (next: SessionState): void => {
      if (next !== state) return;
      session.stateChange.removeListener(listener);
      resolve();
    };
    session.stateChange.addListener(listener);
  }));
}

describe('100rel through the edge', () => {
  it('relays a reliable 183 from SIP.js to SIP.js and the PRACK back, then connects the call', async () => {
    serial += 1;
    const caller = await sipJs(`rel${serial}a`, SIPExtension.Required);
    const callee = await sipJs(`rel${serial}b`, SIPExtension.Supported);
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
    // The callee's reliable 183 waits for the caller's PRACK, relayed by the edge.
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
