import { describe, expect, it } from 'vitest';
import { OpusPcmDecoder, decodePcmu } from '../../../media-node/codec/index.ts';
import { G711ToOpusPath, OpusToG711Path, PassThroughPath, type InboundPacket, type LegFormats, type OutboundLeg } from '../../../media-node/relay/index.ts';
import { readTelephoneEvent, sequenceDelta, timestampDelta, type RtpHeaderRewrite } from '../../../media-node/rtp/index.ts';
import { opusTone, pcmuTone } from '../support/call-rig.ts';
import { measureTone } from '../support/goertzel.ts';
import { concatSamples } from '../support/tone.ts';

interface Sent {
  readonly header: RtpHeaderRewrite;
  readonly payload: Uint8Array;
}

function recorder(): { out: OutboundLeg; sent: Sent[] } {
  const sent: Sent[] = [];
  return { sent, out: { send: (header, payload) => (sent.push({ header: { ...header }, payload: payload.slice() }), true) } };
}

const stream = { ssrc: 0xabcdef01, firstSequenceNumber: 65_530, firstTimestamp: 4_294_967_000 };

const BROWSER_OPUS: LegFormats = {
  audio: { payloadType: 111, name: 'opus', clockRate: 48000, channels: 2 },
  telephoneEvent: { payloadType: 110, name: 'telephone-event', clockRate: 48000 },
};
const BROWSER_PCMU: LegFormats = {
  audio: { payloadType: 0, name: 'PCMU', clockRate: 8000 },
  telephoneEvent: { payloadType: 126, name: 'telephone-event', clockRate: 8000 },
};
const PBX_PCMU: LegFormats = {
  audio: { payloadType: 0, name: 'PCMU', clockRate: 8000 },
  telephoneEvent: { payloadType: 101, name: 'telephone-event', clockRate: 8000 },
};

function packet(fields: Partial<InboundPacket> & Pick<InboundPacket, 'sequenceNumber' | 'timestamp' | 'payload'>): InboundPacket {
  return { payloadType: 0, ssrc: 0x1111, marker: false, ...fields };
}

describe('the pass-through path', () => {
  it('forwards payloads untouched, maps payload types, and keeps one continuous stream across a source change', () => {
    const { out, sent } = recorder();
    const path = new PassThroughPath({ incoming: BROWSER_PCMU, outgoing: PBX_PCMU, out, stream });
    const audio = Uint8Array.from({ length: 160 }, (_, i) => i);
    path.onPacket(packet({ sequenceNumber: 10, timestamp: 1600, payload: audio, marker: true }), 0);
    path.onPacket(packet({ sequenceNumber: 11, timestamp: 1760, payload: audio }), 20);
    path.onPacket(packet({ payloadType: 126, sequenceNumber: 12, timestamp: 1920, payload: Uint8Array.of(1, 10, 0, 80), marker: true }), 40);
    // The browser restarts its sender: new SSRC, unrelated counters.
    path.onPacket(packet({ ssrc: 0x2222, sequenceNumber: 30_000, timestamp: 9, payload: audio }), 100);
    expect(sent.map((s) => s.header.payloadType)).toEqual([0, 0, 101, 0]);
    expect(sent.map((s) => s.header.ssrc)).toEqual([stream.ssrc, stream.ssrc, stream.ssrc, stream.ssrc]);
    expect(sent.map((s) => sequenceDelta(s.header.sequenceNumber, stream.firstSequenceNumber))).toEqual([0, 1, 2, 3]);
    expect(sent[0]?.header.timestamp).toBe(stream.firstTimestamp);
    expect(timestampDelta(sent[1]?.header.timestamp ?? 0, sent[0]?.header.timestamp ?? 0)).toBe(160);
    // The new source continues 60 ms (480 units) after the last packet sent, marked as a new talkspurt.
    expect(timestampDelta(sent[3]?.header.timestamp ?? 0, sent[2]?.header.timestamp ?? 0)).toBe(480);
    expect(sent[3]?.header.marker).toBe(true);
    expect(Array.from(sent[0]?.payload ?? [])).toEqual(Array.from(audio));
    expect(path.counters).toMatchObject({ forwarded: 4, telephoneEvents: 1 });
  });

  it('sends the node’s own RFC 4733 events between the source’s packets, in one gapless sequence, each event at its start timestamp', () => {
    const { out, sent } = recorder();
    const path = new PassThroughPath({ incoming: BROWSER_PCMU, outgoing: PBX_PCMU, out, stream });
    const audio = new Uint8Array(160);
    path.onPacket(packet({ sequenceNumber: 10, timestamp: 1600, payload: audio, marker: true }), 0);
    path.onPacket(packet({ sequenceNumber: 11, timestamp: 1760, payload: audio }), 20);
    expect(path.sendTelephoneEvent({ event: 5, end: false, volume: 10, duration: 160 }, true, 30)).toBe(true);
    path.onPacket(packet({ sequenceNumber: 12, timestamp: 1920, payload: audio }), 40);
    expect(path.sendTelephoneEvent({ event: 5, end: true, volume: 10, duration: 320 }, false, 50)).toBe(true);
    path.onPacket(packet({ sequenceNumber: 13, timestamp: 2080, payload: audio }), 60);
    expect(sent.map((s) => s.header.payloadType)).toEqual([0, 0, 101, 0, 101, 0]);
    expect(sent.map((s) => sequenceDelta(s.header.sequenceNumber, stream.firstSequenceNumber))).toEqual([0, 1, 2, 3, 4, 5]);
    // Both packets of the event carry its start: 10 ms after the last audio sent; only the first is marked.
    expect(timestampDelta(sent[2]?.header.timestamp ?? 0, sent[1]?.header.timestamp ?? 0)).toBe(80);
    expect(sent[4]?.header.timestamp).toBe(sent[2]?.header.timestamp);
    expect(sent.map((s) => s.header.marker)).toEqual([true, false, true, false, false, false]);
    expect(readTelephoneEvent(sent[4]?.payload ?? new Uint8Array())).toEqual({ ok: true, value: { event: 5, end: true, volume: 10, duration: 320 } });
    // The audio's own timing is untouched.
    expect(timestampDelta(sent[5]?.header.timestamp ?? 0, sent[3]?.header.timestamp ?? 0)).toBe(160);
  });

  it('sends no event of its own to a leg without telephone-event', () => {
    const { out, sent } = recorder();
    const path = new PassThroughPath({ incoming: BROWSER_PCMU, outgoing: { ...PBX_PCMU, telephoneEvent: undefined }, out, stream });
    expect(path.sendTelephoneEvent({ event: 1, end: false, volume: 10, duration: 160 }, true, 0)).toBe(false);
    expect(sent).toEqual([]);
  });

  it('drops and counts a format the other leg lacks, and events on a clock the other leg’s events do not use', () => {
    const { out, sent } = recorder();
    const path = new PassThroughPath({ incoming: BROWSER_OPUS, outgoing: { ...BROWSER_OPUS, telephoneEvent: PBX_PCMU.telephoneEvent }, out, stream });
    path.onPacket(packet({ payloadType: 110, sequenceNumber: 1, timestamp: 0, payload: Uint8Array.of(1, 10, 0, 80) }), 0);
    path.onPacket(packet({ payloadType: 9, sequenceNumber: 2, timestamp: 0, payload: Uint8Array.of(1) }), 0);
    expect(sent).toEqual([]);
    expect(path.counters.dropped).toMatchObject({ 'telephone-event-clock': 1, 'unmapped-payload-type': 1 });
  });
});

describe('the Opus to G.711 path, on a simulated frame clock', () => {
  it('buffers, then sends one PCMU frame per 20 ms that decodes to the sent tone, concealing a lost packet', () => {
    const { out, sent } = recorder();
    const path = new OpusToG711Path({ incoming: BROWSER_OPUS, outgoing: PBX_PCMU, law: 'pcmu', out, stream });
    const tone = opusTone(1000, -10, 60);
    for (let k = 0; k < 60; k++) {
      if (k !== 30) path.onPacket(packet({ payloadType: 111, sequenceNumber: 500 + k, timestamp: 960 * k, payload: tone[k] as Uint8Array }), 20 * k);
      path.onFrame(20 * k + 10);
    }
    expect(sent.length).toBeGreaterThanOrEqual(56);
    expect(sent.every((s) => s.header.payloadType === 0 && s.payload.length === 160)).toBe(true);
    expect(sent.map((s) => sequenceDelta(s.header.sequenceNumber, stream.firstSequenceNumber))).toEqual(sent.map((_, i) => i));
    expect(path.transcoder.counters.concealed).toBe(1);
    expect(path.jitterBuffer.counters.missing).toBe(1);
    const pcm = concatSamples(
      sent.slice(5).map((s) => {
        const samples = new Int16Array(160);
        decodePcmu(s.payload, samples);
        return samples;
      }),
    );
    const measured = measureTone(pcm, 8000, 1000);
    expect(measured.levelDbfs).toBeGreaterThan(-12);
    expect(measured.purity).toBeGreaterThan(0.9);
  });

  it('lets the timestamp run on through a pause and marks the first frame after it', () => {
    const { out, sent } = recorder();
    const path = new OpusToG711Path({ incoming: BROWSER_OPUS, outgoing: PBX_PCMU, law: 'pcmu', out, stream });
    const tone = opusTone(1000, -10, 40);
    for (let k = 0; k < 10; k++) {
      path.onPacket(packet({ payloadType: 111, sequenceNumber: k, timestamp: 960 * k, payload: tone[k] as Uint8Array }), 20 * k);
      path.onFrame(20 * k + 10);
    }
    // One second of silence (DTX, hold): the frames pass with nothing sent once the buffer pauses.
    for (let k = 10; k < 60; k++) path.onFrame(20 * k + 10);
    const beforeResume = sent.length;
    for (let k = 60; k < 70; k++) {
      path.onPacket(packet({ payloadType: 111, sequenceNumber: k, timestamp: 960 * k, payload: tone[k - 30] as Uint8Array }), 20 * k);
      path.onFrame(20 * k + 10);
    }
    const resumed = sent.slice(beforeResume).find((s) => s.header.marker);
    expect(resumed).toBeDefined();
    const last = sent[beforeResume - 1] as Sent;
    const gap = timestampDelta((resumed as Sent).header.timestamp, last.header.timestamp);
    expect(gap % 160).toBe(0);
    expect(gap).toBeGreaterThan(160 * 20);
    expect(sequenceDelta((resumed as Sent).header.sequenceNumber, last.header.sequenceNumber)).toBe(1);
  });

  it('sends telephone-events at once, on the outgoing stream’s timeline, with 48 kHz durations rescaled to 8 kHz', () => {
    const { out, sent } = recorder();
    const path = new OpusToG711Path({ incoming: BROWSER_OPUS, outgoing: PBX_PCMU, law: 'pcmu', out, stream });
    for (let k = 0; k < 5; k++) path.onFrame(20 * k);
    const start = path.timeline.timestamp;
    path.onPacket(packet({ payloadType: 110, sequenceNumber: 1, timestamp: 777, payload: Uint8Array.of(9, 10, 0x03, 0xc0), marker: true }), 100);
    path.onFrame(110);
    path.onPacket(packet({ payloadType: 110, sequenceNumber: 2, timestamp: 777, payload: Uint8Array.of(9, 0x80 | 10, 0x12, 0xc0) }), 120);
    expect(sent.map((s) => s.header.payloadType)).toEqual([101, 101]);
    expect(sent.map((s) => s.header.timestamp)).toEqual([start, start]);
    expect(sent.map((s) => s.header.marker)).toEqual([true, false]);
    expect(sent.map((s) => { const e = readTelephoneEvent(s.payload); return e.ok ? e.value.duration : -1; })).toEqual([160, 800]);
  });
});

describe('the G.711 to Opus path', () => {
  it('encodes each 20 ms payload at once, scaling timestamps to the 48 kHz clock, and drops what comes out of order', () => {
    const { out, sent } = recorder();
    const path = new G711ToOpusPath({ incoming: PBX_PCMU, outgoing: BROWSER_OPUS, law: 'pcmu', out, stream });
    const tone = pcmuTone(1000, -10, 50);
    for (let k = 0; k < 50; k++) path.onPacket(packet({ sequenceNumber: 100 + k, timestamp: 4_294_960_000 + 160 * k, payload: tone[k] as Uint8Array }), 20 * k);
    path.onPacket(packet({ sequenceNumber: 120, timestamp: 0, payload: tone[0] as Uint8Array }), 1000);
    expect(sent.length).toBe(50);
    expect(path.counters.dropped['out-of-order']).toBe(1);
    expect(sent.every((s) => s.header.payloadType === 111)).toBe(true);
    for (let k = 1; k < sent.length; k++) {
      expect(timestampDelta((sent[k] as Sent).header.timestamp, (sent[k - 1] as Sent).header.timestamp)).toBe(960);
      expect(sequenceDelta((sent[k] as Sent).header.sequenceNumber, (sent[k - 1] as Sent).header.sequenceNumber)).toBe(1);
    }
    const decoder = new OpusPcmDecoder(48000);
    const measured = measureTone(concatSamples(sent.map((s) => decoder.decode(s.payload)).slice(10)), 48000, 1000);
    expect(measured.levelDbfs).toBeGreaterThan(-12);
    expect(measured.purity).toBeGreaterThan(0.9);
  });

  it('re-frames 30 ms payloads into 20 ms Opus packets on a continuous timeline', () => {
    const { out, sent } = recorder();
    const path = new G711ToOpusPath({ incoming: PBX_PCMU, outgoing: BROWSER_OPUS, law: 'pcmu', out, stream });
    const tone = pcmuTone(1000, -10, 30);
    const joined = concatBytes(tone);
    for (let k = 0; k < 20; k++) path.onPacket(packet({ sequenceNumber: k, timestamp: 240 * k, payload: joined.subarray(240 * k, 240 * (k + 1)) }), 30 * k);
    expect(sent.length).toBe(30);
    for (let k = 1; k < sent.length; k++) expect(timestampDelta((sent[k] as Sent).header.timestamp, (sent[k - 1] as Sent).header.timestamp)).toBe(960);
  });

  it('relays events with the payload type remapped and the 8 kHz duration scaled to 48 kHz', () => {
    const { out, sent } = recorder();
    const path = new G711ToOpusPath({ incoming: PBX_PCMU, outgoing: BROWSER_OPUS, law: 'pcmu', out, stream });
    path.onPacket(packet({ sequenceNumber: 1, timestamp: 800, payload: pcmuTone(1000, -10, 1)[0] as Uint8Array }), 0);
    path.onPacket(packet({ payloadType: 101, sequenceNumber: 2, timestamp: 960, payload: Uint8Array.of(4, 10, 0, 160), marker: true }), 20);
    expect(sent[1]?.header.payloadType).toBe(110);
    expect(timestampDelta(sent[1]?.header.timestamp ?? 0, sent[0]?.header.timestamp ?? 0)).toBe(960);
    expect(Array.from(sent[1]?.payload ?? [])).toEqual([4, 10, 0x03, 0xc0]);
  });
});

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
