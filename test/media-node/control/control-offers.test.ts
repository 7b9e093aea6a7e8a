/**
 * The control API's other offer/answer shapes, each driven purely over HTTP against a real media
 * node with a werift peer as the browser and a UDP socket as the PBX: both offers at creation (the
 * PBX offered in a 200), no offer (the node offers both legs), and new offers from either party in a
 * live call (re-INVITE: ICE restart, hold in its three forms, a new PBX address, a codec change).
 */
import { describe, expect, it } from 'vitest';
import type { SessionView } from '../../../media-node/control/index.ts';
import { sequenceDelta, timestampDelta, type RtpHeaderFields } from '../../../media-node/rtp/index.ts';
import { iceParameters, listCodecs, mediaDirection, parseSdp } from '../../../shared/sdp/index.ts';
import { opusTone, pcmuTone } from '../support/call-rig.ts';
import type { ProblemBody } from '../support/control-client.ts';
import { callFromBrowser, pbxSdp } from '../support/media-node-rig.ts';
import { useMediaNode } from '../support/node-fixture.ts';
import { pace } from '../support/pacer.ts';
import { rtpAt as rtpPacketsAt } from '../support/rtp-at.ts';
import { udpPeer, waitFor, type UdpPeer } from '../support/udp.ts';
import { WeriftBrowser } from '../support/werift-browser.ts';

const { node, newId, track } = useMediaNode('offers', { SIPEDGE_MEDIA_MAX_SESSIONS: '4' });

interface Created {
  readonly id: string;
  readonly offeredBy: string;
  readonly browserAnswer?: string;
  readonly pbxAnswer?: string;
  readonly browserOffer?: string;
  readonly pbxOffer?: string;
}

type Updated = SessionView & { readonly browserAnswer?: string; readonly pbxAnswer?: string };

/** The next `count` RTP headers (RTCP skipped) that reach `pbx`. */
async function rtpAt(pbx: UdpPeer, count: number): Promise<RtpHeaderFields[]> {
  return (await rtpPacketsAt(pbx, count)).map((packet) => packet.header);
}

async function browserConnected(id: string, browser: WeriftBrowser): Promise<void> {
  await browser.connected();
  let state = '';
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const view = await node.client.request<SessionView>('GET', `/v1/sessions/${id}`);
    state = view.body.browserConnection;
    if (state === 'connected') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`session ${id}'s browser leg did not connect (${state})`);
}

/** Every step of `headers` is one sequence number and a positive whole number of 20 ms frames. */
function expectContinuous(headers: readonly RtpHeaderFields[], frameTicks: number): void {
  expect(new Set(headers.map((header) => header.ssrc)).size).toBe(1);
  for (let i = 1; i < headers.length; i++) {
    const previous = headers[i - 1] as RtpHeaderFields;
    const current = headers[i] as RtpHeaderFields;
    expect(sequenceDelta(current.sequenceNumber, previous.sequenceNumber)).toBe(1);
    const ticks = timestampDelta(current.timestamp, previous.timestamp);
    expect(ticks).toBeGreaterThan(0);
    expect(ticks % frameTicks).toBe(0);
    // No jump: at most a few seconds of silence between two packets.
    expect(ticks).toBeLessThan(frameTicks * 50 * 5);
  }
}

describe('creating a session with both offers', () => {
  it('answers both at once, relays the browser’s Opus to the PBX as PCMU, and answers a retry the same', async () => {
    const id = newId();
    const browser = await track(new WeriftBrowser(['opus']));
    const pbx = await track(udpPeer());
    const request = { id, browserOffer: await browser.offer(), pbxOffer: pbxSdp(pbx) };
    const created = await node.client.request<Created>('POST', '/v1/sessions', request);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id, offeredBy: 'both' });
    const pbxAnswer = parseSdp(created.body.pbxAnswer ?? '');
    expect(listCodecs(pbxAnswer.media[0] ?? ({} as never)).map((codec) => codec.name)).toEqual(['PCMU', 'telephone-event']);
    const again = await node.client.request<Created>('POST', '/v1/sessions', request);
    expect(again).toMatchObject({ status: 200, body: created.body });
    const answer = await node.client.request<ProblemBody>('POST', `/v1/sessions/${id}/answer`, { pbxAnswer: pbxSdp(pbx) });
    expect(answer).toMatchObject({ status: 409, body: { reason: 'wrong-answer' } });

    await browser.acceptAnswer(created.body.browserAnswer ?? '');
    await browserConnected(id, browser);
    const tone = opusTone(1000, -10, 150);
    const sender = pace(tone.length, 20, (i) => browser.writeAudio(i, 960 * i, tone[i] as Uint8Array));
    try {
      const headers = await rtpAt(pbx, 10);
      expect(headers.every((header) => header.payloadType === 0)).toBe(true);
    } finally {
      sender.stop();
    }
    const view = await node.client.request<SessionView>('GET', `/v1/sessions/${id}`);
    expect(view.body).toMatchObject({ offeredBy: 'both', state: 'relaying' });
  });
});

describe('creating a session with no offer', () => {
  it('offers both legs, takes both answers in either order, and relays both ways', async () => {
    const id = newId();
    const created = await node.client.request<Created>('POST', '/v1/sessions', { id });
    expect(created.status).toBe(201);
    expect(created.body.offeredBy).toBe('node');
    const pbxOffer = parseSdp(created.body.pbxOffer ?? '');
    expect(listCodecs(pbxOffer.media[0] ?? ({} as never)).map((codec) => codec.name)).toEqual(['PCMU', 'PCMA', 'telephone-event']);
    const browserOffer = created.body.browserOffer ?? '';
    expect(browserOffer).toMatch(/a=rtpmap:\d+ opus\/48000/);
    expect((await node.client.request<Created>('POST', '/v1/sessions', { id })).status).toBe(200);

    const pbx = await track(udpPeer());
    const browser = await track(new WeriftBrowser());
    const pbxAnswered = await node.client.request<SessionView>('POST', `/v1/sessions/${id}/answer`, { pbxAnswer: pbxSdp(pbx) });
    expect(pbxAnswered).toMatchObject({ status: 200, body: { state: 'awaiting-answers' } });
    const browserAnswered = await node.client.request<SessionView>('POST', `/v1/sessions/${id}/answer`, { browserAnswer: await browser.answer(browserOffer) });
    expect(browserAnswered).toMatchObject({ status: 200, body: { state: 'relaying' } });
    expect(browserAnswered.body.stats.codecs).toEqual({ browser: 'opus/48000', pbx: 'PCMU/8000' });
    await browserConnected(id, browser);

    const nodePort = pbxOffer.media[0]?.port ?? 0;
    const pcmu = pcmuTone(1000, -10, 150);
    const opus = opusTone(1000, -10, 150);
    const fromPbx = pace(pcmu.length, 20, (i) => {
      const packet = new Uint8Array(12 + 160);
      packet.set([0x80, 0, (i >> 8) & 0xff, i & 0xff, 0, 0, (i * 160) >> 8, (i * 160) & 0xff, 1, 2, 3, 4]);
      packet.set(pcmu[i] as Uint8Array, 12);
      void pbx.send(packet, nodePort);
    });
    const fromBrowser = pace(opus.length, 20, (i) => browser.writeAudio(i, 960 * i, opus[i] as Uint8Array));
    try {
      expect((await rtpAt(pbx, 10)).every((header) => header.payloadType === 0)).toBe(true);
      await waitFor(() => browser.received.length >= 10, 'Opus at the browser', 15_000);
    } finally {
      fromPbx.stop();
      fromBrowser.stop();
    }
  });
});

describe('a new offer from the browser', () => {
  it('restarts ICE and keeps the PBX stream continuous; a retry gets the same answer', async () => {
    const id = newId();
    const call = await track(callFromBrowser(node.client, id));
    const firstAnswer = parseSdp((call.browser.pc.remoteDescription as { sdp: string }).sdp);
    const firstUfrag = iceParameters(firstAnswer, firstAnswer.media[0] as never)?.ufrag;
    expect(firstUfrag).toBeDefined();
    const tone = opusTone(1000, -10, 400);
    const sender = pace(tone.length, 20, (i) => call.browser.writeAudio(i, 960 * i, tone[i] as Uint8Array));
    try {
      const before = await rtpAt(call.pbx, 20);
      const offer = await call.browser.reoffer({ iceRestart: true });
      const updated = await node.client.request<Updated>('PATCH', `/v1/sessions/${id}`, { browserOffer: offer });
      expect(updated.status).toBe(200);
      const answer = updated.body.browserAnswer ?? '';
      const answered = parseSdp(answer);
      expect(iceParameters(answered, answered.media[0] as never)?.ufrag).not.toBe(firstUfrag);
      const retry = await node.client.request<Updated>('PATCH', `/v1/sessions/${id}`, { browserOffer: offer });
      expect(retry.body.browserAnswer).toBe(answer);
      await call.browser.acceptAnswer(answer);
      // The browser's packets now travel on a pair checked with the new credentials only.
      const newUfrag = iceParameters(answered, answered.media[0] as never)?.ufrag;
      const ice = call.browser.pc.getTransceivers()[0]?.dtlsTransport.iceTransport;
      await waitFor(() => ice?.connection.nominated !== undefined && ice.connection.remoteUsername === newUfrag, 'a pair nominated after the restart', 10_000);
      const during: RtpHeaderFields[] = [];
      while (call.pbx.queued > 0) during.push(...(await rtpAt(call.pbx, 1)));
      const after = await rtpAt(call.pbx, 50);
      expectContinuous([...before, ...during, ...after], 160);
      expect(after.every((header) => header.payloadType === 0)).toBe(true);
    } finally {
      sender.stop();
    }
    // And toward the browser, on the new pair: the node's SRTP sends on whichever pair ICE selected.
    const pcmu = pcmuTone(1000, -10, 50);
    const already = call.browser.received.length;
    const fromPbx = pace(pcmu.length, 20, (i) => {
      const packet = new Uint8Array(12 + 160);
      packet.set([0x80, 0, (i >> 8) & 0xff, i & 0xff, 0, 0, (i * 160) >> 8, (i * 160) & 0xff, 1, 2, 3, 4]);
      packet.set(pcmu[i] as Uint8Array, 12);
      void call.pbx.send(packet, call.nodePort);
    });
    try {
      await waitFor(() => call.browser.received.length >= already + 10, 'Opus at the browser after the restart', 15_000);
    } finally {
      fromPbx.stop();
    }
    const view = await node.client.request<SessionView>('GET', `/v1/sessions/${id}`);
    expect(view.body).toMatchObject({ state: 'relaying', browserConnection: 'connected' });
    // Both ways on the node's own SRTP, before and after the restart (werift took only the first packet in).
    expect(view.body.stats.browserLeg.srtpIn).toBeGreaterThanOrEqual(view.body.stats.browserLeg.rtpIn - 1);
    expect(view.body.stats.browserLeg.srtpOut).toBe(view.body.stats.browserLeg.rtpOut);
    expect(view.body.stats.browserLeg.srtpOut).toBeGreaterThanOrEqual(10);
  });

  it('puts the PBX on hold with a=sendonly and resumes with a=sendrecv', async () => {
    const id = newId();
    const call = await track(callFromBrowser(node.client, id));
    const held = await node.client.request<Updated>('PATCH', `/v1/sessions/${id}`, { browserOffer: await call.browser.reoffer({ direction: 'sendonly' }) });
    expect(held.status).toBe(200);
    expect(held.body.stats.directions.browser).toBe('sendonly');
    const heldAnswer = parseSdp(held.body.browserAnswer ?? '');
    expect(mediaDirection(heldAnswer, heldAnswer.media[0] as never).direction).toBe('recvonly');
    await call.browser.acceptAnswer(held.body.browserAnswer ?? '');

    const resumed = await node.client.request<Updated>('PATCH', `/v1/sessions/${id}`, { browserOffer: await call.browser.reoffer({ direction: 'sendrecv' }) });
    expect(resumed.body.stats.directions.browser).toBe('sendrecv');
    await call.browser.acceptAnswer(resumed.body.browserAnswer ?? '');
    const tone = opusTone(1000, -10, 150);
    const sender = pace(tone.length, 20, (i) => call.browser.writeAudio(i, 960 * i, tone[i] as Uint8Array));
    try {
      expect((await rtpAt(call.pbx, 10)).length).toBe(10);
    } finally {
      sender.stop();
    }
  });
});

describe('a new offer from the PBX', () => {
  it('moves to a new address, holds in both forms, changes codec, and keeps the stream continuous', async () => {
    const id = newId();
    const call = await track(callFromBrowser(node.client, id));
    const tone = opusTone(1000, -10, 600);
    const sender = pace(tone.length, 20, (i) => call.browser.writeAudio(i, 960 * i, tone[i] as Uint8Array));
    try {
      const before = await rtpAt(call.pbx, 10);

      // A new address: media follows it.
      const moved = await track(udpPeer());
      const first = await node.client.request<Updated>('PATCH', `/v1/sessions/${id}`, { pbxOffer: pbxSdp(moved) });
      expect(first.status).toBe(200);
      const firstAnswer = parseSdp(first.body.pbxAnswer ?? '');
      const atNewAddress = await rtpAt(moved, 20);
      expect(atNewAddress.every((header) => header.payloadType === 0)).toBe(true);
      expectContinuous(atNewAddress, 160);
      expect(sequenceDelta((atNewAddress[0] as RtpHeaderFields).sequenceNumber, (before[9] as RtpHeaderFields).sequenceNumber)).toBeGreaterThan(0);
      const retry = await node.client.request<Updated>('PATCH', `/v1/sessions/${id}`, { pbxOffer: pbxSdp(moved) });
      expect(retry.body.pbxAnswer).toBe(first.body.pbxAnswer);

      // Hold, a=sendonly: answered recvonly, nothing sent to the PBX.
      const sendonly = pbxSdp(moved).replace('a=sendrecv', 'a=sendonly');
      const held = await node.client.request<Updated>('PATCH', `/v1/sessions/${id}`, { pbxOffer: sendonly });
      const heldAnswer = parseSdp(held.body.pbxAnswer ?? '');
      expect(mediaDirection(heldAnswer, heldAnswer.media[0] as never).direction).toBe('recvonly');
      expect(BigInt(heldAnswer.origin.sessionVersion)).toBe(BigInt(firstAnswer.origin.sessionVersion) + 1n);
      expect(heldAnswer.origin.sessionId).toBe(firstAnswer.origin.sessionId);
      expect(held.body.stats.directions.pbx).toBe('sendonly');

      // Hold, RFC 2543 form: c=0.0.0.0 keeps the latch where it is.
      const legacy = pbxSdp(moved).replace(/c=IN IP4 127\.0\.0\.1/g, 'c=IN IP4 0.0.0.0');
      const legacyHeld = await node.client.request<Updated>('PATCH', `/v1/sessions/${id}`, { pbxOffer: legacy });
      expect(legacyHeld.status).toBe(200);
      expect(legacyHeld.body.stats.directions.pbx).toBe('sendonly');

      // Resume with PCMA instead of PCMU: the same stream, now PCMA.
      const pcma = pbxSdp(moved, [
        { payloadType: 8, name: 'PCMA', clockRate: 8000 },
        { payloadType: 101, name: 'telephone-event', clockRate: 8000, fmtp: '0-16' },
      ]);
      const resumed = await node.client.request<Updated>('PATCH', `/v1/sessions/${id}`, { pbxOffer: pcma });
      expect(resumed.body.stats.codecs.pbx).toBe('PCMA/8000');
      expect(listCodecs(parseSdp(resumed.body.pbxAnswer ?? '').media[0] as never).map((codec) => codec.name)).toEqual(['PCMA', 'telephone-event']);
      const beforeResume: RtpHeaderFields[] = [];
      while (moved.queued > 0) beforeResume.push(...(await rtpAt(moved, 1)));
      const afterResume = await rtpAt(moved, 20);
      const pcmaHeaders = afterResume.filter((header) => header.payloadType === 8);
      expect(pcmaHeaders.length).toBeGreaterThan(10);
      expectContinuous([...atNewAddress, ...beforeResume, ...afterResume], 160);
    } finally {
      sender.stop();
    }
  });

  it('refuses an offer with no codec it can relay, and keeps the call', async () => {
    const id = newId();
    const call = await track(callFromBrowser(node.client, id));
    const g729 = pbxSdp(call.pbx, [{ payloadType: 18, name: 'G729', clockRate: 8000 }]);
    const refused = await node.client.request<ProblemBody>('PATCH', `/v1/sessions/${id}`, { pbxOffer: g729 });
    expect(refused).toMatchObject({ status: 422, body: { reason: 'no-common-codec' } });
    const view = await node.client.request<SessionView>('GET', `/v1/sessions/${id}`);
    expect(view.body).toMatchObject({ state: 'relaying', stats: { codecs: { pbx: 'PCMU/8000' } } });
  });
});
