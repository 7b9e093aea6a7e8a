/**
 * A PBX that demands what browsers do not offer, with real parts: the edge in workerd, a media node
 * process, sipp as the PBX over TCP, and SIP.js in Node (with 100rel supported) as the caller. The
 * PBX refuses the first INVITE with 422 and `Min-SE: 1800`, rings with a reliable 183 carrying its
 * SDP, answers once PRACKed, and puts the call on hold the old way (`c=0.0.0.0`, with
 * `a=sendonly`), which the node takes without the browser being asked or the call dropping; the
 * caller's DTMF INFO then goes to the PBX as RFC 4733 from the node (the PBX's SDP has
 * telephone-event), so the PBX never sees an INFO.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionState, SIPExtension } from 'sip.js';
import { within } from '../edge/support/test-edge.ts';
import type { SipJsPhone } from '../edge/support/phones.ts';
import { peerAvailable } from '../support/peers.ts';
import { reach, startMediaEdge, type MediaEdge } from './support/media-edge.ts';
import { eventually } from './support/net.ts';
import { startDemandingTrunk, type RunningSippTrunk } from './support/sipp-trunk.ts';

const available = peerAvailable('sipp');

let edge: MediaEdge;
let trunk: RunningSippTrunk;
let phone: SipJsPhone;

beforeAll(async () => {
  if (!available) return;
  edge = await startMediaEdge();
  trunk = await startDemandingTrunk();
  const response = await edge.api('PUT', '/pbx-links/demanding', { host: '127.0.0.1', port: trunk.port, transport: 'tcp', register: false });
  expect(response.status, await response.clone().text()).toBe(201);
  phone = await edge.registeredPhone('dora', 'dora password', { sipExtension100rel: SIPExtension.Supported });
}, 90_000);

afterAll(async () => {
  await phone?.stop();
  await trunk?.stop();
  await edge?.stop();
});

describe.skipIf(!available)('a PBX that demands Min-SE 1800 and 100rel', () => {
  it('connects after the 422 and the PRACKed 183, stays up through the PBX’s hold, and the caller’s DTMF INFO reaches the PBX in-band', async () => {
    const provisional: { status: number; rseq: string | undefined }[] = [];
    const inviter = phone.inviter('4930999');
    await inviter.invite({ requestDelegate: { onProgress: (response) => void provisional.push({ status: response.message.statusCode ?? 0, rseq: response.message.getHeader('RSeq') }) } });
    await reach(inviter, SessionState.Established, 30_000);

    // The 422 never reached the caller; the INVITE went again with the PBX's interval.
    expect(trunk.received().filter((line) => line.startsWith('INVITE '))).toHaveLength(2);
    const invites = trunk.trace().split(/\n(?=INVITE sip:)/).slice(1);
    expect(invites[1]).toMatch(/^Session-Expires:\s*1800/m);
    expect(invites[1]).toMatch(/^Min-SE:\s*1800/m);
    // The reliable 183 reached the caller with its RSeq, and the caller's PRACK reached the PBX.
    expect(provisional).toContainEqual({ status: 183, rseq: '1' });
    expect(trunk.received().some((line) => line.startsWith('PRACK '))).toBe(true);
    const answer = phone.media[0]?.remote.at(-1) ?? '';
    expect(answer).toMatch(/UDP\/TLS\/RTP\/SAVPF/);

    // The PBX puts the call on hold (c=0.0.0.0, a=sendonly): the node takes it for the PBX's leg, the
    // browser is not asked, and the call stays up.
    const [session] = (await edge.node.sessions()).filter((each) => each.state !== 'ended');
    expect(session?.id).toMatch(/^link\.demanding\./);
    await eventually('the PBX leg held at the node', 10_000, async () => ((await edge.node.view(session!.id)).stats.directions?.pbx === 'sendonly' ? true : undefined));
    expect(phone.media[0]?.remote.filter((sdp) => /a=(sendonly|recvonly|inactive)/.test(sdp))).toEqual([]);
    expect(inviter.state).toBe(SessionState.Established);

    const infoStatus = await within(10_000, 'the INFO answered', new Promise<number>((resolve) => {
      void inviter.info({
        requestOptions: { body: { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: 'Signal=5\r\nDuration=160\r\n' } },
        requestDelegate: { onAccept: (response) => resolve(response.message.statusCode ?? 0), onReject: (response) => resolve(response.message.statusCode ?? 0) },
      });
    }));
    expect(infoStatus).toBe(200);
    await eventually('the key sent toward the PBX as RFC 4733 events', 10_000, async () => {
      const view = await edge.node.view(session!.id);
      return (view.stats.browserToPbx?.telephoneEvents ?? 0) >= 4 ? true : undefined;
    });

    await inviter.bye();
    await reach(inviter, SessionState.Terminated, 10_000);
    // The scenario expects the BYE right after the ACK: an INFO reaching the PBX would have failed it.
    await trunk.finished(10_000);
    expect(trunk.received().some((line) => line.startsWith('INFO '))).toBe(false);
  }, 60_000);
});
