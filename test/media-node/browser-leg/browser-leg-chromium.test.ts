/**
 * The browser leg's RTCP as a real browser reads it: headless Chromium calls a browser leg, both
 * send audio, and the page's `getStats()` shows what the node's compounds told it. The report block
 * in the node's SR about Chromium's stream gives Chromium its `remote-inbound-rtp` (loss and the
 * round trip, from LSR/DLSR), and the SR itself its `remote-outbound-rtp` (RFC 3550 §6.4.1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserLeg } from '../../../media-node/browser-leg/index.ts';
import { chromiumAvailable, launchChromium, type HeadlessChromium } from '../support/chromium.ts';
import { pace } from '../support/pacer.ts';
import { waitFor } from '../support/udp.ts';

type PageGlobals = typeof globalThis & { sipedgeLeg?: RTCPeerConnection };

/** An Opus frame of silence (RFC 6716 §3: one 20 ms CELT frame). */
const OPUS_SILENCE = Uint8Array.of(0xf8, 0xff, 0xfe);

interface RtcpStats {
  readonly remoteInbound?: { packetsLost?: number; roundTripTime?: number; roundTripTimeMeasurements?: number };
  readonly remoteOutbound?: { packetsSent?: number; reportsSent?: number };
}

describe.skipIf(!chromiumAvailable())('a browser leg’s RTCP as headless Chromium reads it', () => {
  let chromium: HeadlessChromium;
  let leg: BrowserLeg;
  let talk: { stop(): void } | undefined;

  beforeAll(async () => {
    chromium = await launchChromium();
    // The page: a 1 kHz oscillator as the microphone, no STUN servers.
    const offer = await chromium.page.evaluate(async () => {
      const context = new AudioContext({ sampleRate: 48000 });
      await context.resume();
      const oscillator = context.createOscillator();
      const microphone = context.createMediaStreamDestination();
      oscillator.connect(microphone);
      oscillator.start();
      const pc = new RTCPeerConnection({ iceServers: [] });
      const track = microphone.stream.getAudioTracks()[0];
      if (track === undefined) throw new Error('no oscillator track');
      pc.addTrack(track, microphone.stream);
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        pc.onicegatheringstatechange = () => {
          if (pc.iceGatheringState === 'complete') resolve();
        };
        setTimeout(resolve, 5000);
      });
      (globalThis as PageGlobals).sipedgeLeg = pc;
      return pc.localDescription?.sdp ?? '';
    });
    const answered = await BrowserLeg.answer(offer, {}, { onRtp: () => {} });
    leg = answered.leg;
    const state = await chromium.page.evaluate(async (answer) => {
      const pc = (globalThis as PageGlobals).sipedgeLeg;
      if (pc === undefined) throw new Error('no call in the page');
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      return new Promise<string>((resolve) => {
        const check = (): void => {
          if (pc.connectionState === 'connected' || pc.connectionState === 'failed') resolve(pc.connectionState);
        };
        pc.onconnectionstatechange = check;
        check();
        setTimeout(() => resolve(pc.connectionState), 15_000);
      });
    }, answered.answer);
    expect(state).toBe('connected');
    await waitFor(() => leg.ownSrtpSuite !== undefined, 'the node’s own SRTP to start', 10_000);
  }, 60_000);

  afterAll(async () => {
    talk?.stop();
    await leg?.close();
    await chromium?.close();
  });

  it('gives Chromium a round trip and loss for its stream, and the node’s sender figures, from the node’s SRs, and the node a round trip from Chromium’s', async () => {
    const opus = leg.codecs?.audio.payloadType ?? -1;
    talk = pace(3000, 20, (i) => {
      leg.sendRtp({ payloadType: opus, marker: i === 0, sequenceNumber: i, timestamp: 960 * i, ssrc: 1 }, OPUS_SILENCE);
    });
    // The node reports within 3.75 s, then every 2.5-7.5 s; the round trip needs a block answering
    // one of Chromium's SRs (it sends them about every 5 s).
    const stats = await chromium.page.evaluate(async () => {
      const pc = (globalThis as PageGlobals).sipedgeLeg;
      if (pc === undefined) throw new Error('no call in the page');
      const deadline = performance.now() + 40_000;
      let found: RtcpStats = {};
      while (performance.now() < deadline) {
        const report = await pc.getStats();
        const byType = (type: string): Record<string, number> | undefined => [...report.values()].find((stat) => stat.type === type);
        found = { remoteInbound: byType('remote-inbound-rtp'), remoteOutbound: byType('remote-outbound-rtp') };
        if ((found.remoteInbound?.roundTripTimeMeasurements ?? 0) > 0 && (found.remoteOutbound?.packetsSent ?? 0) > 0) return found;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return found;
    });
    expect(stats.remoteInbound?.roundTripTimeMeasurements).toBeGreaterThan(0);
    expect(stats.remoteInbound?.roundTripTime).toBeGreaterThanOrEqual(0);
    expect(stats.remoteInbound?.roundTripTime).toBeLessThan(1);
    expect(stats.remoteInbound?.packetsLost).toBe(0);
    expect(stats.remoteOutbound?.packetsSent).toBeGreaterThan(0);
    expect(stats.remoteOutbound?.packetsSent).toBeLessThanOrEqual(leg.counters.srtpOut);
    expect(stats.remoteOutbound?.reportsSent).toBeGreaterThan(0);
    // Chromium's own reports carry a block on the node's stream inside its SRs: the leg's round trip.
    await waitFor(() => leg.roundTripMs !== undefined, 'a round trip from Chromium’s report blocks on the node’s stream', 30_000);
    expect(leg.roundTripMs).toBeGreaterThanOrEqual(0);
    expect(leg.roundTripMs).toBeLessThan(1000);
  }, 90_000);
});
