import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { latencyRound, latencyRoundLines } from './latency-rounds.ts';
import type { CapturedDatagram } from './pcap-reader.ts';
import { relayTransit, type RelayDirection } from './relay-transit.ts';

const DIRECTION: RelayDirection = { into: { from: 40000, to: 60000 }, out: { from: 60002, to: 40002 } };

function rtp(sequenceNumber: number, timestamp: number, ssrc: number): Buffer {
  const packet = Buffer.alloc(12 + 160, 0xff);
  packet[0] = 0x80;
  packet.writeUInt16BE(sequenceNumber & 0xffff, 2);
  packet.writeUInt32BE(timestamp >>> 0, 4);
  packet.writeUInt32BE(ssrc, 8);
  return packet;
}

/**
 * A relay taking packet i in at `arrivals[i]` and sending it on `service[i]` ms after it could
 * start (its arrival or its previous departure, whichever is later), with its own stream's
 * sequence numbers and timestamps shifted by a constant, as the media node does.
 */
function relayed(arrivals: readonly number[], service: readonly number[]): { datagrams: CapturedDatagram[]; added: number[]; own: number[] } {
  const datagrams: CapturedDatagram[] = [];
  const added: number[] = [];
  const own: number[] = [];
  let previousDeparture = -Infinity;
  arrivals.forEach((at, i) => {
    const start = Math.max(at, previousDeparture);
    const departure = start + (service[i] as number);
    previousDeparture = departure;
    added.push(departure - at);
    own.push(departure - start);
    datagrams.push({ atMs: at, sourcePort: DIRECTION.into.from, destinationPort: DIRECTION.into.to, payload: rtp(65500 + i, 160 * i, 0x1111) });
    datagrams.push({ atMs: departure, sourcePort: DIRECTION.out.from, destinationPort: DIRECTION.out.to, payload: rtp(1234 + i, 999_000 + 160 * i, 0x2222) });
  });
  datagrams.sort((a, b) => a.atMs - b.atMs);
  return { datagrams, added: added.sort((a, b) => a - b), own: own.sort((a, b) => a - b) };
}

describe('relayTransit', () => {
  it('pairs each packet out with its packet in across the relay’s own sequence and timestamp shift (and a sequence wrap), and tells its own time from the wait behind a burst', () => {
    // 50 packets a second, then a burst of 10 at once (a stalled sender catching up), then steady again.
    const arrivals = [...Array.from({ length: 200 }, (_, i) => i * 20), ...Array.from({ length: 10 }, () => 4000), ...Array.from({ length: 200 }, (_, i) => 4020 + i * 20)];
    const service = arrivals.map((_, i) => (i % 7 === 0 ? 0.3 : 0.1));
    const { datagrams, added, own } = relayed(arrivals, service);
    const figures = relayTransit(datagrams, [DIRECTION]);
    expect(figures.matched).toBe(arrivals.length);
    expect(figures.unmatchedIn + figures.unmatchedOut + figures.unpaired).toBe(0);
    expect(Array.from(figures.addedMs).map((value) => value.toFixed(6))).toEqual(added.map((value) => value.toFixed(6)));
    expect(Array.from(figures.ownMs).map((value) => value.toFixed(6))).toEqual(own.map((value) => value.toFixed(6)));
    // The last of the burst waited for the nine before it; its own time stayed one service time.
    expect(Math.max(...figures.addedMs)).toBeGreaterThan(0.9);
    expect(Math.max(...figures.ownMs)).toBeLessThanOrEqual(0.3 + 1e-9);
    expect(figures.burstMax).toBe(10);
  });

  it('counts a packet the relay never sent on as unmatched in, and leaves RTCP on the same ports out', () => {
    const arrivals = Array.from({ length: 300 }, (_, i) => i * 20);
    const { datagrams } = relayed(arrivals, arrivals.map(() => 0.1));
    const lost = datagrams.findIndex((datagram) => datagram.sourcePort === DIRECTION.out.from && datagram.atMs > 3000);
    datagrams.splice(lost, 1);
    const report = Buffer.alloc(28);
    report[0] = 0x80;
    report[1] = 200;
    datagrams.push({ atMs: 3001, sourcePort: DIRECTION.out.from, destinationPort: DIRECTION.out.to, payload: report });
    datagrams.sort((a, b) => a.atMs - b.atMs);
    const figures = relayTransit(datagrams, [DIRECTION]);
    expect(figures.matched).toBe(299);
    expect(figures.unmatchedIn).toBe(1);
    expect(figures.unmatchedOut).toBe(0);
  });
});

describe('latency rounds', () => {
  it('summarises each relay over its rounds: median p99, how many under the goal, and the calmest round', () => {
    const captured = (serviceMs: number) => {
      const { datagrams } = relayed(
        Array.from({ length: 500 }, (_, i) => i * 20),
        Array.from({ length: 500 }, () => serviceMs),
      );
      const figures = relayTransit(datagrams, [DIRECTION]);
      return { browserToPbx: figures, pbxToBrowser: figures, droppedByKernel: 0 };
    };
    const rounds = [
      latencyRound(1, 'sipedge', 0.004, 0.008, captured(0.5)),
      latencyRound(2, 'sipedge', 0.12, 0.009, captured(3)),
      latencyRound(3, 'sipedge', 0.001, 0.008, captured(0.4)),
      latencyRound(1, 'rtpengine', 0.004, 0.002, 'tcpdump is not installed'),
    ];
    expect(rounds[3]?.matched).toBe(0);
    expect(rounds[3]?.added).toBeUndefined();
    const lines = latencyRoundLines(rounds, 1);
    const summary = lines.find((line) => line.startsWith('  sipedge:'));
    expect(summary).toContain('added p99 median 0.500 ms over 3 rounds');
    expect(summary).toContain('under 1 ms in 2 of 3');
    expect(summary).toContain('least CPU stolen (0.1 %): 0.400 ms');
    expect(lines.some((line) => line.startsWith('  rtpengine:'))).toBe(false);
  });
});
