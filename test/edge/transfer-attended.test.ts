/**
 * Attended transfer (REFER with Replaces, RFC 3891 / RFC 5589) with the real `sip.js` and `jssip`
 * packages through the local edge: the transferor talks to B, consults C, and transfers B to C.
 * The edge joins B's and C's calls itself with re-INVITEs (`workers/call/attended-transfer.ts`):
 * afterwards B and C talk to each other (in-dialog INFO crosses, C has B's SDP), the transferor's
 * two calls are over, and its NOTIFYs said 100 then 200.
 */
import type { RTCSession } from 'jssip/lib/RTCSession';
import { Inviter, SessionState, UserAgent, type Session } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { JsSipPhone, SipJsPhone } from './support/phones.ts';
import { installFakeWebRtc, webRtcSdp } from './support/static-media.ts';
import { within } from './support/test-edge.ts';
import { useEdgePhones } from './support/edge-phones.ts';
import { jssipEvent, reach } from './support/sessions.ts';

const JSSIP_SDP = webRtcSdp('5151');
installFakeWebRtc(JSSIP_SDP);

const phones = useEdgePhones();
let serial = 0;

/** The body of the next in-dialog INFO a JsSIP session receives. */
function jssipInfo(session: RTCSession): Promise<string> {
  return within(10_000, 'INFO at JsSIP', new Promise((resolve) => {
    session.once('newInfo', (event: { originator: string; info: { body: string } }) => {
      if (event.originator === 'remote') resolve(event.info.body);
    });
  }));
}

/** The body of the next in-dialog INFO a SIP.js session receives. */
function sipJsInfo(session: Session): Promise<string> {
  return within(10_000, 'INFO at SIP.js', new Promise((resolve) => {
    session.delegate = {
      ...session.delegate,
      onInfo: (info) => {
        void info.accept();
        resolve(info.request.body);
      },
    };
  }));
}

/** SIP.js sends an INFO within its session and resolves to the final status. */
function sipJsSendInfo(session: Session, body: string): Promise<number> {
  return new Promise((resolve) => {
    void session.info({
      requestOptions: { body: { contentDisposition: 'render', contentType: 'text/plain', content: body } },
      requestDelegate: { onAccept: (response) => resolve(response.message.statusCode ?? 0), onReject: (response) => resolve(response.message.statusCode ?? 0) },
    });
  });
}

/** Two established SIP.js calls from `caller`: to `first` (JsSIP) and to `second` (SIP.js). */
async function sipJsWithTwoCalls(caller: SipJsPhone, first: JsSipPhone, firstName: string, second: SipJsPhone, secondName: string) {
  const toFirst = caller.inviter(firstName);
  const incoming = first.sessions.next();
  await toFirst.invite();
  const firstSession = await incoming;
  const confirmed = jssipEvent(firstSession, 'confirmed');
  JsSipPhone.answer(firstSession);
  await reach(toFirst, SessionState.Established);
  await confirmed;
  const toSecond = caller.inviter(secondName);
  await toSecond.invite();
  const secondSession = await second.invitations.next();
  await secondSession.accept();
  await reach(toSecond, SessionState.Established);
  await reach(secondSession, SessionState.Established);
  return { toFirst, firstSession, toSecond, secondSession };
}

describe('attended transfer', () => {
  it('SIP.js transfers its JsSIP call to its consultation with SIP.js: B and C end up in one call', async () => {
    serial += 1;
    const a = await phones.sipJs(`att${serial}a`);
    const b = await phones.jsSip(`att${serial}b`);
    const c = await phones.sipJs(`att${serial}c`);
    const { toFirst, firstSession, toSecond, secondSession } = await sipJsWithTwoCalls(a, b, `att${serial}b`, c, `att${serial}c`);

    const notified: string[] = [];
    const done = within(15_000, 'final NOTIFY at SIP.js', new Promise<void>((resolve) => {
      void toFirst.refer(toSecond, {
        onNotify: (notification) => {
          void notification.accept();
          notified.push(notification.request.body);
          if (/^SIP\/2\.0 [2-6]\d\d/.test(notification.request.body)) resolve();
        },
      });
    }));
    await done;
    expect(notified[0]).toMatch(/^SIP\/2\.0 100 Trying/);
    expect(notified.at(-1)).toMatch(/^SIP\/2\.0 200 OK/);

    // The transferor's two calls are gone: the edge sent BYE on both.
    await reach(toFirst, SessionState.Terminated);
    await reach(toSecond, SessionState.Terminated);
    expect(firstSession.isEnded()).toBe(false);
    expect(secondSession.state).toBe(SessionState.Established);

    // C was re-INVITEd without an offer and got B's answer in the ACK; B got C's offer.
    const cMedia = c.media.at(-1);
    expect(cMedia?.remote.at(-1)).toBe(JSSIP_SDP);

    // In-dialog requests cross between B and C, both ways.
    const atB = jssipInfo(firstSession);
    expect(await sipJsSendInfo(secondSession, 'Signal=5\r\nDuration=160\r\n')).toBe(200);
    expect(await atB).toContain('Signal=5');
    const atC = sipJsInfo(secondSession);
    firstSession.sendInfo('text/plain', 'Signal=7\r\nDuration=160\r\n');
    expect(await atC).toContain('Signal=7');

    // B hangs up: C hears it.
    firstSession.terminate();
    await reach(secondSession, SessionState.Terminated);
  });

  it('JsSIP, called by SIP.js, transfers it to its own call with JsSIP', async () => {
    serial += 1;
    const a = await phones.jsSip(`att${serial}a`);
    const b = await phones.sipJs(`att${serial}b`);
    const c = await phones.jsSip(`att${serial}c`);

    const fromB = b.inviter(`att${serial}a`);
    const incoming = a.sessions.next();
    await fromB.invite();
    const withB = await incoming;
    const confirmedB = jssipEvent(withB, 'confirmed');
    JsSipPhone.answer(withB);
    await reach(fromB, SessionState.Established);
    await confirmedB;

    const withC = a.call(`att${serial}c`);
    const atC = await c.sessions.next();
    const confirmedC = jssipEvent(withC, 'confirmed');
    JsSipPhone.answer(atC);
    await confirmedC;

    const endedB = jssipEvent(withB, 'ended');
    const endedC = jssipEvent(withC, 'ended');
    const bMedia = b.media.at(-1);
    const offersBefore = bMedia?.remote.length ?? 0;
    await within(15_000, 'JsSIP transfer accepted', new Promise<void>((resolve, reject) => {
      withB.refer(`sip:att${serial}c@${phones.edge.domain}`, {
        replaces: withC,
        eventHandlers: {
          accepted: () => resolve(),
          failed: (event: { status_line?: { status_code?: number } }) => reject(new Error(`transfer failed: ${event.status_line?.status_code ?? '?'}`)),
          requestFailed: () => reject(new Error('REFER refused')),
        },
      } as Parameters<RTCSession['refer']>[1]);
    }));
    expect((await endedB).originator).toBe('remote');
    expect((await endedC).originator).toBe('remote');

    // B (SIP.js) now talks to C (JsSIP): B's last remote SDP is C's offer, and INFO crosses.
    expect(bMedia?.remote.length).toBe(offersBefore + 1);
    expect(bMedia?.remote.at(-1)).toBe(JSSIP_SDP);
    const infoAtC = jssipInfo(atC);
    expect(await sipJsSendInfo(fromB, 'Signal=1\r\nDuration=160\r\n')).toBe(200);
    expect(await infoAtC).toContain('Signal=1');

    const over = jssipEvent(atC, 'ended');
    await fromB.bye();
    expect((await over).originator).toBe('remote');
  });

  it('a Replaces naming a call that is over gets 481 in the NOTIFY, and the call goes on', async () => {
    serial += 1;
    const a = await phones.jsSip(`att${serial}a`);
    const b = await phones.sipJs(`att${serial}b`);
    const c = await phones.sipJs(`att${serial}c`);
    const withB = a.call(`att${serial}b`);
    const confirmedB = jssipEvent(withB, 'confirmed');
    const atB = await b.invitations.next();
    await atB.accept();
    await confirmedB;
    const withC = a.call(`att${serial}c`);
    const confirmedC = jssipEvent(withC, 'confirmed');
    const atC = await c.invitations.next();
    await atC.accept();
    await confirmedC;
    // C hangs up before A transfers: the Replaces names a dialog the edge no longer has.
    const endedC = jssipEvent(withC, 'ended');
    await atC.bye();
    await endedC;

    const status = await within(15_000, 'JsSIP transfer failed', new Promise<number>((resolve, reject) => {
      withB.refer(`sip:att${serial}c@${phones.edge.domain}`, {
        replaces: withC,
        eventHandlers: {
          accepted: () => reject(new Error('transfer accepted')),
          failed: (event: { status_line?: { status_code?: number } }) => resolve(event.status_line?.status_code ?? 0),
          requestFailed: () => reject(new Error('REFER refused')),
        },
      } as Parameters<RTCSession['refer']>[1]);
    }));
    expect(status).toBe(481);
    // The call with B goes on.
    const info = sipJsInfo(atB);
    withB.sendInfo('text/plain', 'still here');
    expect(await info).toBe('still here');
    const ended = jssipEvent(withB, 'ended');
    await atB.bye();
    await ended;
  });

  it('an INVITE with a Replaces naming no call of the user gets 481', async () => {
    serial += 1;
    const a = await phones.sipJs(`att${serial}a`);
    await phones.sipJs(`att${serial}c`);
    const target = UserAgent.makeURI(`sip:att${serial}c@${phones.edge.domain}`);
    if (target === undefined) throw new Error('bad URI');
    const inviter = new Inviter(a.ua, target, { extraHeaders: ['Replaces: no-such-call;to-tag=1;from-tag=2'] });
    const status = await within(10_000, 'INVITE answered', new Promise<number>((resolve) => {
      void inviter.invite({ requestDelegate: { onReject: (response) => resolve(response.message.statusCode ?? 0), onAccept: () => resolve(200) } });
    }));
    expect(status).toBe(481);
    await reach(inviter, SessionState.Terminated);
  });

  it('an INVITE with Replaces from a second device of the user takes the call over (RFC 3891 §3)', async () => {
    serial += 1;
    const first = await phones.sipJs(`att${serial}a`);
    const c = await phones.jsSip(`att${serial}c`);
    const second = new SipJsPhone({ webSocketUrl: phones.edge.webSocketUrl, domain: phones.edge.domain, username: `att${serial}a`, password: `att${serial}a password` });
    phones.track(second);
    await within(10_000, 'SIP.js connect', second.start());
    second.register();
    expect((await second.nextOutcome()).status).toBe(200);

    const toC = first.inviter(`att${serial}c`);
    const incoming = c.sessions.next();
    await toC.invite();
    const atC = await incoming;
    const confirmed = jssipEvent(atC, 'confirmed');
    JsSipPhone.answer(atC);
    await reach(toC, SessionState.Established);
    await confirmed;

    const dialog = toC.dialog;
    if (dialog === undefined) throw new Error('no dialog');
    const target = UserAgent.makeURI(`sip:att${serial}c@${phones.edge.domain}`);
    if (target === undefined) throw new Error('bad URI');
    const pulled = new Inviter(second.ua, target, { extraHeaders: [`Replaces: ${dialog.callId};to-tag=${dialog.remoteTag};from-tag=${dialog.localTag}`] });
    await pulled.invite();
    await reach(pulled, SessionState.Established);
    // The first device's leg is over; C's call goes on, now with the second device.
    await reach(toC, SessionState.Terminated);
    expect(atC.isEnded()).toBe(false);
    expect(second.media.at(-1)?.remote.at(-1)).toBe(JSSIP_SDP);
    const info = sipJsInfo(pulled);
    atC.sendInfo('text/plain', 'on the second device');
    expect(await info).toBe('on the second device');
    const ended = jssipEvent(atC, 'ended');
    await pulled.bye();
    expect((await ended).originator).toBe('remote');
  });
});
