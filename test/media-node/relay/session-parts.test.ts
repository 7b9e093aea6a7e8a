import { describe, expect, it } from 'vitest';
import { ReceiveStatistics } from '../../../media-node/quality/index.ts';
import { DEFAULT_PBX_CODECS, FrameTicker, MediaWatchdog, PbxRtcpReporter, pathKind, pbxOfferCodecs, readPbxAnswer } from '../../../media-node/relay/index.ts';
import { compactNtpFromUnixMs, msToCompactInterval, readRtcpCompound } from '../../../media-node/rtp/index.ts';
import { parseSdp } from '../../../shared/sdp/index.ts';
import { waitFor } from '../support/udp.ts';

const OPUS = { name: 'opus', clockRate: 48000, channels: 2 };
const PCMU = { name: 'PCMU', clockRate: 8000 };

describe('the frame ticker', () => {
  it('beats for every listener even when one of them throws, counting and reporting the failure to that listener alone', async () => {
    const ticker = new FrameTicker();
    let healthy = 0;
    const failures: unknown[] = [];
    const broken = {
      onFrame: () => {
        throw new Error('broken call');
      },
      onFrameError: (error: unknown) => failures.push(error),
    };
    const counting = { onFrame: () => void healthy++ };
    ticker.add(broken);
    ticker.add(counting);
    try {
      await waitFor(() => healthy >= 5, 'five frames for the healthy listener', 5000);
    } finally {
      ticker.remove(broken);
      ticker.remove(counting);
    }
    expect(ticker.counters.listenerErrors).toBeGreaterThanOrEqual(5);
    expect(failures.length).toBe(ticker.counters.listenerErrors);
    expect(ticker.listenerCount).toBe(0);
  });

  it('catches up after a stalled event loop with back-to-back frames, skipping beyond its limit', async () => {
    let now = 1000;
    const ticker = new FrameTicker({ clock: { now: () => now }, maxCatchUpFrames: 3 });
    const frames: number[] = [];
    ticker.add({ onFrame: (at) => void frames.push(at) });
    now += 200; // ten frames late
    await waitFor(() => frames.length > 0, 'the late frames', 2000);
    ticker.stop();
    expect(frames).toEqual([1160, 1180, 1200]);
    expect(ticker.counters.skippedFrames).toBe(7);
  });
});

describe('the media watchdog', () => {
  it('names the leg that should send and has been silent for the timeout; a held leg is not expected to send', () => {
    const watchdog = new MediaWatchdog(1000, 0, { browser: true, pbx: true });
    watchdog.heard('browser', 900);
    expect(watchdog.check(999)).toBeUndefined();
    expect(watchdog.check(1000)).toEqual({ leg: 'pbx', silentMs: 1000 });
    watchdog.expect('pbx', false, 1000);
    expect(watchdog.check(1899)).toBeUndefined();
    expect(watchdog.check(1900)).toEqual({ leg: 'browser', silentMs: 1000 });
    watchdog.heard('browser', 1900);
    watchdog.expect('pbx', true, 1900);
    expect(watchdog.check(2899)).toBeUndefined();
  });
});

describe('RTCP toward the PBX', () => {
  it('reports as a receiver before sending, as a sender after, about the PBX’s stream, and measures the round trip from its reports', () => {
    const reporter = new PbxRtcpReporter({ ssrc: 0x1234, cname: 'sipedge-test', clockRate: 8000, intervalMs: 1000 });
    const receive = new ReceiveStatistics(8000);
    for (let i = 0; i < 10; i++) receive.onPacket({ sequenceNumber: i, timestamp: 160 * i, payloadLength: 160 }, 1_700_000_000_000 + 20 * i);
    reporter.onReceived(0x5eed);
    const t0 = 1_700_000_000_000;
    expect(reporter.due(t0, receive)).toBeUndefined();
    const first = reporter.due(t0 + 2000, receive);
    const rr = first && readRtcpCompound(first);
    expect(rr?.ok && rr.value.reports[0]).toMatchObject({ kind: 'receiver-report', ssrc: 0x1234, blocks: [{ ssrc: 0x5eed }] });
    reporter.onSent(160, 8000, t0 + 2100);
    const second = reporter.due(t0 + 4000, receive);
    const sr = second && readRtcpCompound(second);
    expect(sr?.ok && sr.value.reports[0]).toMatchObject({ kind: 'sender-report', senderInfo: { packetCount: 1, octetCount: 160 } });
    // The PBX echoes our SR 30 ms after we sent it, having held it 10 ms: 20 ms of network round trip.
    const sentAt = t0 + 4000;
    reporter.onRtcp(
      {
        reports: [
          {
            kind: 'receiver-report',
            ssrc: 0x5eed,
            blocks: [{ ssrc: 0x1234, fractionLost: 0, cumulativeLost: 0, highestSequence: 1, jitter: 0, lastSenderReport: compactNtpFromUnixMs(sentAt), delaySinceLastSenderReport: msToCompactInterval(10) }],
          },
        ],
        byes: [],
      },
      sentAt + 30,
      receive,
    );
    expect(reporter.roundTrip.latestMs).toBeGreaterThan(19);
    expect(reporter.roundTrip.latestMs).toBeLessThan(21);
  });
});

describe('session negotiation', () => {
  it('relays the same codec as is and transcodes only between Opus and G.711', () => {
    expect(pathKind(OPUS, OPUS)).toBe('pass-through');
    expect(pathKind(PCMU, PCMU)).toBe('pass-through');
    expect(pathKind(OPUS, PCMU)).toBe('opus-to-g711');
    expect(pathKind({ name: 'PCMA', clockRate: 8000 }, OPUS)).toBe('g711-to-opus');
    expect(pathKind(PCMU, { name: 'PCMA', clockRate: 8000 })).toBeUndefined();
    expect(pathKind(OPUS, { name: 'G722', clockRate: 8000 })).toBeUndefined();
  });

  it('offers the PBX only what it can relay to and from the browser’s codec, events included', () => {
    expect(pbxOfferCodecs(OPUS, DEFAULT_PBX_CODECS).map((codec) => codec.name)).toEqual(['PCMU', 'PCMA', 'telephone-event']);
    expect(pbxOfferCodecs(PCMU, DEFAULT_PBX_CODECS).map((codec) => codec.name)).toEqual(['PCMU', 'telephone-event']);
    expect(pbxOfferCodecs(PCMU, [{ payloadType: 9, name: 'G722', clockRate: 8000 }])).toEqual([]);
  });

  it('reads the PBX answer: chosen codec, renumbered events, where to send, and an RFC 2543 hold', () => {
    const answer = parseSdp(
      [
        'v=0',
        'o=- 7 7 IN IP4 192.0.2.10',
        's=-',
        'c=IN IP4 0.0.0.0',
        't=0 0',
        'm=audio 17000 RTP/AVP 8 96',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:96 telephone-event/8000',
        'a=rtcp:17005',
        '',
      ].join('\r\n'),
    );
    const read = readPbxAnswer(answer, OPUS, DEFAULT_PBX_CODECS);
    expect(read.audio.name).toBe('PCMA');
    expect(read.telephoneEvent?.payloadType).toBe(96);
    expect([...read.aliases]).toEqual([
      [8, 8],
      [96, 96],
      [101, 96],
    ]);
    expect(read.remote).toEqual({ address: '0.0.0.0', rtpPort: 17000, rtcpPort: 17005 });
    expect(read.direction).toBe('sendonly');
  });
});
