import { describe, expect, it } from 'vitest';
import { DTMF_KEYS, readTelephoneEvent, sequenceDelta } from '../../../media-node/rtp/index.ts';
import type { ProblemBody } from '../support/control-client.ts';
import { opusTone } from '../support/call-rig.ts';
import { callFromBrowser, type ControlledCall } from '../support/media-node-rig.ts';
import { useMediaNode } from '../support/node-fixture.ts';
import { pace } from '../support/pacer.ts';
import { rtpAt, type ReceivedRtp } from '../support/rtp-at.ts';
import type { UdpPeer } from '../support/udp.ts';

const { node, newId, track } = useMediaNode('dtmf');

const TELEPHONE_EVENT_PT = 101;

interface Heard {
  readonly digit: string;
  readonly timestamp: number;
  readonly durationTicks: number;
  readonly marker: boolean;
  readonly packets: readonly ReceivedRtp[];
}

/** What a PBX's RFC 4733 receiver makes of the packets at `pbx`: the digits, until `count` have ended. */
async function digitsAt(pbx: UdpPeer, count: number, all: ReceivedRtp[] = []): Promise<Heard[]> {
  const events = new Map<number, ReceivedRtp[]>();
  const ended: Heard[] = [];
  while (ended.length < count) {
    const [packet] = await rtpAt(pbx, 1, { timeoutMs: 10_000 });
    if (packet === undefined) continue;
    all.push(packet);
    if (packet.header.payloadType !== TELEPHONE_EVENT_PT) continue;
    const list = events.get(packet.header.timestamp) ?? [];
    list.push(packet);
    events.set(packet.header.timestamp, list);
    const event = readTelephoneEvent(packet.payload);
    if (!event.ok) throw new Error('a runt telephone-event');
    if (event.value.end && !ended.some((heard) => heard.timestamp === packet.header.timestamp)) {
      const first = list[0] as ReceivedRtp;
      ended.push({ digit: DTMF_KEYS[event.value.event] as string, timestamp: packet.header.timestamp, durationTicks: event.value.duration, marker: first.header.marker, packets: list });
    }
  }
  return ended;
}

function talking(call: ControlledCall): { stop(): void } {
  const tone = opusTone(1000, -20, 150);
  return pace(tone.length, 20, (i) => call.browser.writeAudio(3000 + i, 96_000 + 960 * i, tone[i] as Uint8Array, i === 0));
}

describe('DTMF toward the PBX (POST /v1/sessions/:id/dtmf)', () => {
  it('sends each digit as RFC 4733 events in the PBX leg’s stream, between the browser’s audio, in order', async () => {
    const id = newId();
    const call = await track(callFromBrowser(node.client, id));
    const speech = talking(call);
    try {
      await rtpAt(call.pbx, 5);
      const one = await node.client.request<{ pending: number }>('POST', `/v1/sessions/${id}/dtmf`, { digit: '5', durationMs: 200 });
      expect(one.status).toBe(202);
      expect((await node.client.request('POST', `/v1/sessions/${id}/dtmf`, { digit: '#' })).status).toBe(202);
      const all: ReceivedRtp[] = [];
      const heard = await digitsAt(call.pbx, 2, all);
      expect(heard.map((each) => each.digit)).toEqual(['5', '#']);
      // 200 ms at the PBX's 8 kHz event clock; the default is 100 ms.
      expect(heard[0]?.durationTicks).toBe(1600);
      expect(heard[1]?.durationTicks).toBe(800);
      expect(heard.every((each) => each.marker)).toBe(true);
      // Each end is sent three times (RFC 4733 §2.5.1.4), and the two events have their own start timestamps.
      expect(heard[0]?.packets.filter((packet) => ((packet.payload[1] as number) & 0x80) !== 0)).toHaveLength(3);
      expect(heard[0]?.timestamp).not.toBe(heard[1]?.timestamp);
      // One stream: the audio and the events share the SSRC, and the sequence steps by one.
      const ssrcs = new Set(all.map((packet) => packet.header.ssrc));
      expect(ssrcs.size).toBe(1);
      for (let i = 1; i < all.length; i++) expect(sequenceDelta((all[i] as ReceivedRtp).header.sequenceNumber, (all[i - 1] as ReceivedRtp).header.sequenceNumber)).toBe(1);
      expect(all.some((packet) => packet.header.payloadType === 0)).toBe(true);
    } finally {
      speech.stop();
    }
  });

  it('refuses a digit that is none, naming the field, and an unknown session with 404', async () => {
    const id = newId();
    await track(callFromBrowser(node.client, id));
    const bad = await node.client.request<ProblemBody & { errors?: { pointer: string }[] }>('POST', `/v1/sessions/${id}/dtmf`, { digit: 'X', durationMs: 10 });
    expect(bad.status).toBe(400);
    expect(bad.body.reason).toBe('invalid-request');
    expect(bad.body.errors?.map((error) => error.pointer).sort()).toEqual(['#/digit', '#/durationMs']);
    const missing = await node.client.request<ProblemBody>('POST', '/v1/sessions/no-such-session/dtmf', { digit: '1' });
    expect(missing.status).toBe(404);
  });

  it('answers 409 no-telephone-event when the PBX answered without telephone-event', async () => {
    const id = newId();
    const call = await track(callFromBrowser(node.client, id, { pbxAnswer: [{ payloadType: 0, name: 'PCMU', clockRate: 8000 }] }));
    const refused = await node.client.request<ProblemBody>('POST', `/v1/sessions/${call.id}/dtmf`, { digit: '1' });
    expect(refused.status).toBe(409);
    expect(refused.body.reason).toBe('no-telephone-event');
  });
});
