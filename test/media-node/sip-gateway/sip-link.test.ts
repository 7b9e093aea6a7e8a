/**
 * The link's RFC 3261 §17 timers on a fake clock, with real UDP on loopback: when each copy of a
 * request goes out (Timer A doubling, Timer E capped at T2 and at T2 once proceeding), and when the
 * edge is told the transaction timed out (Timers B and F).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipLink, type GatewayFrame, type LinkTimers } from '../../../media-node/sip-gateway/index.ts';
import { udpPeer, waitFor, type UdpPeer } from '../support/udp.ts';

class FakeTimers implements LinkTimers {
  now = 0;
  #timers: { at: number; run: () => void; cancelled: boolean }[] = [];

  after(ms: number, run: () => void): () => void {
    const timer = { at: this.now + ms, run, cancelled: false };
    this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Runs every timer due up to `now + ms`, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = this.#timers.filter((timer) => !timer.cancelled && timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.now = due.at;
      due.cancelled = true;
      due.run();
    }
    this.now = end;
  }
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function rig(): Promise<{ link: SipLink; pbx: UdpPeer; timers: FakeTimers; frames: GatewayFrame[] }> {
  const pbx = await udpPeer();
  const timers = new FakeTimers();
  const link = await SipLink.open('unit', { address: '127.0.0.1', port: pbx.port }, { bindAddress: '127.0.0.1', publicAddress: '127.0.0.1', timing: { t1: 500, t2: 4000 }, timers });
  const frames: GatewayFrame[] = [];
  link.sink = (frame) => frames.push(frame);
  cleanup.push(async () => {
    await link.close();
    await pbx.close();
  });
  return { link, pbx, timers, frames };
}

function request(method: string, branch: string): string {
  return `${method} sip:pbx@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:pbx@127.0.0.1>\r\nCall-ID: ${branch}\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`;
}

function response(status: number, method: string, branch: string): string {
  return `SIP/2.0 ${status} X\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=${branch}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:pbx@127.0.0.1>;tag=2\r\nCall-ID: ${branch}\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`;
}

/** The times (fake ms) at which retransmissions left (the first copy taken), stepping the clock by 50 ms up to `until`. */
async function copiesUntil(pbx: UdpPeer, timers: FakeTimers, until: number, onTick?: (now: number) => Promise<void>): Promise<number[]> {
  await pbx.next();
  const times: number[] = [];
  let seen = 0;
  while (timers.now < until) {
    timers.advance(50);
    await onTick?.(timers.now);
    await new Promise((resolve) => setTimeout(resolve, 1));
    while (pbx.queued > 0) {
      await pbx.next();
      seen++;
      times.push(timers.now);
    }
  }
  // Give the last sends a moment to land.
  await new Promise((resolve) => setTimeout(resolve, 20));
  while (pbx.queued > 0) {
    await pbx.next();
    seen++;
    times.push(timers.now);
  }
  expect(times.length).toBe(seen);
  return times;
}

describe('client transactions', () => {
  it('resends an INVITE after T1, 2*T1, 4*T1 ... and gives up at 64*T1 (Timers A and B)', async () => {
    const { link, pbx, timers, frames } = await rig();
    link.send(request('INVITE', 'z9hG4bK-a'), 'inv');
    const times = await copiesUntil(pbx, timers, 40_000);
    expect(times).toEqual([500, 1500, 3500, 7500, 15500, 31500]);
    expect(frames).toEqual([{ type: 'timeout', id: 'inv', method: 'INVITE', branch: 'z9hG4bK-a', callId: 'z9hG4bK-a' }]);
  });

  it('stops resending an INVITE at the first provisional response', async () => {
    const { link, pbx, timers, frames } = await rig();
    link.send(request('INVITE', 'z9hG4bK-b'), undefined);
    const times = await copiesUntil(pbx, timers, 10_000, async (now) => {
      if (now === 1000) {
        await pbx.send(new TextEncoder().encode(response(100, 'INVITE', 'z9hG4bK-b')), link.local.port);
        await waitFor(() => frames.length === 1, 'the 100 to be forwarded');
      }
    });
    expect(times).toEqual([500]);
    expect(frames.map((frame) => frame.type)).toEqual(['received']);
  });

  it('resends a non-INVITE doubling up to T2, then every T2, and reports Timer F', async () => {
    const { link, pbx, timers, frames } = await rig();
    link.send(request('OPTIONS', 'z9hG4bK-c'), 'opt');
    const times = await copiesUntil(pbx, timers, 40_000);
    // T1 = 500, T2 = 4000: at 0, 0.5, 1.5, 3.5, 7.5, 11.5, ... up to 32 s.
    expect(times.slice(0, 5)).toEqual([500, 1500, 3500, 7500, 11500]);
    const gaps = times.slice(4).map((time, i) => time - (times[i + 3] as number));
    expect(gaps.every((gap) => gap === 4000)).toBe(true);
    expect(times.at(-1)).toBeLessThanOrEqual(32_000);
    expect(frames).toEqual([{ type: 'timeout', id: 'opt', method: 'OPTIONS', branch: 'z9hG4bK-c', callId: 'z9hG4bK-c' }]);
  });

  it('forwards each distinct response once and none after the final one repeats', async () => {
    const { link, pbx, timers, frames } = await rig();
    link.send(request('REGISTER', 'z9hG4bK-d'), undefined);
    await pbx.next();
    const ok = new TextEncoder().encode(response(200, 'REGISTER', 'z9hG4bK-d'));
    await pbx.send(ok, link.local.port);
    await pbx.send(ok, link.local.port);
    await waitFor(() => link.counters.absorbed === 1, 'the repeated 200 to be absorbed');
    timers.advance(40_000);
    expect(frames.map((frame) => frame.type)).toEqual(['received']);
  });
});
