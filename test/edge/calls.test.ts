/**
 * Real SIP.js and JsSIP in Node 22 calling each other and chatting through the local edge, as
 * browser softphones configured for Kamailio or Asterisk would: the edge challenges (407), forks,
 * relays 180/200/ACK, re-INVITE, BYE and CANCEL between the two legs of its B2BUA, passes the SDP
 * through, and relays MESSAGE with non-ASCII bodies. Node has no WebRTC, so the media is fixed
 * SDP (`static-media.ts`); real browsers with real media are in test/browser/.
 */
import type { RTCSession } from 'jssip/lib/RTCSession';
import { SessionState } from 'sip.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JsSipPhone, SipJsPhone } from './support/phones.ts';
import { installFakeWebRtc, webRtcSdp } from './support/static-media.ts';
import { startTestEdge, within, type TestEdge } from './support/test-edge.ts';
import { reach } from './support/sessions.ts';

const JSSIP_SDP = webRtcSdp('7777');
const webRtc = installFakeWebRtc(JSSIP_SDP);

let edge: TestEdge;
let serial = 0;
let names: { sipjs: string; jssip: string };
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

/** A SIP.js user and a JsSIP user, both registered. */
async function twoPhones(): Promise<{ sipjs: SipJsPhone; jssip: JsSipPhone }> {
  serial += 1;
  names = { sipjs: `sipjs${serial}`, jssip: `jssip${serial}` };
  await edge.createUser(names.sipjs, 'sipjs password');
  await edge.createUser(names.jssip, 'jssip password');
  const sipjs = new SipJsPhone({ webSocketUrl: edge.webSocketUrl, domain: edge.domain, username: names.sipjs, password: 'sipjs password' });
  const jssip = new JsSipPhone({ webSocketUrl: edge.webSocketUrl, domain: edge.domain, username: names.jssip, password: 'jssip password' });
  running.push(sipjs, jssip);
  await within(10_000, 'SIP.js connect', sipjs.start());
  sipjs.register();
  jssip.start();
  expect((await sipjs.nextOutcome()).status).toBe(200);
  expect((await jssip.nextOutcome()).status).toBe(200);
  return { sipjs, jssip };
}

type JsSipEvent = 'progress' | 'confirmed' | 'ended' | 'failed' | 'reinvite';

/** The next `event` of a JsSIP session, with its payload. */
function jssipEvent(session: RTCSession, event: JsSipEvent, ms = 10_000): Promise<{ cause?: string; originator?: string }> {
  return within(ms, `JsSIP ${event}`, new Promise((resolve) => {
    session.once(event, (payload: { cause?: string; originator?: string }) => resolve(payload ?? {}));
  }));
}

describe('SIP.js calls JsSIP', () => {
  it('connects with the SDP passed through, holds and resumes, and both see JsSIP hang up', async () => {
    const { sipjs, jssip } = await twoPhones();
    const inviter = sipjs.inviter(names.jssip);
    const incoming = jssip.sessions.next();
    await inviter.invite();
    const session = await incoming;
    expect(session.remote_identity.uri.user).toBe(names.sipjs);
    expect(session.remote_identity.display_name).toBe(`${names.sipjs} (SIP.js)`);
    const confirmed = jssipEvent(session, 'confirmed');
    JsSipPhone.answer(session);
    await reach(inviter, SessionState.Established);
    await confirmed;
    // The B2BUA passes each side's SDP to the other untouched.
    expect(sipjs.media[0]?.remote[0]).toBe(JSSIP_SDP);
    expect(webRtc.made.at(-1)?.remoteDescription?.sdp).toBe(sipjs.sdp);

    // Hold: a re-INVITE with a=sendonly, relayed on JsSIP's leg.
    const reinvite = jssipEvent(session, 'reinvite');
    const held = new Promise<number>((resolve) => {
      void inviter.invite({
        sessionDescriptionHandlerOptions: { hold: true } as object,
        requestDelegate: { onAccept: (response) => resolve(response.message.statusCode ?? 0), onReject: (response) => resolve(response.message.statusCode ?? 0) },
      });
    });
    await reinvite;
    expect(await within(10_000, 'hold answered', held)).toBe(200);
    expect(webRtc.made.at(-1)?.remoteDescription?.sdp).toContain('a=sendonly');

    const resumed = new Promise<number>((resolve) => {
      // SIP.js keeps re-INVITE options from one re-INVITE to the next: resuming says so.
      void inviter.invite({
        sessionDescriptionHandlerOptions: { hold: false } as object,
        requestDelegate: { onAccept: (response) => resolve(response.message.statusCode ?? 0), onReject: (response) => resolve(response.message.statusCode ?? 0) },
      });
    });
    expect(await within(10_000, 'resume answered', resumed)).toBe(200);
    expect(webRtc.made.at(-1)?.remoteDescription?.sdp).toContain('a=sendrecv');

    const ended = jssipEvent(session, 'ended');
    session.terminate();
    await reach(inviter, SessionState.Terminated);
    expect((await ended).originator).toBe('local');
  });

  it('rings JsSIP until SIP.js cancels, and JsSIP sees the call cancelled', async () => {
    const { sipjs, jssip } = await twoPhones();
    const inviter = sipjs.inviter(names.jssip);
    const incoming = jssip.sessions.next();
    await inviter.invite();
    const session = await incoming;
    const failed = jssipEvent(session, 'failed');
    // JsSIP rang (its automatic 180): SIP.js may now CANCEL (RFC 3261 §9.1).
    await within(10_000, 'ringing seen by SIP.js', new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (inviter.state === SessionState.Establishing) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    }));
    await inviter.cancel();
    expect((await failed).cause).toBe('Canceled');
    await reach(inviter, SessionState.Terminated);
  });
});

describe('JsSIP calls SIP.js', () => {
  it('connects, and both see SIP.js hang up', async () => {
    const { sipjs, jssip } = await twoPhones();
    const session = jssip.call(names.sipjs);
    const confirmed = jssipEvent(session, 'confirmed');
    const invitation = await sipjs.invitations.next();
    expect(invitation.remoteIdentity.uri.user).toBe(names.jssip);
    await invitation.accept();
    await confirmed;
    await reach(invitation, SessionState.Established);
    expect(sipjs.media[0]?.remote[0]).toBe(JSSIP_SDP);
    const ended = jssipEvent(session, 'ended');
    await invitation.bye();
    expect((await ended).originator).toBe('remote');
    await reach(invitation, SessionState.Terminated);
  });

  it('is told busy when SIP.js declines with 486', async () => {
    const { sipjs, jssip } = await twoPhones();
    const session = jssip.call(names.sipjs);
    const failed = jssipEvent(session, 'failed');
    const invitation = await sipjs.invitations.next();
    await invitation.reject({ statusCode: 486 });
    expect((await failed).cause).toBe('Busy');
  });
});

describe('MESSAGE between SIP.js and JsSIP', () => {
  it('is delivered both ways with a non-ASCII body and answered 200', async () => {
    const { sipjs, jssip } = await twoPhones();
    const hello = 'Grüße 👋 — ça marche ? 你好';
    expect(await within(10_000, 'SIP.js MESSAGE', sipjs.message(names.jssip, hello))).toBe(200);
    const atJsSip = await jssip.messages.next();
    expect(atJsSip.body).toBe(hello);
    expect(atJsSip.from).toBe(`sip:${names.sipjs}@${edge.domain}`);

    const reply = 'Danke! ✓ Ünïcödé';
    expect(await within(10_000, 'JsSIP MESSAGE', jssip.message(names.sipjs, reply))).toBe(200);
    const atSipJs = await sipjs.messages.next();
    expect(atSipJs.body).toBe(reply);
    expect(atSipJs.contentType.toLowerCase()).toContain('text/plain');
  });

  it('is stored for a user who is offline (202) and delivered when it registers', async () => {
    const { sipjs, jssip } = await twoPhones();
    await within(10_000, 'JsSIP unregister', jssip.unregister());
    jssip.stop();
    // Nobody is registered for the JsSIP user: the message waits on the edge.
    expect(await within(10_000, 'SIP.js MESSAGE', sipjs.message(names.jssip, 'später gelesen ✉'))).toBe(202);
    const again = new JsSipPhone({ webSocketUrl: edge.webSocketUrl, domain: edge.domain, username: names.jssip, password: 'jssip password' });
    running.push(again);
    again.start();
    expect((await again.nextOutcome()).status).toBe(200);
    expect((await again.messages.next()).body).toBe('später gelesen ✉');
  });
});
