import { Buffer } from 'node:buffer';
import { RtpHeader, RtpPacket } from 'werift';
import { describe, expect, it } from 'vitest';
import { readRtpHeader, rewriteRtpHeader, writeRtpHeader } from '../../../media-node/rtp/index.ts';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

/** A PCMU packet as a PBX sends it: seq 0x1234, ts 0x5678, SSRC 0xdeadbeef, four payload octets. */
const PCMU_PACKET = hex('80 00 1234 00005678 deadbeef ff fe 7f 00');

describe('reading an RTP header (RFC 3550 §5.1)', () => {
  it('reads the fields and payload bounds of a plain packet', () => {
    const result = readRtpHeader(PCMU_PACKET);
    expect(result).toEqual({
      ok: true,
      value: {
        marker: false,
        payloadType: 0,
        sequenceNumber: 0x1234,
        timestamp: 0x5678,
        ssrc: 0xdeadbeef,
        csrcCount: 0,
        hasExtension: false,
        payloadOffset: 12,
        payloadLength: 4,
      },
    });
  });

  it('skips the CSRC list and a header extension, and leaves padding out of the payload', () => {
    // V=2 P=1 X=1 CC=1, M=1 PT=111; one CSRC; extension profile 0xbede with one word; 2 payload octets, 2 padding.
    const packet = hex('b1 ef 0001 00000960 01020304 0a0b0c0d bede0001 10ff0000 aabb 0002');
    const result = readRtpHeader(packet);
    expect(result.ok && result.value).toMatchObject({ marker: true, payloadType: 111, csrcCount: 1, hasExtension: true, payloadOffset: 24, payloadLength: 2 });
  });

  it('agrees with werift on a packet werift serialised with a header extension', () => {
    const header = new RtpHeader({ payloadType: 111, sequenceNumber: 65535, timestamp: 4_000_000_000, ssrc: 42, marker: true });
    header.extensions = [{ id: 1, payload: Buffer.from([0x30]) }];
    const bytes = new RtpPacket(header, Buffer.from([1, 2, 3])).serialize();
    const result = readRtpHeader(bytes);
    expect(result.ok && result.value).toMatchObject({ payloadType: 111, sequenceNumber: 65535, timestamp: 4_000_000_000, ssrc: 42, marker: true });
    expect(result.ok && [...bytes.subarray(result.value.payloadOffset)]).toEqual([1, 2, 3]);
  });

  it.each([
    ['too-short', hex('80 00 1234 00005678 deadbe')],
    ['not-version-2', hex('40 00 1234 00005678 deadbeef ff')],
    ['rtcp-packet-type', hex('80 c8 0006 00005678 deadbeef 00000000')],
    ['truncated-csrc-list', hex('82 00 1234 00005678 deadbeef 01020304')],
    ['truncated-extension', hex('90 00 1234 00005678 deadbeef bede0002 00000000')],
    ['bad-padding', hex('a0 00 1234 00005678 deadbeef ff 00')],
    ['bad-padding', hex('a0 00 1234 00005678 deadbeef ff 09')],
  ])('refuses a packet with the problem %s', (problem, packet) => {
    expect(readRtpHeader(packet)).toEqual({ ok: false, error: problem });
  });
});

describe('rewriting an RTP header in place', () => {
  it('changes payload type, marker, sequence number, timestamp and SSRC and keeps everything else', () => {
    const packet = hex('b1 6f 0001 00000960 01020304 0a0b0c0d bede0001 10ff0000 aabb 0002');
    const before = Uint8Array.from(packet);
    rewriteRtpHeader(packet, { payloadType: 101, marker: false, sequenceNumber: 0xfffe, timestamp: 0xffffff00, ssrc: 0x11223344 });
    const result = readRtpHeader(packet);
    expect(result.ok && result.value).toMatchObject({ payloadType: 101, marker: false, sequenceNumber: 0xfffe, timestamp: 0xffffff00, ssrc: 0x11223344 });
    expect(packet[0]).toBe(before[0]);
    expect([...packet.subarray(12)]).toEqual([...before.subarray(12)]);
  });

  it('writes a fresh minimal header that reads back the same', () => {
    const packet = new Uint8Array(12 + 160);
    const offset = writeRtpHeader(packet, { payloadType: 8, marker: true, sequenceNumber: 7, timestamp: 160, ssrc: 99 });
    const result = readRtpHeader(packet);
    expect(offset).toBe(12);
    expect(result.ok && result.value).toMatchObject({ payloadType: 8, marker: true, sequenceNumber: 7, timestamp: 160, ssrc: 99, payloadLength: 160 });
  });
});
