import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import {
  buildReceiverReport,
  buildSenderReport,
  compactNtp,
  compactNtpFromUnixMs,
  ntpFromUnixMs,
  readRtcpCompound,
  type ReportBlock,
} from '../../../media-node/rtp/index.ts';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

const BLOCK: ReportBlock = {
  ssrc: 0x1234_5678,
  fractionLost: 25,
  cumulativeLost: -3,
  highestSequence: 0x0001_0010,
  jitter: 42,
  lastSenderReport: 0xabcd_ef01,
  delaySinceLastSenderReport: 65536,
};

describe('NTP time for RTCP (RFC 3550 §4)', () => {
  it('puts the Unix epoch 2,208,988,800 s after the NTP epoch, half a second at 2^31 of fraction', () => {
    expect(ntpFromUnixMs(500)).toBe((2_208_988_800n << 32n) | 0x8000_0000n);
  });

  it('takes the middle 32 bits as the compact form used by LSR', () => {
    const unixMs = 1_790_000_000_250;
    expect(compactNtpFromUnixMs(unixMs)).toBe(compactNtp(ntpFromUnixMs(unixMs)));
    expect(compactNtpFromUnixMs(500) & 0xffff).toBe(0x8000);
  });
});

describe('RTCP compound packets (RFC 3550 §6)', () => {
  it('builds a receiver report with a CNAME and reads the block back, negative loss included', () => {
    const packet = buildReceiverReport(0xcafe, [BLOCK], 'media-node@sipedge');
    const result = readRtcpCompound(packet);
    expect(result).toEqual({ ok: true, value: { reports: [{ kind: 'receiver-report', ssrc: 0xcafe, blocks: [BLOCK] }], byes: [] } });
  });

  it('builds a sender report and reads its sender info back', () => {
    const sender = { ntpTimestamp: ntpFromUnixMs(1_790_000_000_000), rtpTimestamp: 0xffff_0000, packetCount: 500, octetCount: 80_000 };
    const result = readRtcpCompound(buildSenderReport(0xbeef, sender, [], 'x'));
    expect(result).toEqual({ ok: true, value: { reports: [{ kind: 'sender-report', ssrc: 0xbeef, senderInfo: sender, blocks: [] }], byes: [] } });
  });

  it('reads the SSRCs of a BYE that follows the report', () => {
    const rr = hex('80 c9 0001 0000cafe');
    const bye = hex('82 cb 0002 00000007 00000008');
    const result = readRtcpCompound(Uint8Array.from([...rr, ...bye]));
    expect(result.ok && result.value.byes).toEqual([7, 8]);
  });

  it.each([
    ['too-short', hex('80 c9 0001')],
    ['not-a-report-first', hex('81 ca 0002 0000cafe 01000000')],
    ['not-a-report-first', hex('a0 c9 0001 0000cafe')],
    ['not-version-2', hex('80 c9 0001 0000cafe 41 ca 0000')],
    ['bad-length', hex('80 c9 0005 0000cafe')],
    ['bad-length', hex('80 c9 0001 0000cafe 81')],
    ['padding-not-last', hex('80 c9 0001 0000cafe a1 ca 0000 81 ca 0000')],
  ])('refuses a compound packet with the problem %s', (problem, packet) => {
    expect(readRtcpCompound(packet)).toEqual({ ok: false, error: problem });
  });

  it('accepts a reduced-size packet that does not start with a report when asked to (RFC 5506)', () => {
    const pli = hex('81 ce 0002 0000cafe 00000007'); // picture loss indication, RFC 4585 §6.3.1
    expect(readRtcpCompound(pli, { reducedSize: true })).toEqual({ ok: true, value: { reports: [], byes: [] } });
  });
});
