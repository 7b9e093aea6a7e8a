/**
 * Blind transfer (RFC 3515 REFER) with the real `sip.js` and `jssip` packages through the local
 * edge: the transferor's REFER reaches the transferee on its own leg, the transferee's client
 * places the new call itself (what both libraries do on receiving a REFER), and its NOTIFYs
 * (message/sipfrag) reach the transferor, who then hangs up.
 */
import { SessionState, UserAgent } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { JsSipPhone } from './support/phones.ts';
import { installFakeWebRtc, webRtcSdp } from './support/static-media.ts';
import { within } from './support/test-edge.ts';
import { useEdgePhones } from './support/edge-phones.ts';
import { jssipEvent, reach } from './support/sessions.ts';

installFakeWebRtc(webRtcSdp('7777'));

const phones = useEdgePhones();
let serial = 0;

const NO_MEDIA = { mediaConstraints: { audio: false, video: false }, pcConfig: { iceServers: [] } };

describe('blind transfer', () => {
  it('SIP.js transfers its call with JsSIP to another SIP.js user; JsSIP calls them and tells SIP.js', async () => {
    serial += 1;
    const transferor = await phones.sipJs(`xfer${serial}a`);
    const transferee = await phones.jsSip(`xfer${serial}b`);
    const target = await phones.sipJs(`xfer${serial}c`);

    const inviter = transferor.inviter(`xfer${serial}b`);
    const incoming = transferee.sessions.next();
    await inviter.invite();
    const session = await incoming;
    const confirmed = jssipEvent(session, 'confirmed');
    JsSipPhone.answer(session);
    await reach(inviter, SessionState.Established);
    await confirmed;

    // JsSIP accepts the REFER and places the new call itself.
    session.on('refer', (event) => (event.accept as (initCallback: undefined, options: object) => void)(undefined, NO_MEDIA));
    const notified: string[] = [];
    const done = within(15_000, 'final NOTIFY at SIP.js', new Promise<void>((resolve) => {
      const targetUri = UserAgent.makeURI(`sip:xfer${serial}c@${phones.edge.domain}`);
      if (targetUri === undefined) throw new Error('bad URI');
      void inviter.refer(targetUri, {
        onNotify: (notification) => {
          void notification.accept();
          notified.push(notification.request.body);
          if (/^SIP\/2\.0 [2-6]\d\d/.test(notification.request.body)) resolve();
        },
      });
    }));
    const invitation = await target.invitations.next();
    expect(invitation.remoteIdentity.uri.user).toBe(`xfer${serial}b`);
    await invitation.accept();
    await done;
    expect(notified[0]).toMatch(/^SIP\/2\.0 100 Trying/);
    expect(notified.at(-1)).toMatch(/^SIP\/2\.0 200 OK/);
    await reach(invitation, SessionState.Established);

    // The transferor leaves; the transferee and the target stay connected.
    const ended = jssipEvent(session, 'ended');
    await inviter.bye();
    expect((await ended).originator).toBe('remote');
    expect(invitation.state).toBe(SessionState.Established);
    await invitation.bye();
    await reach(invitation, SessionState.Terminated);
  });

  it('JsSIP transfers its call with SIP.js to another JsSIP user; SIP.js follows the REFER by itself', async () => {
    serial += 1;
    const transferor = await phones.jsSip(`xfer${serial}a`);
    const transferee = await phones.sipJs(`xfer${serial}b`);
    const target = await phones.jsSip(`xfer${serial}c`);

    const session = transferor.call(`xfer${serial}b`);
    const confirmed = jssipEvent(session, 'confirmed');
    const invitation = await transferee.invitations.next();
    await invitation.accept();
    await confirmed;

    const accepted = within(15_000, 'JsSIP transfer accepted', new Promise<void>((resolve, reject) => {
      session.refer(`sip:xfer${serial}c@${phones.edge.domain}`, {
        eventHandlers: {
          accepted: () => resolve(),
          failed: (event: { status_line?: { status_code?: number } }) => reject(new Error(`transfer failed: ${event.status_line?.status_code ?? '?'}`)),
          requestFailed: () => reject(new Error('REFER refused')),
        },
      });
    }));
    const transferred = await target.sessions.next();
    expect(transferred.remote_identity.uri.user).toBe(`xfer${serial}b`);
    const targetConfirmed = jssipEvent(transferred, 'confirmed');
    JsSipPhone.answer(transferred);
    await accepted;
    await targetConfirmed;

    const ended = jssipEvent(session, 'ended');
    session.terminate();
    await ended;
    await reach(invitation, SessionState.Terminated);
    const over = jssipEvent(transferred, 'ended');
    transferred.terminate();
    await over;
  });

  it('SIP.js is refused with 403 when it transfers outside the domain, and the call goes on', async () => {
    serial += 1;
    const transferor = await phones.sipJs(`xfer${serial}a`);
    const transferee = await phones.jsSip(`xfer${serial}b`);
    const inviter = transferor.inviter(`xfer${serial}b`);
    const incoming = transferee.sessions.next();
    await inviter.invite();
    const session = await incoming;
    JsSipPhone.answer(session);
    await reach(inviter, SessionState.Established);
    let referred = false;
    session.on('refer', () => {
      referred = true;
    });
    const outside = UserAgent.makeURI('sip:someone@elsewhere.example');
    if (outside === undefined) throw new Error('bad URI');
    const status = await within(10_000, 'REFER answered', new Promise<number>((resolve) => {
      void inviter.refer(outside, { requestDelegate: { onAccept: (response) => resolve(response.message.statusCode ?? 0), onReject: (response) => resolve(response.message.statusCode ?? 0) } });
    }));
    expect(status).toBe(403);
    expect(referred).toBe(false);
    expect(inviter.state).toBe(SessionState.Established);
    const ended = jssipEvent(session, 'ended');
    await inviter.bye();
    await ended;
  });
});
