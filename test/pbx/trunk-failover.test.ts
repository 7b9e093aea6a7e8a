/**
 * Failover between trunks, with real parts: the edge in workerd, a media node process, two sipp
 * trunks over TCP (one refuses with 503, the other rings and answers with plain RTP/AVP PCMU), and
 * SIP.js in Node with WebRTC-like SDP as the caller. Routing has no rule, so the plan is every
 * link that can terminate, in id order: the first trunk's 503 sends the call to the second, the
 * caller sees 181 in between, gets the media node's WebRTC answer (not the trunk's RTP/AVP one),
 * and its hang-up reaches the trunk and deletes the media session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionState } from 'sip.js';
import type { SipJsPhone } from '../edge/support/phones.ts';
import { peerAvailable } from '../support/peers.ts';
import { reach, startMediaEdge, type MediaEdge } from './support/media-edge.ts';
import { eventually } from './support/net.ts';
import { startSippTrunk, type RunningSippTrunk } from './support/sipp-trunk.ts';

const available = peerAvailable('sipp');

let edge: MediaEdge;
let refusing: RunningSippTrunk;
let answering: RunningSippTrunk;
let phone: SipJsPhone;

beforeAll(async () => {
  if (!available) return;
  edge = await startMediaEdge();
  refusing = await startSippTrunk('503 Service Unavailable');
  answering = await startSippTrunk();
  for (const [id, trunk] of [['a-refusing', refusing], ['b-answering', answering]] as const) {
    const response = await edge.api('PUT', `/pbx-links/${id}`, { host: '127.0.0.1', port: trunk.port, transport: 'tcp', register: false });
    expect(response.status, await response.clone().text()).toBe(201);
  }
  phone = await edge.registeredPhone('carol', 'carol password');
}, 90_000);

afterAll(async () => {
  await phone?.stop();
  await refusing?.stop();
  await answering?.stop();
  await edge?.stop();
});

describe.skipIf(!available)('failover between trunks', () => {
  it('goes on to the second trunk after the first one\'s 503, bridges the media, and ends cleanly', async () => {
    const provisional: number[] = [];
    const inviter = phone.inviter('4930123');
    await inviter.invite({ requestDelegate: { onProgress: (response) => void provisional.push(response.message.statusCode ?? 0) } });
    await reach(inviter, SessionState.Established, 30_000);

    expect(provisional).toContain(181);
    expect(provisional).toContain(180);
    const answer = phone.media[0]?.remote[0] ?? '';
    expect(answer).toMatch(/a=fingerprint:sha-256/);
    expect(answer).toMatch(/UDP\/TLS\/RTP\/SAVPF/);
    expect(answer).not.toMatch(/RTP\/AVP 0/);
    expect(refusing.received()).toEqual([expect.stringMatching(/^INVITE sip:4930123@127\.0\.0\.1:\d+;transport=tcp SIP\/2\.0$/), expect.stringMatching(/^ACK /)]);
    const live = (await edge.node.sessions()).filter((session) => session.state !== 'ended').map((session) => session.id);
    expect(live).toEqual([expect.stringMatching(/^link\.b-answering\./)]);

    await inviter.bye();
    await reach(inviter, SessionState.Terminated, 10_000);
    await answering.finished(10_000);
    await refusing.finished(10_000);
    await eventually('the media sessions deleted', 10_000, async () => ((await edge.node.sessions()).every((session) => session.state === 'ended') ? true : undefined));
  }, 60_000);
});
