import { describe, expect, it } from 'vitest';
import { OpusPcmDecoder, decodePcmu } from '../../../media-node/codec/index.ts';
import type { SessionEndReport, SessionView } from '../../../media-node/control/index.ts';
import { sequenceDelta, writeRtpHeader } from '../../../media-node/rtp/index.ts';
import { listCodecs, parseSdp } from '../../../shared/sdp/index.ts';
import { opusTone, pcmuTone } from '../support/call-rig.ts';
import type { CreatedFromBrowser, CreatedFromPbx, ProblemBody } from '../support/control-client.ts';
import { measureTone } from '../support/goertzel.ts';
import { callFromBrowser, callFromPbx, pbxSdp, type ControlledCall } from '../support/media-node-rig.ts';
import { useMediaNode } from '../support/node-fixture.ts';
import { pace } from '../support/pacer.ts';
import { rtpAt as rtpPacketsAt } from '../support/rtp-at.ts';
import { concatSamples } from '../support/tone.ts';
import { udpPeer, waitFor, type UdpPeer } from '../support/udp.ts';
import { WeriftBrowser } from '../support/werift-browser.ts';

// Ids here are plain: a test that creates a session says when it is deleted (`deleteAfter`).
const { node, plainId: newId, deleteAfter, track } = useMediaNode('call', { SIPEDGE_MEDIA_MAX_SESSIONS: '4' });

/** The next `count` RTP packets (RTCP skipped) at the PBX socket. */
async function rtpAt(pbx: UdpPeer, count: number): Promise<{ payloadType: number; payload: Uint8Array }[]> {
  return (await rtpPacketsAt(pbx, count)).map(({ header, payload }) => ({ payloadType: header.payloadType, payload }));
}

function pcmuToSamples(payloads: readonly Uint8Array[]): Int16Array {
  return concatSamples(
    payloads.map((payload) => {
      const pcm = new Int16Array(payload.length);
      decodePcmu(payload, pcm);
      return pcm;
    }),
  );
}

describe('a call set up purely through the control API', () => {
  it('carries the browser’s Opus 1 kHz tone to the PBX as PCMU, and ends with the final figures on DELETE', async () => {
    const id = newId();
    const call = await track(callFromBrowser(node.client, id));
    const tone = opusTone(1000, -10, 150);
    const sender = pace(tone.length, 20, (i) => call.browser.writeAudio(1000 + i, 48_000 + 960 * i, tone[i] as Uint8Array, i === 0));
    let received;
    try {
      received = await rtpAt(call.pbx, 60);
    } finally {
      sender.stop();
    }
    expect(received.every((packet) => packet.payloadType === 0 && packet.payload.length === 160)).toBe(true);
    const measured = measureTone(pcmuToSamples(received.slice(15).map((packet) => packet.payload)), 8000, 1000);
    expect(measured.levelDbfs).toBeGreaterThan(-16);
    expect(measured.levelDbfs).toBeLessThan(-6);
    expect(measured.purity).toBeGreaterThan(0.6);

    const view = await node.client.request<SessionView>('GET', `/v1/sessions/${id}`);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ id, offeredBy: 'browser', state: 'relaying', browserConnection: 'connected' });
    expect(view.body.stats.codecs).toEqual({ browser: 'opus/48000', pbx: 'PCMU/8000' });
    expect(view.body.stats.browserToPbx?.path).toBe('opus-to-g711');

    const deleted = await node.client.request<SessionEndReport>('DELETE', `/v1/sessions/${id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.reason).toBe('closed');
    expect(deleted.body.stats.browserToPbx?.received.packets).toBeGreaterThan(40);
    // A retried DELETE returns the same report; the session is gone but remembered.
    const again = await node.client.request<SessionEndReport>('DELETE', `/v1/sessions/${id}`);
    expect(again).toMatchObject({ status: 200, body: { sessionId: id, reason: 'closed', endedAt: deleted.body.endedAt } });
    expect((await node.client.request<SessionView>('GET', `/v1/sessions/${id}`)).body.state).toBe('ended');
    // Each direction's quality samples add up to the final figures.
    const sampled = deleted.body.samples.browserToPbx.reduce((sum, sample) => sum + sample.packets, 0);
    expect(sampled).toBe(deleted.body.stats.browserToPbx?.received.packets);
    // The edge asked for this end: it is reported as such, for the call's record (no BYE follows).
    await waitFor(() => node.edge.requests.some((request) => request.body['sessionId'] === id), 'the end report at the edge', 10_000);
    expect(node.edge.requests.filter((request) => request.body['sessionId'] === id).map((request) => request.body['requested'])).toEqual([true]);
  });

  it('carries the PBX’s PCMU 1 kHz tone to the browser as Opus for a call from the PBX', async () => {
    const id = newId();
    const call = await track(callFromPbx(node.client, id));
    deleteAfter(id);
    const tone = pcmuTone(1000, -10, 150);
    const sender = pace(tone.length, 20, (i) => {
      const packet = new Uint8Array(172);
      writeRtpHeader(packet, { payloadType: 0, sequenceNumber: 7 + i, timestamp: 160 * i, marker: i === 0, ssrc: 0x1234 });
      packet.set(tone[i] as Uint8Array, 12);
      void call.pbx.send(packet, call.nodePort);
    });
    // The browser answered the node's offer, so Opus has the node's payload type, not Chrome's 111.
    const view = await node.client.request<SessionView>('GET', `/v1/sessions/${id}`);
    expect(view.body.stats.codecs.browser).toBe('opus/48000');
    const opusType = call.browserOpusPayloadType;
    const opus = (): typeof call.browser.received => call.browser.received.filter((packet) => packet.payloadType === opusType);
    try {
      await waitFor(() => opus().length >= 60, '60 Opus packets at the browser', 15_000);
    } finally {
      sender.stop();
    }
    const packets = opus()
      .slice(0, 60)
      .sort((a, b) => sequenceDelta(a.sequenceNumber, b.sequenceNumber));
    const decoder = new OpusPcmDecoder(48000);
    const measured = measureTone(concatSamples(packets.map((packet) => decoder.decode(packet.payload)).slice(10)), 48000, 1000);
    expect(measured.levelDbfs).toBeGreaterThan(-16);
    expect(measured.purity).toBeGreaterThan(0.8);
  });
});

describe('creating a session', () => {
  it('is idempotent on the edge’s id: a retry gets the same answer, another offer under that id a 409', async () => {
    const id = newId();
    deleteAfter(id);
    const browser = await track(Promise.resolve(new WeriftBrowser(['opus'])));
    const offer = await browser.offer();
    // Two attempts at once (a retry racing the first) and one after: one session, one answer.
    const [first, racing] = await Promise.all([
      node.client.request<CreatedFromBrowser>('POST', '/v1/sessions', { id, browserOffer: offer }),
      node.client.request<CreatedFromBrowser>('POST', '/v1/sessions', { id, browserOffer: offer }),
    ]);
    const later = await node.client.request<CreatedFromBrowser>('POST', '/v1/sessions', { id, browserOffer: offer });
    expect([first.status, racing.status].sort()).toEqual([200, 201]);
    expect(later.status).toBe(200);
    expect(racing.body).toEqual(first.body);
    expect(later.body).toEqual(first.body);
    const list = await node.client.request<{ sessions: { id: string }[] }>('GET', '/v1/sessions');
    expect(list.body.sessions.filter((session) => session.id === id)).toHaveLength(1);

    const other = await new WeriftBrowser(['opus']).offer();
    const conflict = await node.client.request<ProblemBody>('POST', '/v1/sessions', { id, browserOffer: other });
    expect(conflict.status).toBe(409);
    expect(conflict.contentType).toContain('application/problem+json');
    expect(conflict.body.reason).toBe('id-in-use');
  });

  it('refuses invalid bodies naming the field, and bad SDP with a reason the edge can map to SIP', async () => {
    const missing = await node.client.request<ProblemBody & { errors: { pointer: string }[] }>('POST', '/v1/sessions', { browserOffer: 'v=0' });
    expect(missing.status).toBe(400);
    expect(missing.body.errors.map((error) => error.pointer)).toEqual(['#/id']);
    const unknown = await node.client.request<ProblemBody & { errors: { pointer: string }[] }>('POST', '/v1/sessions', { id: newId(), browserOffer: 'v=0', colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors.map((error) => error.pointer)).toContain('#/colour');
    const badId = await node.client.request<ProblemBody>('POST', '/v1/sessions', { id: 'not/an id', browserOffer: 'v=0' });
    expect(badId.status).toBe(400);
    const garbage = await node.client.request<ProblemBody>('POST', '/v1/sessions', { id: newId(), browserOffer: 'this is not SDP' });
    expect(garbage.status).toBe(400);
    expect(garbage.body.reason).toBe('bad-browser-sdp');
    const pbx = await track(udpPeer());
    const videoOnly = pbxSdp(pbx).replace('m=audio', 'm=video');
    const noAudio = await node.client.request<ProblemBody>('POST', '/v1/sessions', { id: newId(), pbxOffer: videoOnly });
    expect(noAudio.status).toBe(400);
    expect(noAudio.body.reason).toBe('bad-pbx-sdp');
    const notJson = await node.client.request<ProblemBody>('POST', '/v1/sessions', {}, { sendBody: '{' });
    // The body sent is not the body signed: refused before it is even parsed.
    expect(notJson.status).toBe(401);
  });

  it('answers 503 at capacity, so the edge picks another node', async () => {
    const ids = [newId(), newId(), newId(), newId()];
    for (const id of ids) {
      deleteAfter(id);
      const pbx = await track(udpPeer());
      expect((await node.client.request('POST', '/v1/sessions', { id, pbxOffer: pbxSdp(pbx) })).status).toBe(201);
    }
    const pbx = await track(udpPeer());
    const refused = await node.client.request<ProblemBody>('POST', '/v1/sessions', { id: newId(), pbxOffer: pbxSdp(pbx) });
    expect(refused.status).toBe(503);
    expect(refused.body.reason).toBe('at-capacity');
  });
});

describe('answers, updates and unknown sessions', () => {
  it('takes the PBX answer once, refuses a different one, and keeps the session after a bad one', async () => {
    const id = newId();
    deleteAfter(id);
    const browser = await track(Promise.resolve(new WeriftBrowser(['opus'])));
    const created = await node.client.request<CreatedFromBrowser>('POST', '/v1/sessions', { id, browserOffer: await browser.offer() });
    const pbx = await track(udpPeer());
    const answer = pbxSdp(pbx);
    const wrongKind = await node.client.request<ProblemBody>('POST', `/v1/sessions/${id}/answer`, { browserAnswer: created.body.browserAnswer });
    expect(wrongKind).toMatchObject({ status: 409, body: { reason: 'wrong-answer' } });
    const bad = await node.client.request<ProblemBody>('POST', `/v1/sessions/${id}/answer`, { pbxAnswer: 'nonsense' });
    expect(bad).toMatchObject({ status: 400, body: { reason: 'bad-pbx-sdp' } });
    const good = await node.client.request<SessionView>('POST', `/v1/sessions/${id}/answer`, { pbxAnswer: answer });
    expect(good).toMatchObject({ status: 200, body: { state: 'relaying' } });
    // A retry of the same answer (the edge did not see the first reply) is fine.
    expect((await node.client.request('POST', `/v1/sessions/${id}/answer`, { pbxAnswer: answer })).status).toBe(200);
    const other = await node.client.request<ProblemBody>('POST', `/v1/sessions/${id}/answer`, { pbxAnswer: answer.replace('PCMU', 'PCMA') });
    expect(other).toMatchObject({ status: 409, body: { reason: 'already-answered' } });
  });

  it('changes directions (hold and resume) and refuses a new offer before both legs are settled', async () => {
    const id = newId();
    deleteAfter(id);
    const pbx = await track(udpPeer());
    const created = await node.client.request<CreatedFromPbx>('POST', '/v1/sessions', { id, pbxOffer: pbxSdp(pbx) });
    expect(listCodecs(parseSdp(created.body.pbxAnswer).media[0] ?? ({} as never)).map((codec) => codec.name)).toContain('PCMU');
    const held = await node.client.request<SessionView>('PATCH', `/v1/sessions/${id}`, { directions: { pbx: 'sendonly' } });
    expect(held.status).toBe(200);
    expect(held.body.stats.directions.pbx).toBe('sendonly');
    const resumed = await node.client.request<SessionView>('PATCH', `/v1/sessions/${id}`, { directions: { pbx: 'sendrecv', browser: 'sendrecv' } });
    expect(resumed.body.stats.directions).toEqual({ browser: 'sendrecv', pbx: 'sendrecv' });
    const reoffer = await node.client.request<ProblemBody>('PATCH', `/v1/sessions/${id}`, { pbxOffer: pbxSdp(pbx) });
    expect(reoffer.status).toBe(409);
    expect(reoffer.body.reason).toBe('wrong-state');
    expect(reoffer.body.detail).toMatch(/awaiting-browser-answer/);
    const both = await node.client.request<ProblemBody>('PATCH', `/v1/sessions/${id}`, { pbxOffer: pbxSdp(pbx), directions: { pbx: 'sendrecv' } });
    expect(both).toMatchObject({ status: 400, body: { reason: 'invalid-request' } });
    const badDirection = await node.client.request('PATCH', `/v1/sessions/${id}`, { directions: { pbx: 'sideways' } });
    expect(badDirection.status).toBe(400);
  });

  it('answers 404 with a problem for every operation on an unknown session', async () => {
    const pbx = await track(udpPeer());
    const replies = await Promise.all([
      node.client.request<ProblemBody>('GET', '/v1/sessions/nobody'),
      node.client.request<ProblemBody>('DELETE', '/v1/sessions/nobody'),
      node.client.request<ProblemBody>('PATCH', '/v1/sessions/nobody', { directions: { pbx: 'inactive' } }),
      node.client.request<ProblemBody>('PATCH', '/v1/sessions/nobody', { pbxOffer: pbxSdp(pbx) }),
      node.client.request<ProblemBody>('POST', '/v1/sessions/nobody/answer', { pbxAnswer: pbxSdp(pbx) }),
      node.client.request<ProblemBody>('GET', '/v1/nothing-here'),
    ]);
    for (const reply of replies) {
      expect(reply.status).toBe(404);
      expect(reply.contentType).toContain('application/problem+json');
      expect(reply.body).toMatchObject({ status: 404, reason: 'not-found' });
    }
    expect((await node.client.request('PUT', '/v1/sessions/nobody')).status).toBe(405);
  });
});

describe('isolation', () => {
  it('keeps relaying one call while another session is refused, fails and is deleted', async () => {
    const id = newId();
    const call: ControlledCall = await track(callFromBrowser(node.client, id));
    deleteAfter(id);
    const tone = opusTone(1000, -10, 100);
    const sender = pace(tone.length, 20, (i) => call.browser.writeAudio(i, 960 * i, tone[i] as Uint8Array));
    try {
      await rtpAt(call.pbx, 5);
      // Meanwhile: garbage offers, a session torn down half-way, garbage at the call's own RTP port.
      await node.client.request('POST', '/v1/sessions', { id: newId(), browserOffer: 'garbage' });
      const pbx = await track(udpPeer());
      const doomed = newId();
      await node.client.request('POST', '/v1/sessions', { id: doomed, pbxOffer: pbxSdp(pbx) });
      await node.client.request('DELETE', `/v1/sessions/${doomed}`);
      await call.pbx.send(Uint8Array.of(0x80, 1, 2), call.nodePort);
      const after = await rtpAt(call.pbx, 20);
      expect(after.every((packet) => packet.payloadType === 0)).toBe(true);
    } finally {
      sender.stop();
    }
    const view = await node.client.request<SessionView>('GET', `/v1/sessions/${id}`);
    expect(view.body.state).toBe('relaying');
    expect(view.body.stats.errors).toBe(0);
  });
});
