import { afterEach, describe, expect, it } from 'vitest';
import { RtcpRrPacket, RtcpSourceDescriptionPacket, RtcpSrPacket, type RtcpPacket } from 'werift';
import { BrowserLeg, BrowserLegError, type BrowserLegHandlers, type BrowserRtp } from '../../../media-node/browser-leg/index.ts';
import { candidatesOf, dtlsFingerprint, listCodecs, mediaDirection, parseSdp, setupRole } from '../../../shared/sdp/index.ts';
import { pace } from '../support/pacer.ts';
import { waitFor } from '../support/udp.ts';
import { CHROME_AUDIO, WeriftBrowser } from '../support/werift-browser.ts';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

function browser(only?: readonly string[]): WeriftBrowser {
  const created = new WeriftBrowser(only);
  cleanup.push(() => created.close());
  return created;
}

function recorder(): { packets: BrowserRtp[]; states: string[]; handlers: BrowserLegHandlers } {
  const packets: BrowserRtp[] = [];
  const states: string[] = [];
  return { packets, states, handlers: { onRtp: (packet) => packets.push(packet), onConnectionStateChange: (state) => states.push(state) } };
}

async function answered(peer: WeriftBrowser, codecs?: Parameters<typeof BrowserLeg.answer>[1]['codecs']) {
  const record = recorder();
  const { leg, answer } = await BrowserLeg.answer(await peer.offer(), codecs === undefined ? {} : { codecs }, record.handlers);
  cleanup.push(() => leg.close());
  return { leg, answer, ...record };
}

describe('a browser leg answering a browser’s offer', () => {
  it('answers with Opus and telephone-event/48000 at the browser’s payload types, rtcp-mux, DTLS active, and one 127.0.0.1 candidate as the default', async () => {
    const peer = browser();
    const { leg, answer } = await answered(peer);
    const session = parseSdp(answer);
    const media = session.media[0];
    if (media === undefined) throw new Error('no media section');
    expect(listCodecs(media).map((codec) => `${codec.payloadType} ${codec.name}/${codec.clockRate}`)).toEqual(['111 opus/48000', '110 telephone-event/48000']);
    expect(media.rtcpMux).toBe('rtcp-mux');
    expect(setupRole(session, media)).toBe('active');
    expect(dtlsFingerprint(session, media)?.hash).toBe('sha-256');
    const candidates = candidatesOf(media);
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.every((candidate) => candidate.ip === '127.0.0.1')).toBe(true);
    expect(media.connection?.ip).toBe('127.0.0.1');
    expect(media.port).toBe(candidates[0]?.port);
    expect(mediaDirection(session, media)).toMatchObject({ direction: 'sendrecv', legacyHold: false });
    expect(leg.codecs?.audio.payloadType).toBe(CHROME_AUDIO.opus);
    expect(leg.codecs?.telephoneEvent?.payloadType).toBe(CHROME_AUDIO.telephoneEvent48k);
  });

  it('connects over ICE and DTLS-SRTP on loopback and carries plain RTP both ways, telephone-events keeping their payload type', async () => {
    const peer = browser();
    const { leg, answer, packets, states } = await answered(peer);
    await peer.acceptAnswer(answer);
    await peer.connected();
    await waitFor(() => leg.connectionState === 'connected', 'the media node’s side to connect', 10_000);
    expect(states).toContain('connected');

    // Browser to node: audio and an RFC 4733 event arrive decrypted, with the browser's numbers.
    peer.writeAudio(1000, 48_000, Uint8Array.of(0xf8, 0xff, 0xfe));
    peer.writeWithPayloadType(CHROME_AUDIO.telephoneEvent48k, 1001, 48_960, Uint8Array.of(5, 0x0a, 0x01, 0x40), true);
    await waitFor(() => packets.length === 2, 'two packets from the browser', 5000);
    expect(packets.map((packet) => packet.payloadType)).toEqual([CHROME_AUDIO.opus, CHROME_AUDIO.telephoneEvent48k]);
    expect(Array.from(packets[1]?.payload ?? [])).toEqual([5, 0x0a, 0x01, 0x40]);

    // Node to browser: the relay's sequence numbers and timestamps go through; werift sets its SSRC.
    const header = { marker: false, sequenceNumber: 7, timestamp: 960, ssrc: 0x1234 };
    expect(leg.sendRtp({ ...header, payloadType: CHROME_AUDIO.opus }, Uint8Array.of(0xf8, 1, 2))).toBe(true);
    expect(leg.sendRtp({ ...header, payloadType: CHROME_AUDIO.telephoneEvent48k, sequenceNumber: 8, marker: true }, Uint8Array.of(1, 0x8a, 0, 160))).toBe(true);
    await waitFor(() => peer.received.length === 2, 'two packets at the browser', 5000);
    expect(peer.received.map((packet) => [packet.payloadType, packet.sequenceNumber, packet.timestamp])).toEqual([
      [CHROME_AUDIO.opus, 7, 960],
      [CHROME_AUDIO.telephoneEvent48k, 8, 960],
    ]);
    expect(peer.received[0]?.ssrc).toBe(leg.sendSsrc);
    expect(leg.counters).toMatchObject({ rtpIn: 2, rtpOut: 2, notConnected: 0, unknownPayloadType: 0, sendErrors: 0 });
    // After DTLS, RTP goes through the node's own SRTP with the profile werift negotiated (GCM
    // first); werift decrypts only the first packet of each source, to start its statistics.
    expect(leg.ownSrtpSuite).toBe('AEAD_AES_128_GCM');
    expect(leg.counters).toMatchObject({ srtpIn: 1, srtpOut: 2, srtpRefused: 0 });
  });

  it('speaks AES_CM_128_HMAC_SHA1_80 with a browser that offers no GCM, on the node’s own SRTP both ways', async () => {
    const peer = browser();
    const record = recorder();
    const offer = await peer.offer();
    peer.onlySrtpProfile(1);
    const { leg, answer } = await BrowserLeg.answer(offer, {}, record.handlers);
    cleanup.push(() => leg.close());
    await peer.acceptAnswer(answer);
    await peer.connected();
    await waitFor(() => leg.ownSrtpSuite !== undefined, 'the node’s own SRTP to start', 10_000);
    expect(leg.ownSrtpSuite).toBe('AES_CM_128_HMAC_SHA1_80');
    for (let i = 0; i < 5; i++) peer.writeAudio(100 + i, 960 * i, Uint8Array.of(0xf8, i));
    await waitFor(() => record.packets.length === 5, 'five packets from the browser', 5000);
    expect(record.packets.map((packet) => [packet.sequenceNumber, Array.from(packet.payload)])).toEqual([0, 1, 2, 3, 4].map((i) => [100 + i, [0xf8, i]]));
    for (let i = 0; i < 3; i++) leg.sendRtp({ payloadType: CHROME_AUDIO.opus, marker: false, sequenceNumber: 50 + i, timestamp: 960 * i, ssrc: 1 }, Uint8Array.of(0xf8, 9, i));
    await waitFor(() => peer.received.length === 3, 'three packets at the browser', 5000);
    expect(peer.received.map((packet) => [packet.sequenceNumber, Array.from(packet.payload)])).toEqual([0, 1, 2].map((i) => [50 + i, [0xf8, 9, i]]));
    expect(leg.counters).toMatchObject({ srtpIn: 4, srtpOut: 3, srtpRefused: 0 });
  });

  it('keeps werift’s RTCP true: the browser hears sender reports counting what the node sent, with report blocks that give it a round trip, and the browser’s blocks give the node its own', async () => {
    const peer = browser();
    const { leg, answer, packets } = await answered(peer);
    await peer.acceptAnswer(answer);
    await peer.connected();
    await waitFor(() => leg.ownSrtpSuite !== undefined, 'the node’s own SRTP to start', 10_000);
    const transceiver = peer.pc.getTransceivers()[0];
    if (transceiver === undefined) throw new Error('no transceiver');
    // The node's receiver reports on the browser's stream, as the browser receives them.
    const reports: Array<{ highestSequence: number; packetsLost: number }> = [];
    transceiver.dtlsTransport.onRtcp.subscribe((rtcp) => {
      const blocks = (rtcp as unknown as { reports?: Array<{ ssrc: number; highestSequence: number; packetsLost: number }> }).reports ?? [];
      for (const block of blocks) if (block.ssrc === transceiver.sender.ssrc) reports.push(block);
      // The node's blocks ride in its SRs (RFC 3550 §6.4.1). Chrome reads them there; werift 0.25
      // hands an SR to the receiver of its source only, so the test hands it to the sender too.
      if (rtcp.type === RtcpSrPacket.type) transceiver.sender.handleRtcpPacket(rtcp);
    });
    for (let i = 0; i < 10; i++) {
      peer.writeAudio(200 + i, 960 * i, Uint8Array.of(0xf8, i));
      leg.sendRtp({ payloadType: CHROME_AUDIO.opus, marker: false, sequenceNumber: 300 + i, timestamp: 960 * i, ssrc: 1 }, Uint8Array.of(0xf8, 7, i));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitFor(() => packets.length === 10 && peer.received.length === 10, 'ten packets each way', 5000);
    const heard = transceiver.receiver as unknown as { remotePacketCountBySsrc: Record<number, number> };
    const told = transceiver.sender as unknown as { rtt?: number; remotePacketsLost?: number };
    // The node reports every 2.5-7.5 s, the first within 3.75 s (RFC 3550 §6.2); the round trip
    // needs a report after the browser's first sender report (werift's, every 0.5-1.5 s).
    await waitFor(() => heard.remotePacketCountBySsrc[leg.sendSsrc ?? -1] === 10, 'a sender report counting ten packets', 25_000);
    await waitFor(() => told.rtt !== undefined, 'a report block answering the browser’s sender report', 30_000);
    expect(told.rtt).toBeLessThan(1);
    // Statistics fed by the node's SRTP path: all ten counted, up to the last sequence number.
    await waitFor(() => reports.some((block) => (block.highestSequence & 0xffff) === 209), 'a report block up to sequence number 209', 25_000);
    expect(reports.at(-1)?.packetsLost).toBe(0);
    // The browser's receiver reports answer the node's SRs (LSR/DLSR): the leg's round trip.
    await waitFor(() => leg.roundTripMs !== undefined, 'a round trip from the browser’s report blocks on the node’s stream', 30_000);
    expect(leg.roundTripMs).toBeGreaterThanOrEqual(0);
    expect(leg.roundTripMs).toBeLessThan(1000);
  }, 120_000);

  it('reports as RFC 3550 asks for a two-party call: 1-4 compounds in 10 s, each an SR with a block on the browser’s stream and a CNAME, and no receiver report of werift’s', async () => {
    const peer = browser();
    const { leg, answer, packets } = await answered(peer);
    await peer.acceptAnswer(answer);
    const transceiver = peer.pc.getTransceivers()[0];
    if (transceiver === undefined) throw new Error('no transceiver');
    // werift hands the browser a compound's packets one by one, in order; each compound starts
    // with a report (RFC 3550 §6.1), so a report opens the next one.
    const compounds: RtcpPacket[][] = [];
    transceiver.dtlsTransport.onRtcp.subscribe((packet) => {
      const open = compounds.at(-1);
      if (packet.type === RtcpSrPacket.type || packet.type === RtcpRrPacket.type || open === undefined) compounds.push([packet]);
      else open.push(packet);
    });
    await peer.connected();
    // A call's audio both ways, 50 packets a second, from the moment both sides are up.
    const audio = pace(1000, 20, (i) => {
      peer.writeAudio(i, 960 * i, Uint8Array.of(0xf8, i & 0xff));
      leg.sendRtp({ payloadType: CHROME_AUDIO.opus, marker: false, sequenceNumber: i, timestamp: 960 * i, ssrc: 1 }, Uint8Array.of(0xf8, 7, i & 0xff));
    });
    cleanup.push(async () => audio.stop());
    await waitFor(() => leg.ownSrtpSuite !== undefined, 'the node’s own SRTP to start', 10_000);
    // From the start of the node's reports, a fifth compound needs at least 1.25 + 4 x 2.5 s.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const heard = compounds.slice();
    audio.stop();
    expect(packets.length).toBeGreaterThan(100);

    expect(heard.filter((compound) => compound.length === 1 && compound[0]?.type === RtcpRrPacket.type)).toEqual([]);
    expect(heard.length).toBeGreaterThanOrEqual(1);
    expect(heard.length).toBeLessThanOrEqual(4);
    for (const compound of heard) {
      expect(compound.map((packet) => packet.type)).toEqual([RtcpSrPacket.type, RtcpSourceDescriptionPacket.type]);
      const [sr, sdes] = compound as [RtcpSrPacket, RtcpSourceDescriptionPacket];
      expect(sr.ssrc).toBe(leg.sendSsrc);
      expect(sr.senderInfo.packetCount).toBeGreaterThan(0);
      expect(sr.reports.map((block) => block.ssrc)).toEqual([transceiver.sender.ssrc]);
      expect(sr.reports[0]?.packetsLost).toBe(0);
      expect(sdes.chunks.map((chunk) => chunk.source)).toEqual([leg.sendSsrc]);
      expect(sdes.chunks[0]?.items.find((item) => item.type === 1)?.text).toMatch(/.+/);
    }
  }, 60_000);

  it('drops SRTP that fails authentication or is replayed, counted, and carries on', async () => {
    const peer = browser();
    const { leg, answer, packets } = await answered(peer);
    await peer.acceptAnswer(answer);
    await peer.connected();
    await waitFor(() => leg.ownSrtpSuite !== undefined, 'the node’s own SRTP to start', 10_000);
    // werift decrypts the first packet of the source, the node the rest.
    peer.writeAudio(1, 0, Uint8Array.of(0xf8, 1));
    await waitFor(() => packets.length === 1, 'the first packet', 5000);
    const wire: Uint8Array[] = [];
    const connection = peer.pc.getTransceivers()[0]?.dtlsTransport.iceTransport.connection;
    if (connection === undefined) throw new Error('no ICE connection');
    // What the browser puts on the wire, to replay and tamper with.
    const send = connection.send;
    connection.send = async (data: Buffer) => {
      wire.push(Uint8Array.from(data));
      await send(data);
    };
    peer.writeAudio(2, 960, Uint8Array.of(0xf8, 2));
    await waitFor(() => packets.length === 2 && wire.length > 0, 'the second packet', 5000);
    connection.send = send;
    const sent = wire.find((data) => data[0] === 0x80 && data[3] === 2);
    if (sent === undefined) throw new Error('the second packet was not seen on the wire');
    await peer.sendRaw(sent);
    const tampered = Uint8Array.from(sent);
    tampered[13] = (tampered[13] as number) ^ 1;
    await peer.sendRaw(tampered);
    await waitFor(() => leg.counters.srtpRefused === 2, 'two refusals', 5000);
    peer.writeAudio(3, 1920, Uint8Array.of(0xf8, 3));
    await waitFor(() => packets.length === 3, 'the third packet', 5000);
    expect(packets.map((packet) => packet.sequenceNumber)).toEqual([1, 2, 3]);
  });

  it('answers G.711 with telephone-event/8000 when told to prefer it', async () => {
    const peer = browser();
    const { leg, answer } = await answered(peer, [
      { name: 'PCMU', clockRate: 8000 },
      { name: 'telephone-event', clockRate: 48000 },
      { name: 'telephone-event', clockRate: 8000 },
    ]);
    const codecs = listCodecs(parseSdp(answer).media[0] ?? ({} as never));
    expect(codecs.map((codec) => `${codec.payloadType} ${codec.name}/${codec.clockRate}`)).toEqual(['0 PCMU/8000', '126 telephone-event/8000']);
    expect(leg.codecs?.telephoneEvent?.payloadType).toBe(CHROME_AUDIO.telephoneEvent8k);
  });

  it('takes the DTLS role the offer leaves it (RFC 5763 §5): an active offerer gets a passive answer, and they connect', async () => {
    const peer = browser();
    const offer = (await peer.offer()).replace('a=setup:actpass', 'a=setup:active');
    const record = recorder();
    const { leg, answer } = await BrowserLeg.answer(offer, {}, record.handlers);
    cleanup.push(() => leg.close());
    const session = parseSdp(answer);
    expect(setupRole(session, session.media[0] ?? ({} as never))).toBe('passive');
    await peer.acceptAnswer(answer);
    await peer.connected();
    await waitFor(() => leg.connectionState === 'connected', 'the media node’s side to connect', 10_000);
  });

  it('accepts the audio of an offer that also has video, and rejects the video (RFC 3264 §6: port 0)', async () => {
    const peer = browser();
    const offer = await peer.offer();
    const line = (name: string): string => new RegExp(`a=${name}:(.+)`).exec(offer)?.[1]?.trim() ?? '';
    const withVideo =
      offer.replace('a=group:BUNDLE 0', 'a=group:BUNDLE 0 1') +
      [
        'm=video 9 UDP/TLS/RTP/SAVPF 96',
        'c=IN IP4 0.0.0.0',
        `a=ice-ufrag:${line('ice-ufrag')}`,
        `a=ice-pwd:${line('ice-pwd')}`,
        `a=fingerprint:${line('fingerprint')}`,
        'a=setup:actpass',
        'a=mid:1',
        'a=sendrecv',
        'a=rtcp-mux',
        'a=rtpmap:96 VP8/90000',
        '',
      ].join('\r\n');
    const { leg, answer } = await BrowserLeg.answer(withVideo, {}, recorder().handlers);
    cleanup.push(() => leg.close());
    const session = parseSdp(answer);
    expect(session.media.map((media) => [media.type, media.port === 0])).toEqual([
      ['audio', false],
      ['video', true],
    ]);
  });

  it('refuses to send before ICE and DTLS are up, and counts what it drops', async () => {
    const peer = browser();
    const { leg } = await answered(peer);
    expect(leg.sendRtp({ payloadType: CHROME_AUDIO.opus, marker: false, sequenceNumber: 1, timestamp: 0, ssrc: 1 }, Uint8Array.of(0xf8))).toBe(false);
    expect(leg.counters.notConnected).toBe(1);
  });

  it('refuses an offer without a codec in common, and one that is not SDP, with typed errors', async () => {
    const g729Only = (await browser(['pcmu']).offer()).replace(/RTP\/SAVPF 0/, 'RTP/SAVPF 18').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:18 G729/8000');
    await expect(BrowserLeg.answer(g729Only, {}, recorder().handlers)).rejects.toMatchObject({ name: 'BrowserLegError', reason: 'no-common-codec' });
    await expect(BrowserLeg.answer('hello', {}, recorder().handlers)).rejects.toBeInstanceOf(BrowserLegError);
    await expect(BrowserLeg.answer('hello', {}, recorder().handlers)).rejects.toMatchObject({ reason: 'bad-sdp' });
  });
});

describe('a browser leg offering to a browser (a call from the PBX)', () => {
  it('offers its codecs, takes the browser’s answer, connects and carries RTP both ways', async () => {
    const peer = browser();
    const record = recorder();
    const { leg, offer } = await BrowserLeg.offer(
      {
        codecs: [
          { payloadType: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' },
          { payloadType: 101, name: 'telephone-event', clockRate: 48000 },
        ],
      },
      record.handlers,
    );
    cleanup.push(() => leg.close());
    const offered = parseSdp(offer);
    const media = offered.media[0];
    if (media === undefined) throw new Error('no media section');
    expect(setupRole(offered, media)).toBe('actpass');
    expect(candidatesOf(media).every((candidate) => candidate.ip === '127.0.0.1')).toBe(true);

    await leg.acceptAnswer(await peer.answer(offer));
    expect(leg.codecs?.audio.name).toBe('opus');
    expect(leg.codecs?.telephoneEvent?.payloadType).toBe(101);
    await peer.connected();
    await waitFor(() => leg.connectionState === 'connected', 'the media node’s side to connect', 10_000);
    // The first packets may precede the node's DTLS state by a moment: resend until one lands.
    await waitFor(
      () => {
        leg.sendRtp({ payloadType: 111, marker: false, sequenceNumber: 1, timestamp: 0, ssrc: 1 }, Uint8Array.of(0xf8, 0));
        return peer.received.length > 0;
      },
      'RTP at the browser',
      5000,
    );
    peer.writeAudio(5, 4800, Uint8Array.of(0xf8, 1));
    await waitFor(() => record.packets.length > 0, 'RTP at the node', 5000);
    expect(record.packets[0]?.payloadType).toBe(111);
  });
});
