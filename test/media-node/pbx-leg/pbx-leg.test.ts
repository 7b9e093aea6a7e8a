import { afterEach, describe, expect, it } from 'vitest';
import { PbxLeg, PortRange, PortRangeExhaustedError, type PbxLegHandlers, type PbxLegOptions } from '../../../media-node/pbx-leg/index.ts';
import { buildReceiverReport, readRtcpCompound, writeRtpHeader, type RtcpCompound, type RtpHeaderFields } from '../../../media-node/rtp/index.ts';
import { udpPeer, waitFor, type UdpPeer } from '../support/udp.ts';

/** A port range of this process's own, so parallel test runs on the machine rarely meet. */
const BASE = 30_000 + (process.pid % 500) * 40;

/** A PCMU packet as a PBX would send it. */
function pcmu(sequenceNumber: number, ssrc = 0x5eed, payloadType = 0): Uint8Array {
  const packet = new Uint8Array(12 + 160).fill(0xff);
  writeRtpHeader(packet, { payloadType, marker: false, sequenceNumber, timestamp: 160 * sequenceNumber, ssrc });
  return packet;
}

interface Received {
  rtp: RtpHeaderFields[];
  rtcp: RtcpCompound[];
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function peer(): Promise<UdpPeer> {
  const created = await udpPeer();
  cleanup.push(() => created.close());
  return created;
}

async function openLeg(options: Partial<PbxLegOptions> = {}, handlers?: Partial<PbxLegHandlers>): Promise<{ leg: PbxLeg; received: Received }> {
  const received: Received = { rtp: [], rtcp: [] };
  const leg = await PbxLeg.open(
    { ports: new PortRange(BASE, BASE + 39), bindAddress: '127.0.0.1', payloadTypes: [0, 101], ...options },
    {
      onRtp: handlers?.onRtp ?? ((_packet, header) => received.rtp.push(header)),
      onRtcp: handlers?.onRtcp ?? ((_packet, compound) => received.rtcp.push(compound)),
    },
  );
  cleanup.push(() => leg.close());
  return { leg, received };
}

describe('a PBX leg on real UDP sockets', () => {
  it('latches onto the real source of the PBX’s RTP even when its SDP named another port (NAT)', async () => {
    const pbx = await peer();
    // The SDP says port 9 (discard); the PBX's packets come from its real port.
    const { leg, received } = await openLeg({ remote: { address: '127.0.0.1', rtpPort: 9 } });
    expect(leg.rtpDestination).toEqual({ address: '127.0.0.1', port: 9 });
    await pbx.send(pcmu(1), leg.rtpPort);
    await waitFor(() => received.rtp.length === 1, 'the first RTP packet');
    expect(received.rtp[0]).toMatchObject({ sequenceNumber: 1, payloadType: 0, ssrc: 0x5eed });
    expect(leg.rtpDestination).toEqual({ address: '127.0.0.1', port: pbx.port });
    expect(leg.sendRtp(pcmu(7, 0xcafe))).toBe(true);
    const reply = await pbx.next();
    expect(reply.from.port).toBe(leg.rtpPort);
    expect(reply.data.length).toBe(172);
  });

  it('drops garbage, runts, wrong versions, unnegotiated payload types and oversized datagrams, counting each, and carries on', async () => {
    const pbx = await peer();
    const { leg, received } = await openLeg();
    const garbage = [
      Uint8Array.of(1, 2, 3),
      new Uint8Array(40).fill(0x41),
      Uint8Array.of(0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1), // version 1
      pcmu(2, 0x5eed, 8), // PCMA, not negotiated on this leg
      new Uint8Array(9000).fill(0x80), // larger than an MTU
      new Uint8Array(0),
    ];
    for (const datagram of garbage) await pbx.send(datagram, leg.rtpPort);
    await pbx.send(pcmu(3), leg.rtpPort);
    await waitFor(() => received.rtp.length === 1, 'the valid packet after the garbage');
    await waitFor(() => Object.values(leg.counters.dropped).reduce((a, b) => a + b, 0) === garbage.length, 'every drop to be counted');
    expect(leg.counters.dropped).toEqual({
      oversized: 1,
      'malformed-rtp': 4,
      'malformed-rtcp': 0,
      'unexpected-payload-type': 1,
      'unexpected-ssrc': 0,
      'unexpected-source': 0,
      'srtp-authentication': 0,
      'srtp-replayed': 0,
      'srtp-no-key': 0,
    });
    expect(received.rtp.map((h) => h.sequenceNumber)).toEqual([3]);
    expect(leg.counters).toMatchObject({ rtpIn: 1, handlerErrors: 0, socketErrors: 0 });
  });

  it('refuses RTP from anyone else once latched, until a re-INVITE opens the latch again', async () => {
    const pbx = await peer();
    const intruder = await peer();
    const { leg, received } = await openLeg();
    await pbx.send(pcmu(1), leg.rtpPort);
    await waitFor(() => received.rtp.length === 1, 'the PBX’s packet');
    await intruder.send(pcmu(2, 0x5eed), leg.rtpPort);
    await waitFor(() => leg.counters.dropped['unexpected-source'] === 1, 'the intruder’s packet to be refused');
    expect(leg.rtpDestination?.port).toBe(pbx.port);

    leg.update({ remote: { address: '127.0.0.1', rtpPort: intruder.port } });
    await intruder.send(pcmu(3), leg.rtpPort);
    await waitFor(() => received.rtp.length === 2, 'the new source’s packet after the re-INVITE');
    expect(leg.rtpDestination?.port).toBe(intruder.port);
  });

  it('refuses an SSRC other than the one the SDP announced', async () => {
    const pbx = await peer();
    const { leg, received } = await openLeg({ expectedSsrc: 0x1111 });
    await pbx.send(pcmu(1, 0x2222), leg.rtpPort);
    await pbx.send(pcmu(2, 0x1111), leg.rtpPort);
    await waitFor(() => received.rtp.length === 1, 'the packet with the announced SSRC');
    expect(leg.counters.dropped['unexpected-ssrc']).toBe(1);
  });

  it('takes RTCP on the odd port above RTP, and answers to where it came from', async () => {
    const pbxRtcp = await peer();
    const { leg, received } = await openLeg({ remote: { address: '127.0.0.1', rtpPort: 9, rtcpPort: 11 } });
    expect(leg.rtcpPort).toBe(leg.rtpPort + 1);
    await pbxRtcp.send(buildReceiverReport(0x5eed, [], 'pbx'), leg.rtcpPort);
    await waitFor(() => received.rtcp.length === 1, 'the receiver report');
    expect(received.rtcp[0]?.reports[0]).toMatchObject({ kind: 'receiver-report', ssrc: 0x5eed });
    leg.sendRtcp(buildReceiverReport(0xcafe, [], 'media-node'));
    const reply = await pbxRtcp.next();
    expect(reply.from.port).toBe(leg.rtcpPort);
    const parsed = readRtcpCompound(reply.data);
    expect(parsed.ok && parsed.value.reports[0]?.ssrc).toBe(0xcafe);
  });

  it('accepts RTCP multiplexed on the RTP port (RFC 5761) and answers from that port', async () => {
    const pbx = await peer();
    const { leg, received } = await openLeg();
    await pbx.send(buildReceiverReport(0x5eed, [], 'pbx'), leg.rtpPort);
    await waitFor(() => received.rtcp.length === 1, 'the multiplexed report');
    leg.sendRtcp(buildReceiverReport(0xcafe, [], 'media-node'));
    expect((await pbx.next()).from.port).toBe(leg.rtpPort);
  });

  it('counts malformed RTCP and never lets it through', async () => {
    const pbx = await peer();
    const { leg, received } = await openLeg();
    await pbx.send(Uint8Array.of(0x80, 0xc9, 0x00, 0x09, 0, 0, 0, 1), leg.rtcpPort);
    await waitFor(() => leg.counters.dropped['malformed-rtcp'] === 1, 'the malformed report to be counted');
    expect(received.rtcp).toEqual([]);
  });

  it('survives a handler that throws: counted, logged, and the next packet still arrives', async () => {
    const pbx = await peer();
    const errors: string[] = [];
    const seen: number[] = [];
    const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: (message: string) => errors.push(message) };
    const { leg } = await openLeg({ logger }, {
      onRtp: (_packet, header) => {
        seen.push(header.sequenceNumber);
        if (header.sequenceNumber === 1) throw new Error('consumer bug');
      },
    });
    await pbx.send(pcmu(1), leg.rtpPort);
    await pbx.send(pcmu(2), leg.rtpPort);
    await waitFor(() => seen.length === 2, 'both packets to reach the handler');
    expect(leg.counters.handlerErrors).toBe(1);
    expect(errors).toEqual(['pbx leg handler threw']);
  });

  it('does not send before it knows where to, nor after it is closed', async () => {
    const { leg } = await openLeg();
    expect(leg.sendRtp(pcmu(1))).toBe(false);
    leg.update({ remote: { address: '127.0.0.1', rtpPort: 9 } });
    await leg.close();
    expect(leg.sendRtp(pcmu(1))).toBe(false);
  });
});

describe('binding PBX legs from the port range', () => {
  it('gives each leg its own even/odd pair and takes the pair back on close', async () => {
    const ports = new PortRange(BASE, BASE + 3);
    const first = await PbxLeg.open({ ports, bindAddress: '127.0.0.1', payloadTypes: [0] }, { onRtp: () => {} });
    const second = await PbxLeg.open({ ports, bindAddress: '127.0.0.1', payloadTypes: [0] }, { onRtp: () => {} });
    expect([first.rtpPort % 2, second.rtpPort % 2, first.rtpPort !== second.rtpPort]).toEqual([0, 0, true]);
    await expect(PbxLeg.open({ ports, bindAddress: '127.0.0.1', payloadTypes: [0] }, { onRtp: () => {} })).rejects.toThrow(PortRangeExhaustedError);
    await first.close();
    const third = await PbxLeg.open({ ports, bindAddress: '127.0.0.1', payloadTypes: [0] }, { onRtp: () => {} });
    expect(third.rtpPort).toBe(first.rtpPort);
    await Promise.all([second.close(), third.close()]);
  });

  it('skips a pair whose port another process already holds', async () => {
    const squatter = await udpPeer(BASE + 1); // the RTCP port of the first pair
    cleanup.push(() => squatter.close());
    const ports = new PortRange(BASE, BASE + 5);
    const leg = await PbxLeg.open({ ports, bindAddress: '127.0.0.1', payloadTypes: [0] }, { onRtp: () => {} });
    cleanup.push(() => leg.close());
    expect(leg.rtpPort).toBe(BASE + 2);
  });
});
