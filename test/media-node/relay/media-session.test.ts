import { afterEach, describe, expect, it } from 'vitest';
import { OpusPcmDecoder, decodePcmu } from '../../../media-node/codec/index.ts';
import { MediaSessionError } from '../../../media-node/relay/index.ts';
import { readTelephoneEvent, sequenceDelta, timestampDelta } from '../../../media-node/rtp/index.ts';
import { listCodecs, parseSdp } from '../../../shared/sdp/index.ts';
import { PBX_PCMU, opusTone, pcmuTone, startCall, startPbxCall, type CallRig } from '../support/call-rig.ts';
import { measureTone } from '../support/goertzel.ts';
import { pace } from '../support/pacer.ts';
import { concatSamples } from '../support/tone.ts';
import { waitFor } from '../support/udp.ts';
import { CHROME_AUDIO, type ReceivedRtp } from '../support/werift-browser.ts';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function call(options: Parameters<typeof startCall>[0] = {}): Promise<CallRig> {
  const rig = await startCall(options);
  cleanup.push(() => rig.close());
  return rig;
}

function decodePcmuPayloads(payloads: readonly Uint8Array[]): Int16Array {
  return concatSamples(
    payloads.map((payload) => {
      const pcm = new Int16Array(payload.length);
      decodePcmu(payload, pcm);
      return pcm;
    }),
  );
}

function audioAtBrowser(rig: CallRig, payloadType: number): ReceivedRtp[] {
  return rig.browser.received.filter((packet) => packet.payloadType === payloadType);
}

describe('a media session between a browser (werift, Opus) and a PBX (plain RTP, PCMU)', () => {
  it('offers the browser Opus at its own payload type and the PBX what can be relayed, then transcodes', async () => {
    const rig = await call();
    const browserCodecs = listCodecs(parseSdp(rig.browserAnswer).media[0] ?? ({} as never)).map((codec) => `${codec.payloadType} ${codec.name}`);
    expect(browserCodecs).toEqual(['111 opus', '110 telephone-event']);
    const pbxOffer = parseSdp(rig.pbxOffer);
    expect(pbxOffer.media[0]?.protocol).toBe('RTP/AVP');
    expect(pbxOffer.connection?.ip).toBe('127.0.0.1');
    expect(listCodecs(pbxOffer.media[0] ?? ({} as never)).map((codec) => `${codec.payloadType} ${codec.name}`)).toEqual([
      '0 PCMU',
      '8 PCMA',
      '101 telephone-event',
    ]);
    expect(rig.session.state).toBe('relaying');
    const stats = rig.session.stats();
    expect(stats.codecs).toEqual({ browser: 'opus/48000', pbx: 'PCMU/8000' });
    expect([stats.browserToPbx?.path, stats.pbxToBrowser?.path]).toEqual(['opus-to-g711', 'g711-to-opus']);
  });

  it('turns the browser’s Opus 1 kHz tone into PCMU that decodes to a 1 kHz tone at about the sent level', async () => {
    const rig = await call();
    const tone = opusTone(1000, -10, 150);
    const sender = pace(tone.length, 20, (i) => rig.browser.writeAudio(4000 + i, 96_000 + 960 * i, tone[i] as Uint8Array, i === 0));
    let received;
    try {
      received = await rig.pbxReceives(60, 15_000);
    } finally {
      sender.stop();
    }
    expect(received.every((packet) => packet.header.payloadType === 0 && packet.payload.length === 160)).toBe(true);
    // One continuous outgoing stream: one SSRC, sequence numbers step by one, timestamps by frames of 160.
    expect(new Set(received.map((packet) => packet.header.ssrc)).size).toBe(1);
    for (let i = 1; i < received.length; i++) {
      const previous = (received[i - 1] as (typeof received)[number]).header;
      const current = (received[i] as (typeof received)[number]).header;
      expect(sequenceDelta(current.sequenceNumber, previous.sequenceNumber)).toBe(1);
      expect(timestampDelta(current.timestamp, previous.timestamp) % 160).toBe(0);
    }
    const measured = measureTone(decodePcmuPayloads(received.slice(15).map((packet) => packet.payload)), 8000, 1000);
    expect(measured.levelDbfs).toBeGreaterThan(-16);
    expect(measured.levelDbfs).toBeLessThan(-6);
    expect(measured.purity).toBeGreaterThan(0.6);
    const stats = rig.session.stats().browserToPbx;
    expect(stats?.jitterBuffer?.played).toBeGreaterThan(0);
    expect(stats?.received.packets).toBeGreaterThan(40);
    expect(stats?.received.mos).toBeGreaterThan(3.5);
  });

  it('gives each direction’s quality its own leg’s round trip: the browser’s from its report blocks on the node’s SRs', async () => {
    const rig = await call();
    const opus = opusTone(1000, -10, 50);
    const pcmu = pcmuTone(1000, -10, 50);
    // Both ways, so each side sends SRs and the other answers them (RFC 3550 §6.4.1).
    const talking = pace(2000, 20, (i) => {
      rig.browser.writeAudio(i, 960 * i, opus[i % 50] as Uint8Array, i === 0);
      void rig.sendFromPbx({ payloadType: 0, sequenceNumber: i, timestamp: 160 * i, marker: i === 0 }, pcmu[i % 50] as Uint8Array);
    });
    try {
      await waitFor(() => rig.session.stats().browserToPbx?.received.roundTripMs !== undefined, 'a round trip on the browser’s direction', 30_000);
    } finally {
      talking.stop();
    }
    const roundTrip = rig.session.stats().browserToPbx?.received.roundTripMs;
    expect(roundTrip).toBeGreaterThanOrEqual(0);
    expect(roundTrip).toBeLessThan(1000);
  }, 60_000);

  it('turns the PBX’s PCMU 1 kHz tone into Opus at the browser’s payload type that decodes to a 1 kHz tone', async () => {
    const rig = await call();
    const tone = pcmuTone(1000, -10, 150);
    const sender = pace(tone.length, 20, (i) => void rig.sendFromPbx({ payloadType: 0, sequenceNumber: 100 + i, timestamp: 160 * i, marker: i === 0 }, tone[i] as Uint8Array));
    try {
      await waitFor(() => audioAtBrowser(rig, CHROME_AUDIO.opus).length >= 60, '60 Opus packets at the browser', 15_000);
    } finally {
      sender.stop();
    }
    const packets = audioAtBrowser(rig, CHROME_AUDIO.opus)
      .slice(0, 60)
      .sort((a, b) => sequenceDelta(a.sequenceNumber, b.sequenceNumber));
    for (let i = 1; i < packets.length; i++) {
      expect(timestampDelta((packets[i] as ReceivedRtp).timestamp, (packets[i - 1] as ReceivedRtp).timestamp)).toBe(960 * sequenceDelta((packets[i] as ReceivedRtp).sequenceNumber, (packets[i - 1] as ReceivedRtp).sequenceNumber));
    }
    const decoder = new OpusPcmDecoder(48000);
    const pcm = concatSamples(packets.map((packet) => decoder.decode(packet.payload)).slice(10));
    const measured = measureTone(pcm, 48000, 1000);
    expect(measured.levelDbfs).toBeGreaterThan(-16);
    expect(measured.levelDbfs).toBeLessThan(-6);
    expect(measured.purity).toBeGreaterThan(0.8);
    expect(rig.session.stats().pbxToBrowser?.transcoder).toMatchObject({ payloads: expect.any(Number), encoded: expect.any(Number) });
  });

  it('relays RFC 4733 DTMF both ways with the payload types remapped and durations rescaled between 48 and 8 kHz', async () => {
    const rig = await call();
    // Browser to PBX: digit 5, 100 ms so far (4,800 units at 48 kHz), then its end.
    rig.browser.writeWithPayloadType(CHROME_AUDIO.telephoneEvent48k, 500, 480_000, Uint8Array.of(5, 10, 0x12, 0xc0), true);
    rig.browser.writeWithPayloadType(CHROME_AUDIO.telephoneEvent48k, 501, 480_000, Uint8Array.of(5, 0x80 | 10, 0x12, 0xc0));
    const atPbx = await rig.pbxReceives(2);
    expect(atPbx.map((packet) => packet.header.payloadType)).toEqual([101, 101]);
    expect(atPbx[0]?.header.marker).toBe(true);
    expect(atPbx[0]?.header.timestamp).toBe(atPbx[1]?.header.timestamp);
    const events = atPbx.map((packet) => readTelephoneEvent(packet.payload));
    expect(events.map((event) => (event.ok ? event.value : undefined))).toEqual([
      { event: 5, end: false, volume: 10, duration: 800 },
      { event: 5, end: true, volume: 10, duration: 800 },
    ]);

    // PBX to browser: digit #, 160 units at 8 kHz, becomes 960 at 48 kHz on payload type 110.
    await rig.sendFromPbx({ payloadType: 101, sequenceNumber: 9, timestamp: 8000, marker: true }, Uint8Array.of(11, 0x80 | 10, 0, 160));
    await waitFor(() => audioAtBrowser(rig, CHROME_AUDIO.telephoneEvent48k).length === 1, 'the event at the browser', 5000);
    const atBrowser = audioAtBrowser(rig, CHROME_AUDIO.telephoneEvent48k)[0] as ReceivedRtp;
    expect(Array.from(atBrowser.payload)).toEqual([11, 0x80 | 10, 0x03, 0xc0]);
    const stats = rig.session.stats();
    expect(stats.browserToPbx?.telephoneEvents).toBe(2);
    expect(stats.pbxToBrowser?.telephoneEvents).toBe(1);
  });

  it('counts and ignores garbage, runts and stray sources on the PBX side, and carries on relaying', async () => {
    const rig = await call();
    for (const garbage of [Uint8Array.of(1, 2, 3), new Uint8Array(60).fill(0x41), new Uint8Array(3000).fill(0x80), new Uint8Array(0)]) {
      await rig.pbx.send(garbage, rig.nodePort);
    }
    const tone = pcmuTone(1000, -10, 20);
    for (let i = 0; i < tone.length; i++) await rig.sendFromPbx({ payloadType: 0, sequenceNumber: i, timestamp: 160 * i }, tone[i] as Uint8Array);
    await waitFor(() => audioAtBrowser(rig, CHROME_AUDIO.opus).length >= 10, 'audio at the browser after the garbage', 10_000);
    const stats = rig.session.stats();
    const dropped = stats.pbxLeg.dropped;
    expect(dropped.oversized + dropped['malformed-rtp'] + dropped['unexpected-payload-type']).toBe(4);
    expect(stats.errors).toBe(0);
    expect(stats.pbxLeg.handlerErrors).toBe(0);
  });
});

describe('a media session whose legs share the codec', () => {
  it('passes PCMU through untouched both ways, rewriting only the headers', async () => {
    const rig = await call({
      browserCodecs: [
        { name: 'PCMU', clockRate: 8000 },
        { name: 'telephone-event', clockRate: 8000 },
      ],
    });
    const stats = rig.session.stats();
    expect([stats.browserToPbx?.path, stats.pbxToBrowser?.path]).toEqual(['pass-through', 'pass-through']);
    const payloads = Array.from({ length: 5 }, (_, i) => Uint8Array.from({ length: 160 }, (_, j) => (i * 31 + j * 7) & 0xff));
    payloads.forEach((payload, i) => rig.browser.writeAudio(700 + i, 16_000 + 160 * i, payload, i === 0));
    const atPbx = await rig.pbxReceives(5);
    expect(atPbx.map((packet) => Array.from(packet.payload))).toEqual(payloads.map((payload) => Array.from(payload)));
    expect(atPbx.map((packet) => packet.header.payloadType)).toEqual([0, 0, 0, 0, 0]);
    expect(atPbx.map((packet) => sequenceDelta(packet.header.sequenceNumber, (atPbx[0] as (typeof atPbx)[number]).header.sequenceNumber))).toEqual([0, 1, 2, 3, 4]);

    for (let i = 0; i < payloads.length; i++) await rig.sendFromPbx({ payloadType: 0, sequenceNumber: 40 + i, timestamp: 3200 + 160 * i }, payloads[i] as Uint8Array);
    await waitFor(() => audioAtBrowser(rig, CHROME_AUDIO.pcmu).length === 5, 'five PCMU packets at the browser', 5000);
    expect(audioAtBrowser(rig, CHROME_AUDIO.pcmu).map((packet) => Array.from(packet.payload))).toEqual(payloads.map((payload) => Array.from(payload)));
  });

  it('relays telephone-event/8000 from the browser with its payload type remapped (126 to 101)', async () => {
    const rig = await call({
      browserCodecs: [
        { name: 'PCMU', clockRate: 8000 },
        { name: 'telephone-event', clockRate: 8000 },
      ],
    });
    rig.browser.writeWithPayloadType(CHROME_AUDIO.telephoneEvent8k, 30, 8000, Uint8Array.of(1, 10, 0, 160), true);
    const [event] = await rig.pbxReceives(1);
    expect(event?.header.payloadType).toBe(101);
    expect(Array.from(event?.payload ?? [])).toEqual([1, 10, 0, 160]);
  });

  it('holds and resumes: media stops toward a party on hold and flows again on resume', async () => {
    const rig = await call({ browserCodecs: [{ name: 'PCMU', clockRate: 8000 }] });
    // The PBX puts the browser on hold (a=sendonly): the PBX still sends (music), receives nothing.
    rig.session.setRemoteDirection('pbx', 'sendonly');
    rig.browser.writeAudio(1, 160, new Uint8Array(160).fill(0x55));
    await waitFor(() => (rig.session.stats().browserToPbx?.dropped.held ?? 0) === 1, 'the held packet to be counted', 5000);
    await rig.sendFromPbx({ payloadType: 0, sequenceNumber: 1, timestamp: 160 }, new Uint8Array(160).fill(0x66));
    await waitFor(() => audioAtBrowser(rig, CHROME_AUDIO.pcmu).length === 1, 'music on hold at the browser', 5000);
    expect(rig.pbx.queued).toBe(0);

    rig.session.setRemoteDirection('pbx', 'sendrecv');
    rig.browser.writeAudio(2, 320, new Uint8Array(160).fill(0x77));
    const [resumed] = await rig.pbxReceives(1);
    expect(resumed?.payload[0]).toBe(0x77);
  });
});

describe('a media session for a call from the PBX', () => {
  it('answers the PBX’s PCMU offer, offers the browser Opus, and transcodes both ways once the browser answers', async () => {
    const rig = await startPbxCall();
    cleanup.push(() => rig.close());
    const answer = parseSdp(rig.pbxAnswer);
    expect(listCodecs(answer.media[0] ?? ({} as never)).map((codec) => `${codec.payloadType} ${codec.name}`)).toEqual(['0 PCMU', '101 telephone-event']);
    expect(answer.media[0]?.port).toBe(rig.nodePort);
    expect(rig.session.state).toBe('relaying');
    const stats = rig.session.stats();
    expect(stats.codecs.browser).toBe('opus/48000');
    expect([stats.browserToPbx?.path, stats.pbxToBrowser?.path]).toEqual(['opus-to-g711', 'g711-to-opus']);
    const browserOpus = listCodecs(parseSdp(rig.browserAnswer).media[0] ?? ({} as never))[0]?.payloadType as number;

    const toBrowser = pcmuTone(1000, -10, 100);
    const pbxTalks = pace(toBrowser.length, 20, (i) => void rig.sendFromPbx({ payloadType: 0, sequenceNumber: i, timestamp: 160 * i }, toBrowser[i] as Uint8Array));
    const toPbx = opusTone(1000, -10, 100);
    const browserTalks = pace(toPbx.length, 20, (i) => rig.browser.writeAudio(i, 960 * i, toPbx[i] as Uint8Array));
    let atPbx;
    try {
      atPbx = await rig.pbxReceives(40, 15_000);
      await waitFor(() => audioAtBrowser(rig, browserOpus).length >= 40, '40 Opus packets at the browser', 15_000);
    } finally {
      pbxTalks.stop();
      browserTalks.stop();
    }
    expect(measureTone(decodePcmuPayloads(atPbx.slice(15).map((packet) => packet.payload)), 8000, 1000).purity).toBeGreaterThan(0.6);
    const decoder = new OpusPcmDecoder(48000);
    const opus = audioAtBrowser(rig, browserOpus).slice(0, 40).sort((a, b) => sequenceDelta(a.sequenceNumber, b.sequenceNumber));
    expect(measureTone(concatSamples(opus.map((packet) => decoder.decode(packet.payload)).slice(10)), 48000, 1000).purity).toBeGreaterThan(0.8);
  });
});

describe('a media session that fails or ends', () => {
  it('ends with a media timeout naming the silent leg, without disturbing another call on the same frame clock', async () => {
    const quiet = await call({ mediaTimeoutMs: 400 });
    const busy = await call({ ticker: quiet.ticker, browserCodecs: [{ name: 'PCMU', clockRate: 8000 }] });
    // The browser keeps talking on the first call; its PBX never sends.
    const talk = pace(1000, 20, (i) => quiet.browser.writeAudio(10 + i, 960 * i, opusTone(1000, -20, 1)[0] as Uint8Array));
    let end;
    try {
      end = await Promise.race([quiet.session.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('no media timeout within 10 s')), 10_000))]);
    } finally {
      talk.stop();
    }
    expect(end).toMatchObject({ reason: 'media-timeout', leg: 'pbx' });
    expect(quiet.session.state).toBe('ended');
    // The other call is still up and relaying.
    expect(busy.session.state).toBe('relaying');
    busy.browser.writeAudio(1, 160, new Uint8Array(160).fill(0x12));
    const [relayed] = await busy.pbxReceives(1);
    expect(relayed?.payload[0]).toBe(0x12);
  });

  it('refuses a PBX answer that rejects the audio, and a second answer, with typed errors', async () => {
    const rig = await call({ createOnly: true });
    const rejected = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n`;
    expect(() => rig.session.takePbxAnswer(rejected)).toThrow(MediaSessionError);
    expect(() => rig.session.takePbxAnswer('nonsense')).toThrow(expect.objectContaining({ reason: 'bad-pbx-sdp' }));
    const g729 = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n`;
    expect(() => rig.session.takePbxAnswer(g729)).toThrow(expect.objectContaining({ reason: 'no-common-codec' }));
    const pcmu = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n`;
    rig.session.takePbxAnswer(pcmu);
    expect(() => rig.session.takePbxAnswer(pcmu)).toThrow(expect.objectContaining({ reason: 'wrong-state' }));
  });

  it('tells the control layer once, and releases its PBX port, when closed', async () => {
    const ends: unknown[] = [];
    const rig = await call({ onEnded: (end) => ends.push(end), pbxAnswer: PBX_PCMU });
    await rig.session.close();
    await rig.session.close();
    expect(ends).toEqual([{ reason: 'closed' }]);
    await expect(rig.session.ended).resolves.toEqual({ reason: 'closed' });
    expect(rig.ticker.listenerCount).toBe(0);
  });
});
