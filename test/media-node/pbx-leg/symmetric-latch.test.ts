import { describe, expect, it } from 'vitest';
import { SymmetricLatch } from '../../../media-node/pbx-leg/index.ts';

const SIGNALLED = { address: '10.0.0.5', port: 10_000 }; // a private address in the PBX's SDP
const NAT = { address: '203.0.113.7', port: 31_337 }; // where its packets really come from
const STRANGER = { address: '198.51.100.9', port: 4_000 };

describe('symmetric RTP latching (RFC 4961)', () => {
  it('sends to the signalled address until the first valid packet, then to where that packet came from', () => {
    const latch = new SymmetricLatch({ signalled: SIGNALLED });
    expect(latch.destination).toEqual(SIGNALLED);
    expect(latch.offer(NAT, 0)).toBe('latched');
    expect(latch.offer(NAT, 20)).toBe('accepted');
    expect(latch.destination).toEqual(NAT);
  });

  it('refuses every other source once latched, so no one can pull the audio away (RTP Bleed)', () => {
    const latch = new SymmetricLatch({ signalled: SIGNALLED });
    latch.offer(NAT, 0);
    expect(latch.offer(STRANGER, 20)).toBe('unexpected-source');
    expect(latch.offer({ ...NAT, port: NAT.port + 1 }, 40)).toBe('unexpected-source');
    expect(latch.destination).toEqual(NAT);
  });

  it('opens again on a re-INVITE, with the new SDP address until the next packet', () => {
    const latch = new SymmetricLatch({ signalled: SIGNALLED });
    latch.offer(NAT, 0);
    latch.reopen({ address: '10.0.0.6', port: 12_000 });
    expect(latch.destination).toEqual({ address: '10.0.0.6', port: 12_000 });
    expect(latch.offer(STRANGER, 100)).toBe('latched');
  });

  it('re-latches after the latched source fell silent, only when the operator allows it', () => {
    const strict = new SymmetricLatch();
    strict.offer(NAT, 0);
    expect(strict.offer(STRANGER, 60_000)).toBe('unexpected-source');
    const lenient = new SymmetricLatch({ relatchAfterSilenceMs: 2000 });
    lenient.offer(NAT, 0);
    expect(lenient.offer(STRANGER, 1999)).toBe('unexpected-source');
    expect(lenient.offer(STRANGER, 2000)).toBe('latched');
  });
});
