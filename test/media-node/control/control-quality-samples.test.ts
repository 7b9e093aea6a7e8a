import { describe, expect, it } from 'vitest';
import { SESSION_ENDED_PATH } from '../../../media-node/config/index.ts';
import type { SessionEndReport, SessionView } from '../../../media-node/control/index.ts';
import { writeRtpHeader } from '../../../media-node/rtp/index.ts';
import { pcmuTone } from '../support/call-rig.ts';
import { callFromPbx } from '../support/media-node-rig.ts';
import { useMediaNode } from '../support/node-fixture.ts';
import { pace } from '../support/pacer.ts';
import { waitFor } from '../support/udp.ts';

// Samples every 250 ms, so a few seconds of call make a series.
const { node, plainId, deleteAfter, track } = useMediaNode('quality', {}, { sampling: { intervalMs: 250 } });

describe('quality samples per direction', () => {
  it('follow a call from the PBX with one packet in ten lost, in GET and in the end report the edge gets', async () => {
    const id = plainId();
    const call = await track(callFromPbx(node.client, id));
    const tone = pcmuTone(1000, -10, 100);
    // Every tenth sequence number never leaves the PBX.
    const sender = pace(tone.length, 20, (i) => {
      if (i % 10 === 5) return;
      const packet = new Uint8Array(172);
      writeRtpHeader(packet, { payloadType: 0, sequenceNumber: 100 + i, timestamp: 160 * i, marker: i === 0, ssrc: 0x5151 });
      packet.set(tone[i] as Uint8Array, 12);
      void call.pbx.send(packet, call.nodePort);
    });
    let view: SessionView | undefined;
    try {
      await waitFor(() => call.browser.received.length >= 60, '60 packets at the browser', 15_000);
      // Two samples with media in them.
      const withMedia = async (): Promise<number> => {
        view = (await node.client.request<SessionView>('GET', `/v1/sessions/${id}`)).body;
        return view.samples.pbxToBrowser.filter((sample) => sample.packets > 0).length;
      };
      const deadline = performance.now() + 15_000;
      while ((await withMedia()) < 2 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      sender.stop();
    }
    const samples = view?.samples.pbxToBrowser ?? [];
    expect(view?.samples.intervalMs).toBe(250);
    expect(samples.filter((sample) => sample.packets > 0).length).toBeGreaterThanOrEqual(2);
    // Times go up, about an interval apart.
    for (let i = 1; i < samples.length; i++) expect((samples[i]?.t ?? 0) - (samples[i - 1]?.t ?? 0)).toBeGreaterThan(0.2);
    const lossy = samples.filter((sample) => sample.packets >= 10);
    expect(lossy.reduce((sum, sample) => sum + sample.lost, 0)).toBeGreaterThan(0);
    for (const sample of lossy) {
      expect(sample.lossPercent).toBeLessThan(30);
      expect(sample.mos).toBeGreaterThan(1);
      expect(sample.mos).toBeLessThan(4.4);
      expect(sample.jitterMs).toBeGreaterThanOrEqual(0);
    }
    // Nothing came from the browser: its direction's samples say so, without a MOS.
    expect(view?.samples.browserToPbx.every((sample) => sample.mos === null || sample.packets > 0)).toBe(true);

    deleteAfter(id);
    const deleted = await node.client.request<SessionEndReport>('DELETE', `/v1/sessions/${id}`);
    expect(deleted.body.samples.pbxToBrowser.length).toBeGreaterThanOrEqual(samples.length);
    const total = deleted.body.samples.pbxToBrowser.reduce((sum, sample) => sum + sample.packets, 0);
    expect(total).toBe(deleted.body.stats.pbxToBrowser?.received.packets);
    const report = await node.edge.waitFor(SESSION_ENDED_PATH);
    expect(report.body).toMatchObject({ sessionId: id, requested: true, samples: { intervalMs: 250 } });
    expect((report.body['samples'] as SessionEndReport['samples']).pbxToBrowser.length).toBe(deleted.body.samples.pbxToBrowser.length);
  });
});
