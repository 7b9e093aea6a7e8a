/**
 * Client compatibility, calls: the SIP.js and JsSIP options and in-call features that change what a
 * call puts on the wire, browser to browser through the edge's B2BUA, configured as the libraries
 * document them. Asserted is what the users notice: who is calling (the display name), that the
 * call rings, connects, holds and resumes, that DTMF keys arrive, that an unanswered call stops
 * ringing, and that a client that never registers can still call. Node has no WebRTC, so the SDP is
 * fixed text and only the signalling is asserted (the edge passes SDP through byte for byte; audio
 * through real browsers is test/browser/'s). Reliable provisional responses between two SIP.js
 * clients are test/edge/prack.test.ts (JsSIP 3.13 implements no 100rel); in-dialog REFER is
 * test/edge/transfer.test.ts.
 */
import * as JsSIP from 'jssip';
import type { RTCSession } from 'jssip/lib/RTCSession';
import { Inviter, SessionState, type Invitation, type Session, type UserAgentOptions } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { Inbox } from '../edge/support/inbox.ts';
import { installFakeWebRtc, webRtcSdp } from '../edge/support/static-media.ts';
import { within } from '../edge/support/test-edge.ts';
import { JsSipClient, SipJsClient, jssipEvent, reach, type JsSipClientOptions } from './support/clients.ts';
import { useCompatEdge } from './support/compat-edge.ts';

const JSSIP_SDP = webRtcSdp('7777');
const webRtc = installFakeWebRtc(JSSIP_SDP);

const compat = useCompatEdge();

async function sipJs(prefix: string, ua: Partial<UserAgentOptions> = {}, register = true): Promise<{ name: string; client: SipJsClient }> {
  const account = await compat.user(prefix);
  const client = new SipJsClient({ edge: compat.edge, username: account.name, password: account.password, ua, register });
  compat.keep(client);
  await client.start();
  return { name: account.name, client };
}

async function jsSip(prefix: string, config: JsSipClientOptions['config'] = {}): Promise<{ name: string; client: JsSipClient }> {
  const account = await compat.user(prefix);
  const client = new JsSipClient({ edge: compat.edge, username: account.name, password: account.password, config });
  compat.keep(client);
  const outcome = await client.start();
  if (config.register !== false) expect(outcome?.status).toBe(200);
  return { name: account.name, client };
}

/** SIP.js calls a JsSIP user, who answers: both sides of the established call. */
async function sipJsCallsJsSip(caller: SipJsClient, callee: { name: string; client: JsSipClient }, sdp?: string): Promise<{ inviter: Inviter; session: RTCSession }> {
  const inviter = new Inviter(caller.ua, caller.target(callee.name), sdp === undefined ? {} : { sessionDescriptionHandlerOptions: { sdp } as object });
  const incoming = callee.client.sessions.next();
  await inviter.invite();
  const session = await incoming;
  const confirmed = jssipEvent(session, 'confirmed');
  JsSipClient.answer(session);
  await reach(inviter, SessionState.Established);
  await confirmed;
  return { inviter, session };
}

/** JsSIP calls a SIP.js user, who answers. */
async function jsSipCallsSipJs(caller: JsSipClient, callee: { name: string; client: SipJsClient }, options: object = {}): Promise<{ session: RTCSession; invitation: Invitation }> {
  const session = caller.call(callee.name, options);
  const confirmed = jssipEvent(session, 'confirmed');
  const invitation = await callee.client.invitations.next();
  await invitation.accept();
  await confirmed;
  await reach(invitation, SessionState.Established);
  return { session, invitation };
}

function reinvite(inviter: Inviter, sdp: string): Promise<number> {
  return within(10_000, 're-INVITE answered', new Promise<number>((resolve) => {
    void inviter.invite({
      sessionDescriptionHandlerOptions: { sdp } as object,
      requestDelegate: { onAccept: (response) => resolve(response.message.statusCode ?? 0), onReject: (response) => resolve(response.message.statusCode ?? 0) },
    });
  }));
}

describe('displayName / display_name with non-ASCII characters', () => {
  const name = 'Zoë Ørsted-Núñez 山田 太郎';
  it('SIP.js displayName shows in the JsSIP callee\'s From', async () => {
    const caller = await sipJs('sipjsname', { displayName: name });
    const callee = await jsSip('jssipcallee');
    const { inviter, session } = await sipJsCallsJsSip(caller.client, callee);
    expect(session.remote_identity.display_name).toBe(name);
    await inviter.bye();
  });

  it('JsSIP display_name shows in the SIP.js callee\'s From', async () => {
    const caller = await jsSip('jssipname', { display_name: name });
    const callee = await sipJs('sipjscallee');
    const { invitation } = await jsSipCallsSipJs(caller.client, callee);
    expect(invitation.remoteIdentity.displayName).toBe(name);
    await invitation.bye();
  });
});

describe('register: false (a client that only calls out)', () => {
  it('SIP.js without a Registerer: its INVITE is challenged with 407, and the JsSIP callee answers it', async () => {
    const caller = await sipJs('sipjsout', {}, false);
    const callee = await jsSip('jssipin');
    const { inviter, session } = await sipJsCallsJsSip(caller.client, callee);
    expect(caller.client.sent('REGISTER')).toHaveLength(0);
    expect(caller.client.responses('INVITE').map((each) => each.first)).toContain('407');
    expect(caller.client.sent('INVITE').at(-1)!.text).toMatch(/^Proxy-Authorization: Digest /m);
    const ended = jssipEvent(session, 'ended');
    await inviter.bye();
    await ended;
  });

  it('JsSIP register: false: the same toward a SIP.js callee', async () => {
    const caller = await jsSip('jssipout', { register: false });
    const callee = await sipJs('sipjsin');
    const { session, invitation } = await jsSipCallsSipJs(caller.client, callee);
    expect(caller.client.sent('REGISTER')).toHaveLength(0);
    expect(caller.client.responses('INVITE').map((each) => each.first)).toContain('407');
    const ended = jssipEvent(session, 'ended');
    await invitation.bye();
    await ended;
  });
});

describe('noAnswerTimeout / no_answer_timeout', () => {
  it('SIP.js noAnswerTimeout 2: the callee stops ringing with 480 and the JsSIP caller is told "Unavailable"', async () => {
    const caller = await jsSip('jssipwaits');
    const callee = await sipJs('sipjsaway', { noAnswerTimeout: 2 });
    const session = caller.client.call(callee.name);
    const failed = jssipEvent(session, 'failed', 15_000);
    const invitation = await callee.client.invitations.next();
    await reach(invitation, SessionState.Terminated, 15_000);
    const outcome = await failed;
    expect(outcome.cause).toBe('Unavailable');
    expect((outcome.message as { status_code?: number }).status_code).toBe(480);
  });

  // The B2BUA tells the caller 480 (RFC 3398's "no answer from the user") for a callee's 408.
  it('JsSIP no_answer_timeout 2: the callee stops ringing (408) and the SIP.js caller is told 480', async () => {
    const caller = await sipJs('sipjswaits');
    const callee = await jsSip('jssipaway', { no_answer_timeout: 2 });
    const rejected = new Promise<number>((resolve) => {
      void new Inviter(caller.client.ua, caller.client.target(callee.name)).invite({ requestDelegate: { onReject: (response) => resolve(response.message.statusCode ?? 0) } });
    });
    const session = await callee.client.sessions.next();
    const failed = jssipEvent(session, 'failed', 15_000);
    expect((await failed).cause).toBe('No Answer');
    expect(await within(15_000, 'caller rejected', rejected)).toBe(480);
    expect(callee.client.wire.some((each) => each.direction === 'sent' && each.first === '408')).toBe(true);
  });
});

describe('hold and resume pass through untouched (a=sendonly, a=inactive, c=0.0.0.0)', () => {
  const base = webRtcSdp('4242').replace(/^c=IN IP4 0\.0\.0\.0$/m, 'c=IN IP4 127.0.0.1');
  const version = (sdp: string, n: number) => sdp.replace(' 2 IN IP4 127.0.0.1', ` ${n} IN IP4 127.0.0.1`);
  const holds = [
    { form: 'a=sendonly', sdp: version(base.replace('a=sendrecv', 'a=sendonly'), 3) },
    { form: 'a=inactive', sdp: version(base.replace('a=sendrecv', 'a=inactive'), 3) },
    // RFC 2543 hold, still sent by some PBXs and softphones: no direction attribute, connection address 0.0.0.0.
    { form: 'c=IN IP4 0.0.0.0', sdp: version(base.replace('a=sendrecv\r\n', '').replace(/^c=IN IP4 127\.0\.0\.1$/m, 'c=IN IP4 0.0.0.0'), 3) },
  ];
  for (const hold of holds) {
    it(`SIP.js holds JsSIP with ${hold.form} and resumes`, async () => {
      const caller = await sipJs('sipjshold');
      const callee = await jsSip('jssipheld');
      const { inviter, session } = await sipJsCallsJsSip(caller.client, callee, base);
      expect(webRtc.made.at(-1)?.remoteDescription?.sdp).toBe(base);
      const held = jssipEvent(session, 'reinvite');
      expect(await reinvite(inviter, hold.sdp)).toBe(200);
      await held;
      expect(webRtc.made.at(-1)?.remoteDescription?.sdp).toBe(hold.sdp);
      expect(await reinvite(inviter, version(base, 4))).toBe(200);
      expect(webRtc.made.at(-1)?.remoteDescription?.sdp).toBe(version(base, 4));
      const ended = jssipEvent(session, 'ended');
      await inviter.bye();
      await ended;
    });

    it(`JsSIP holds SIP.js with ${hold.form} and resumes`, async () => {
      const caller = await jsSip('jssiphold');
      const callee = await sipJs('sipjsheld');
      const { session, invitation } = await jsSipCallsSipJs(caller.client, callee);
      // JsSIP's hold() offers a=sendonly; its `sdp` event is where an application rewrites an offer.
      const rewrite = (event: { originator: string; type: string; sdp: string }): void => {
        if (event.originator === 'local' && event.type === 'offer') event.sdp = hold.sdp;
      };
      session.on('sdp', rewrite);
      await within(10_000, 'JsSIP hold', new Promise<void>((resolve) => session.hold({}, () => resolve())));
      session.off('sdp', rewrite);
      // JsSIP rewrites its offer through sdp-transform (line order, direction) after the `sdp`
      // event; what SIP.js gets is what JsSIP sent, byte for byte, in the hold form asked for.
      const sent = caller.client.sent('INVITE').at(-1)!.text;
      const media = callee.client.media.at(-1)!;
      expect(media.remote.at(-1)).toBe(sent.slice(sent.indexOf('\r\n\r\n') + 4));
      expect(media.remote.at(-1)).toContain(hold.form);
      await within(10_000, 'JsSIP unhold', new Promise<void>((resolve) => session.unhold({}, () => resolve())));
      expect(media.remote.at(-1)).toMatch(/a=sendrecv/);
      const ended = jssipEvent(session, 'ended');
      await invitation.bye();
      await ended;
    });
  }
});

describe('session timers (RFC 4028) between JsSIP, which keeps them by default, and SIP.js, which has none', () => {
  // JsSIP asks for a 90 s session and refreshes after half of it, by UPDATE (its default) or by
  // re-INVITE; SIP.js 0.21 answers UPDATE with 405. The calls must outlive the 90 s: this waits 100 s.
  it('calls either way with session_timers_refresh_method UPDATE or INVITE are still up after the session interval', async () => {
    const held = async (method: 'UPDATE' | 'INVITE', jssipCalls: boolean): Promise<void> => {
      const jssip = await jsSip(`jssiptimer${method.toLowerCase()}`, { session_timers: true, session_timers_refresh_method: method });
      const sipjs = await sipJs('sipjstimer');
      let session: RTCSession;
      let sipJsSession: Session;
      if (jssipCalls) {
        const call = await jsSipCallsSipJs(jssip.client, sipjs);
        session = call.session;
        sipJsSession = call.invitation;
      } else {
        const call = await sipJsCallsJsSip(sipjs.client, jssip);
        session = call.session;
        sipJsSession = call.inviter;
      }
      let ended = false;
      session.on('ended', () => (ended = true));
      sipJsSession.stateChange.addListener((state) => {
        if (state === SessionState.Terminated) ended = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 100_000));
      expect(ended).toBe(false);
      // JsSIP refreshed, and each refresh was answered 200.
      const refreshes = jssip.client.sent(method).filter((each) => /^Session-Expires: /m.test(each.text) && each.text.includes('\r\nTo: ') && /;tag=/.test(each.text.split('\r\nTo: ')[1]?.split('\r\n')[0] ?? ''));
      expect(refreshes.length).toBeGreaterThan(0);
      for (const refresh of refreshes) expect(jssip.client.responses(method).find((each) => each.cseq === refresh.cseq && Number(each.first) >= 200)?.first).toBe('200');
      const over = jssipEvent(session, 'ended');
      session.terminate();
      await over;
      await reach(sipJsSession, SessionState.Terminated);
    };
    await Promise.all([held('UPDATE', true), held('INVITE', true), held('UPDATE', false), held('INVITE', false)]);
  }, 150_000);
});

describe('DTMF as SIP INFO (application/dtmf-relay and application/dtmf), relayed browser to browser', () => {
  it('SIP.js sends both forms to JsSIP, which sees the keys', async () => {
    const caller = await sipJs('sipjsdtmf');
    const callee = await jsSip('jssipdtmf');
    const { inviter, session } = await sipJsCallsJsSip(caller.client, callee);
    const relay = within(10_000, 'JsSIP newDTMF', new Promise<{ tone: string; duration: number }>((resolve) => {
      session.on('newDTMF', (event: { dtmf: { tone: string; duration: number } }) => resolve({ tone: event.dtmf.tone, duration: event.dtmf.duration }));
    }));
    const plain = within(10_000, 'JsSIP newInfo', new Promise<{ contentType: string; body: string }>((resolve) => {
      session.on('newInfo', (event: { originator: string; info: { contentType: string; body: string } }) => {
        if (event.originator === 'remote') resolve({ contentType: event.info.contentType, body: event.info.body });
      });
    }));
    const info = (contentType: string, content: string): Promise<number> => new Promise((resolve) => {
      void inviter.info({
        requestOptions: { body: { contentDisposition: 'render', contentType, content } },
        requestDelegate: { onAccept: (response) => resolve(response.message.statusCode ?? 0), onReject: (response) => resolve(response.message.statusCode ?? 0) },
      });
    });
    expect(await within(10_000, 'INFO dtmf-relay', info('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n'))).toBe(200);
    expect(await relay).toEqual({ tone: '5', duration: 160 });
    expect(await within(10_000, 'INFO dtmf', info('application/dtmf', '#'))).toBe(200);
    expect(await plain).toEqual({ contentType: 'application/dtmf', body: '#' });
    await inviter.bye();
  });

  it('JsSIP sends both forms to SIP.js (sendDTMF with transportType INFO, sendInfo), which sees the keys', async () => {
    const caller = await jsSip('jssipkeys');
    const callee = await sipJs('sipjskeys');
    const { session, invitation } = await jsSipCallsSipJs(caller.client, callee);
    const received = new Inbox<{ contentType: string; body: string }>('INFO at SIP.js');
    invitation.delegate = {
      onInfo: (info) => {
        void info.accept();
        received.push({ contentType: info.request.getHeader('Content-Type') ?? '', body: info.request.body });
      },
    };
    session.sendDTMF('7', { transportType: JsSIP.C.DTMF_TRANSPORT.INFO, duration: 120 });
    const relay = await received.next();
    expect(relay.contentType).toBe('application/dtmf-relay');
    expect(relay.body).toMatch(/^Signal=7\r\nDuration=120(\r\n)?$/);
    session.sendInfo('application/dtmf', '9');
    expect(await received.next()).toEqual({ contentType: 'application/dtmf', body: '9' });
    await invitation.bye();
  });
});

describe('an out-of-dialog REFER (what allowOutOfDialogRefers would follow)', () => {
  it('is refused with 403 and never reaches the SIP.js or JsSIP user it names', async () => {
    const sender = await sipJs('sipjsrefer');
    const target = await sipJs('sipjstarget');
    const other = await jsSip('jssiptarget');
    let reached = 0;
    target.client.ua.delegate = { ...target.client.ua.delegate, onReferRequest: () => (reached += 1) };
    other.client.ua.on('newRTCSession', () => (reached += 1));
    for (const name of [target.name, other.name]) {
      const request = sender.client.ua.userAgentCore.makeOutgoingRequestMessage('REFER', sender.client.target(name), sender.client.target(sender.name), sender.client.target(name), {}, [`Refer-To: <sip:${sender.name}@${compat.edge.domain}>`]);
      const status = await within(10_000, 'REFER answered', new Promise<string>((resolve) => {
        sender.client.ua.userAgentCore.request(request, { onAccept: (response) => resolve(`${response.message.statusCode} ${response.message.reasonPhrase}`), onReject: (response) => resolve(`${response.message.statusCode} ${response.message.reasonPhrase}`) });
      }));
      expect(status).toBe('403 Out-of-Dialog REFER Not Allowed');
    }
    // Both are still reachable, and nothing reached them.
    expect(await sender.client.message(target.name, 'still here?')).toBe(200);
    expect(await sender.client.message(other.name, 'still here?')).toBe(200);
    expect(reached).toBe(0);
  });
});
