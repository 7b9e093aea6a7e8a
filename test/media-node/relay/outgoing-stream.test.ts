import { describe, expect, it } from 'vitest';
import { OutgoingStream } from '../../../media-node/relay/index.ts';
import type { RtpHeaderRewrite } from '../../../media-node/rtp/index.ts';

function recorder(): { sent: RtpHeaderRewrite[]; send: (header: RtpHeaderRewrite) => boolean } {
  const sent: RtpHeaderRewrite[] = [];
  return { sent, send: (header) => (sent.push(header), true) };
}

const header = (sequenceNumber: number, timestamp: number, payloadType = 0): RtpHeaderRewrite => ({ payloadType, marker: false, sequenceNumber, timestamp, ssrc: 42 });

describe('OutgoingStream', () => {
  it('starts where it was told until something is sent', () => {
    const stream = new OutgoingStream({ ssrc: 7, firstSequenceNumber: 100, firstTimestamp: 1000 });
    expect(stream.continuation(5_000, 8000)).toEqual({ ssrc: 7, firstSequenceNumber: 100, firstTimestamp: 1000 });
  });

  it('continues after the last packet sent, by the time that passed, across wraps', () => {
    let now = 0;
    const stream = new OutgoingStream({ ssrc: 7, firstSequenceNumber: 0, firstTimestamp: 0 });
    const out = recorder();
    const leg = stream.through({ send: out.send }, 8000, () => now);
    leg.send(header(65535, 0xffffff00), new Uint8Array(160));
    // An RFC 4733 event carries its start timestamp, older than the audio: it moves only the sequence.
    now = 20;
    leg.send(header(0, 0xfffffe00, 101), new Uint8Array(4));
    // A second after the newest audio packet (sent at 0): 8000 ticks on, past the 32-bit wrap.
    expect(stream.continuation(1000, 8000)).toEqual({ ssrc: 7, firstSequenceNumber: 1, firstTimestamp: (0xffffff00 + 8000) >>> 0 });
    // At least one frame, even at once.
    expect(stream.continuation(0, 8000).firstTimestamp).toBe((0xffffff00 + 160) >>> 0);
  });

  it('notes nothing the leg could not send', () => {
    const stream = new OutgoingStream({ ssrc: 7, firstSequenceNumber: 5, firstTimestamp: 50 });
    const leg = stream.through({ send: () => false }, 8000, () => 0);
    expect(leg.send(header(9, 90), new Uint8Array(1))).toBe(false);
    expect(stream.continuation(100, 8000).firstSequenceNumber).toBe(5);
  });
});
