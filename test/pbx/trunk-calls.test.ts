/**
 * Calls between a browser user and sipp trunks, with real parts: the edge in workerd, a media node
 * process, sipp over TCP, and SIP.js in Node with WebRTC-like SDP as the user.
 *
 * - From the trunk, delayed offer: the link registers to sipp with `line` on, sipp sends an INVITE
 *   without SDP to the registered contact with the REGISTER's `line` parameter, which names the
 *   link's `endpoint` (the user); the user rings and answers, sipp gets the media node's offer in
 *   the 200 and answers in its ACK, and its BYE ends the call and the media session.
 * - From the trunk, CANCEL before answer: the user's ringing stops, sipp gets 200 and 487.
 * - From the trunk, an INVITE naming another line: 404, and the user never rings.
 * - To the trunk, CANCEL before answer: sipp rings, gets the CANCEL, answers 200 and 487, and the
 *   user's call ends with 487.
 * Every case waits for sipp to exit 0, which it does only when its scenario ran as written.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Invitation, SessionState } from 'sip.js';
import { within } from '../edge/support/test-edge.ts';
import type { SipJsPhone } from '../edge/support/phones.ts';
import { peerAvailable } from '../support/peers.ts';
import { reach, startMediaEdge, type MediaEdge } from './support/media-edge.ts';
import { eventually } from './support/net.ts';
import { startCallingTrunk, startRingingTrunk, type RunningSippTrunk, type TrunkCall } from './support/sipp-trunk.ts';

const available = peerAvailable('sipp');

let edge: MediaEdge;
let phone: SipJsPhone;
let trunk: RunningSippTrunk | undefined;
let linkId: string | undefined;
let serial = 0;

beforeAll(async () => {
  if (!available) return;
  edge = await startMediaEdge();
  phone = await edge.registeredPhone('dave', 'dave password');
}, 90_000);

afterEach(async () => {
  if (linkId !== undefined) await edge.api('DELETE', `/pbx-links/${linkId}`);
  linkId = undefined;
  await trunk?.stop();
  trunk = undefined;
});

afterAll(async () => {
  await phone?.stop();
  await edge?.stop();
});

/** A trunk link to `sipp`: registered, `line` on, its calls for dave. */
async function registeredLink(call: TrunkCall): Promise<RunningSippTrunk> {
  trunk = await startCallingTrunk(call);
  serial += 1;
  linkId = `trunk-${serial}`;
  const response = await edge.api('PUT', `/pbx-links/${linkId}`, {
    host: '127.0.0.1', port: trunk.port, transport: 'tcp', register: true, username: 'trunk', password: 'trunk secret',
    max_random_initial_delay: 0, line: true, endpoint: 'dave',
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return trunk;
}

/** The `line=` value of the Contact in the REGISTER sipp received. */
function registeredLine(sipp: RunningSippTrunk): string {
  const contact = sipp.trace().split('\n').find((each) => /^(Contact|m):/i.test(each.trim())) ?? '';
  return /;line=([0-9a-z]+)/i.exec(contact)?.[1] ?? '';
}

async function noLiveSessions(): Promise<void> {
  await eventually('no media session left', 15_000, async () => ((await edge.node.sessions()).every((session) => session.state === 'ended') ? true : undefined));
}

describe.skipIf(!available)('calls between a user and sipp trunks', () => {
  it('takes a delayed-offer INVITE from the trunk by its line: rings the user, bridges the media, ends on the trunk\'s BYE', async () => {
    const sipp = await registeredLink('delayed-offer');
    const invitation = await phone.invitations.next(20_000);
    const line = registeredLine(sipp);
    expect(line).toMatch(/^[0-9a-f]{8}$/);
    expect(sipp.trace()).toMatch(new RegExp(`INVITE sip:4930123@[0-9a-f]+\\.invalid;transport=tcp;line=${line} SIP/2\\.0`));
    // The trunk offered nothing; the user still gets an offer: the media node's WebRTC one.
    expect(invitation.request.body).toMatch(/UDP\/TLS\/RTP\/SAVPF/);

    await invitation.accept();
    await reach(invitation, SessionState.Established, 20_000);
    const live = await eventually('the media session relaying both legs', 15_000, async () => {
      const sessions = (await edge.node.sessions()).filter((session) => session.state !== 'ended');
      return sessions.length === 1 && sessions[0]!.state === 'relaying' ? sessions : undefined;
    });
    expect(live).toEqual([expect.objectContaining({ id: expect.stringMatching(/^link\.trunk-\d+\./) })]);

    // The INFO tells sipp the test has looked; it then hangs up.
    await invitation.info({ requestOptions: { body: { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: 'Signal=5\r\nDuration=160\r\n' } } });
    await reach(invitation, SessionState.Terminated, 20_000);
    await sipp.finished(20_000);
    expect(sipp.trace()).toMatch(/SIP\/2\.0 200 OK[\s\S]*Content-Type: application\/sdp[\s\S]*RTP\/AVP/);
    await noLiveSessions();
  }, 90_000);

  it('stops the user\'s ringing when the trunk cancels, with 200 to the CANCEL and 487 to the INVITE', async () => {
    const sipp = await registeredLink('cancel');
    const invitation: Invitation = await phone.invitations.next(20_000);
    let cancelled = false;
    invitation.delegate = { onCancel: () => void (cancelled = true) };
    await reach(invitation, SessionState.Terminated, 20_000);
    expect(cancelled).toBe(true);
    await sipp.finished(20_000);
    expect(sipp.trace()).toMatch(/SIP\/2\.0 487 /);
    await noLiveSessions();
  }, 90_000);

  it('refuses an INVITE naming another line with 404, and the user does not ring', async () => {
    const sipp = await registeredLink('wrong-line');
    await sipp.finished(20_000);
    expect(sipp.trace()).toMatch(/INVITE sip:s@[0-9a-f]+\.invalid;transport=tcp;line=00000000 SIP\/2\.0/);
    expect(sipp.trace()).toMatch(/SIP\/2\.0 404 /);
    await expect(phone.invitations.next(1_000)).rejects.toThrow();
    await noLiveSessions();
  }, 60_000);

  it('cancels a ringing call to the trunk: the trunk gets the CANCEL and answers 487, the user sees 487', async () => {
    trunk = await startRingingTrunk();
    serial += 1;
    linkId = `trunk-${serial}`;
    expect((await edge.api('PUT', `/pbx-links/${linkId}`, { host: '127.0.0.1', port: trunk.port, transport: 'tcp', register: false })).status).toBe(201);
    const rejected: number[] = [];
    let ringing: () => void = () => undefined;
    const rang = new Promise<void>((resolve) => (ringing = resolve));
    const inviter = phone.inviter('4930777');
    await inviter.invite({
      requestDelegate: {
        onProgress: (response) => response.message.statusCode === 180 && ringing(),
        onReject: (response) => void rejected.push(response.message.statusCode ?? 0),
      },
    });
    await within(20_000, 'the trunk\'s 180 at the user', rang);
    await inviter.cancel();
    await reach(inviter, SessionState.Terminated, 20_000);
    await trunk.finished(20_000);
    expect(trunk.received()).toEqual([expect.stringMatching(/^INVITE /), expect.stringMatching(/^CANCEL /), expect.stringMatching(/^ACK /)]);
    expect(rejected).toEqual([487]);
    await noLiveSessions();
  }, 60_000);
});
