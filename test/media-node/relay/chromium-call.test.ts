/**
 * A real browser through the media node: headless Chromium makes a WebRTC call whose microphone is
 * a WebAudio 1 kHz oscillator, the media node answers it and relays to a plain UDP socket playing a
 * G.711 PBX. Chromium's candidates are this machine's own addresses (mDNS off), the node's is
 * 127.0.0.1, so the media never leaves the machine. The audio is checked, not just the packet counts: the PBX receives PCMU that decodes to
 * the tone at about its level, and a PCMU tone from the PBX reaches the page as audio that a WebAudio
 * analyser hears at 1 kHz (Chromium's `audioLevel` stat stays 0 headless, FIELD-NOTES). Both ways the
 * packets go through the node's own SRTP contexts on the browser leg, not werift's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePcmu } from '../../../media-node/codec/index.ts';
import { PortRange } from '../../../media-node/pbx-leg/index.ts';
import { FrameTicker, MediaSession } from '../../../media-node/relay/index.ts';
import { looksLikeRtcp, readRtpHeader, writeRtpHeader } from '../../../media-node/rtp/index.ts';
import { buildRtpSdp, listCodecs, newOrigin, parseSdp, serializeSdp } from '../../../shared/sdp/index.ts';
import { PBX_PCMU, pcmuTone, type PbxRtp } from '../support/call-rig.ts';
import { chromiumAvailable, launchChromium, type HeadlessChromium } from '../support/chromium.ts';
import { measureTone } from '../support/goertzel.ts';
import { pace } from '../support/pacer.ts';
import { concatSamples } from '../support/tone.ts';
import { udpPeer, type UdpPeer } from '../support/udp.ts';

/** What the page keeps between steps. */
interface PageCall {
  pc: RTCPeerConnection;
  context: AudioContext;
  remote: Promise<MediaStream>;
}
type PageGlobals = typeof globalThis & { sipedgeCall?: PageCall };

const BASE = 52_000 + (process.pid % 500) * 4;

describe.skipIf(!chromiumAvailable())('a call from headless Chromium through the media node to a G.711 PBX', () => {
  let chromium: HeadlessChromium;
  let pbx: UdpPeer;
  let session: MediaSession;
  const ticker = new FrameTicker();

  beforeAll(async () => {
    chromium = await launchChromium();
    pbx = await udpPeer();
    // The page: a 1 kHz oscillator at -10 dBFS as the microphone, no STUN servers, a full offer.
    const offer = await chromium.page.evaluate(async () => {
      const context = new AudioContext({ sampleRate: 48000 });
      await context.resume();
      const oscillator = context.createOscillator();
      oscillator.frequency.value = 1000;
      const gain = context.createGain();
      gain.gain.value = 0.316;
      const microphone = context.createMediaStreamDestination();
      oscillator.connect(gain).connect(microphone);
      oscillator.start();
      const pc = new RTCPeerConnection({ iceServers: [] });
      const track = microphone.stream.getAudioTracks()[0];
      if (track === undefined) throw new Error('no oscillator track');
      pc.addTrack(track, microphone.stream);
      const remote = new Promise<MediaStream>((resolve) => {
        pc.ontrack = (event) => resolve(event.streams[0] ?? new MediaStream([event.track]));
      });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        pc.onicegatheringstatechange = () => {
          if (pc.iceGatheringState === 'complete') resolve();
        };
        setTimeout(resolve, 5000);
      });
      (globalThis as PageGlobals).sipedgeCall = { pc, context, remote };
      return pc.localDescription?.sdp ?? '';
    });
    const ports = new PortRange(BASE, BASE + 3);
    const created = await MediaSession.create({ browserOffer: offer, pbx: { ports, bindAddress: '127.0.0.1', address: '127.0.0.1' }, ticker });
    session = created.session;
    session.takePbxAnswer(serializeSdp(buildRtpSdp({ origin: newOrigin({ address: '127.0.0.1' }), address: '127.0.0.1', port: pbx.port, codecs: PBX_PCMU, ptime: 20 })));
    expect(listCodecs(parseSdp(created.browserAnswer).media[0] ?? ({} as never))[0]?.name).toBe('opus');
    const state = await chromium.page.evaluate(async (answer) => {
      const call = (globalThis as PageGlobals).sipedgeCall;
      if (call === undefined) throw new Error('no call in the page');
      await call.pc.setRemoteDescription({ type: 'answer', sdp: answer });
      return new Promise<string>((resolve) => {
        const check = (): void => {
          if (call.pc.connectionState === 'connected' || call.pc.connectionState === 'failed') resolve(call.pc.connectionState);
        };
        call.pc.onconnectionstatechange = check;
        check();
        setTimeout(() => resolve(call.pc.connectionState), 15_000);
      });
    }, created.browserAnswer);
    expect(state).toBe('connected');
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    await chromium?.close();
    await pbx?.close();
    ticker.stop();
  });

  it('delivers the browser’s Opus tone to the PBX as PCMU that decodes to 1 kHz at about -10 dBFS', async () => {
    const received: PbxRtp[] = [];
    const deadline = performance.now() + 15_000;
    while (received.length < 100) {
      const datagram = await pbx.next(Math.max(1, deadline - performance.now()));
      if (looksLikeRtcp(datagram.data)) continue;
      const parsed = readRtpHeader(datagram.data);
      if (!parsed.ok) continue;
      const header = parsed.value;
      received.push({ header, payload: datagram.data.slice(header.payloadOffset, header.payloadOffset + header.payloadLength) });
    }
    expect(received.every((packet) => packet.header.payloadType === 0)).toBe(true);
    const pcm = concatSamples(
      received.slice(50).map((packet) => {
        const samples = new Int16Array(packet.payload.length);
        decodePcmu(packet.payload, samples);
        return samples;
      }),
    );
    const tone = measureTone(pcm, 8000, 1000);
    expect(tone.purity).toBeGreaterThan(0.6);
    expect(tone.levelDbfs).toBeGreaterThan(-20);
    expect(tone.levelDbfs).toBeLessThan(-4);
    // The node's own SRTP decrypted Chromium's packets (werift only the first, to start its statistics).
    const leg = session.stats().browserLeg;
    expect(leg.srtpIn).toBeGreaterThanOrEqual(leg.rtpIn - 1);
    expect(leg.srtpIn).toBeGreaterThan(50);
    expect(leg.srtpRefused).toBe(0);
  }, 30_000);

  it('plays the PBX’s PCMU tone in the page, where a WebAudio analyser hears 1 kHz', async () => {
    const nodePort = session.pbxRtpPort;
    const tone = pcmuTone(1000, -10, 250);
    const talk = pace(tone.length, 20, (i) => {
      const packet = new Uint8Array(172);
      writeRtpHeader(packet, { payloadType: 0, marker: i === 0, sequenceNumber: i, timestamp: 160 * i, ssrc: 0x5eed });
      packet.set(tone[i] as Uint8Array, 12);
      void pbx.send(packet, nodePort);
    });
    let heard: { samples: number[]; sampleRate: number };
    try {
      heard = await chromium.page.evaluate(async () => {
        const call = (globalThis as PageGlobals).sipedgeCall;
        if (call === undefined) throw new Error('no call in the page');
        const stream = await call.remote;
        // Chromium renders a remote WebRTC stream into WebAudio only while a media element plays it.
        const element = new Audio();
        element.muted = true;
        element.srcObject = stream;
        await element.play().catch(() => undefined);
        const analyser = call.context.createAnalyser();
        analyser.fftSize = 8192;
        call.context.createMediaStreamSource(stream).connect(analyser);
        await new Promise((resolve) => setTimeout(resolve, 2000));
        const samples = new Float32Array(analyser.fftSize);
        analyser.getFloatTimeDomainData(samples);
        return { samples: Array.from(samples), sampleRate: call.context.sampleRate };
      });
    } finally {
      talk.stop();
    }
    // 100 whole cycles of 1 kHz at 48 kHz, so the Goertzel bin is exact.
    const block = heard.samples.slice(0, (heard.sampleRate / 1000) * 100).map((sample) => sample * 32767);
    const measured = measureTone(block, heard.sampleRate, 1000);
    expect(measured.purity).toBeGreaterThan(0.6);
    expect(measured.levelDbfs).toBeGreaterThan(-20);
    expect(measured.levelDbfs).toBeLessThan(-4);
    expect(session.stats().pbxToBrowser?.forwarded).toBeGreaterThan(50);
    // Protected by the node's own SRTP, every packet.
    const leg = session.stats().browserLeg;
    expect(leg.srtpOut).toBe(leg.rtpOut);
    expect(leg.srtpOut).toBeGreaterThan(50);
  }, 30_000);
});
