import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AesCmTransform } from '../../../media-node/srtp/aes-cm-transform.ts';
import { AesGcmTransform } from '../../../media-node/srtp/aes-gcm-transform.ts';
import { HmacSha1 } from '../../../media-node/srtp/hmac-sha1.ts';
import type { SessionKeys } from '../../../media-node/srtp/index.ts';
import type { SrtpTransform } from '../../../media-node/srtp/srtp-transform.ts';
import { propertyRuns, propertyTimeout } from '../../support/arbitraries/property-runs.ts';
import { ReferenceAesCm, ReferenceAesGcm, type ReferenceTransform } from './one-shot-reference.ts';

const RUNS = propertyRuns(500);
/** A case makes a few packets of up to 1.4 kB under fresh keys: well under a millisecond. */
const TIMEOUT = propertyTimeout(RUNS, 2);
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

interface Suite {
  readonly name: string;
  readonly saltOctets: number;
  readonly make: (rtp: SessionKeys, rtcp: SessionKeys) => SrtpTransform;
  readonly reference: (rtp: SessionKeys, rtcp: SessionKeys) => ReferenceTransform;
}

const SUITES: readonly Suite[] = [
  {
    name: 'AES_CM_128_HMAC_SHA1_80',
    saltOctets: 14,
    make: (rtp, rtcp) => new AesCmTransform(rtp, rtcp),
    reference: (rtp, rtcp) => new ReferenceAesCm(rtp, rtcp),
  },
  {
    name: 'AEAD_AES_128_GCM',
    saltOctets: 12,
    make: (rtp, rtcp) => new AesGcmTransform(rtp, rtcp),
    reference: (rtp, rtcp) => new ReferenceAesGcm(rtp, rtcp),
  },
];

const octets = (length: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: length, maxLength: length });

const sessionKeysArb = (saltOctets: number): fc.Arbitrary<SessionKeys> =>
  fc.record({ encryption: octets(16), authentication: octets(20), salt: octets(saltOctets) });

interface RtpCase {
  readonly packet: Uint8Array;
  readonly headerOctets: number;
  readonly ssrc: number;
  readonly roc: number;
  readonly sequence: number;
}

/** An RTP packet with 0-15 CSRCs, maybe a header extension of 0-8 words, and 0-1400 payload octets. */
const rtpArb: fc.Arbitrary<RtpCase> = fc
  .record({
    fixed: octets(12),
    csrcs: fc.integer({ min: 0, max: 15 }),
    extensionWords: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
    filler: octets(4 * 15 + 4 + 4 * 8),
    payload: fc.uint8Array({ minLength: 0, maxLength: 1400 }),
    roc: fc.nat({ max: 0xffffffff }),
  })
  .map(({ fixed, csrcs, extensionWords, filler, payload, roc }) => {
    const extensionOctets = extensionWords === undefined ? 0 : 4 + 4 * extensionWords;
    const headerOctets = 12 + 4 * csrcs + extensionOctets;
    const packet = new Uint8Array(headerOctets + payload.length);
    packet.set(fixed);
    packet[0] = 0x80 | (extensionWords === undefined ? 0 : 0x10) | csrcs;
    packet.set(filler.subarray(0, headerOctets - 12), 12);
    if (extensionWords !== undefined) {
      packet[12 + 4 * csrcs + 2] = 0;
      packet[12 + 4 * csrcs + 3] = extensionWords;
    }
    packet.set(payload, headerOctets);
    const view = new DataView(packet.buffer, packet.byteOffset);
    return { packet, headerOctets, ssrc: view.getUint32(8), roc, sequence: view.getUint16(2) };
  });

interface RtcpCase {
  readonly packet: Uint8Array;
  readonly ssrc: number;
  readonly index: number;
}

/** An RTCP packet: 8 octets of header and sender SSRC, then 0-1400 octets; a 31-bit SRTCP index. */
const rtcpArb: fc.Arbitrary<RtcpCase> = fc
  .record({ packet: fc.uint8Array({ minLength: 8, maxLength: 1408 }), index: fc.nat({ max: 0x7fffffff }) })
  .map(({ packet, index }) => ({ packet, index, ssrc: new DataView(packet.buffer, packet.byteOffset).getUint32(4) }));

/** A bit of a packet of `length` octets, by position. */
const bitOf = (length: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: 8 * length - 1 });

function flipped(packet: Uint8Array, bit: number): Uint8Array {
  const copy = Uint8Array.from(packet);
  copy[bit >>> 3] = (copy[bit >>> 3] as number) ^ (0x80 >>> (bit & 7));
  return copy;
}

for (const suite of SUITES) {
  const keysArb = fc.record({ rtp: sessionKeysArb(suite.saltOctets), rtcp: sessionKeysArb(suite.saltOctets) });

  describe(`${suite.name}: the per-key transform against one node:crypto object per packet`, () => {
    it(
      'protects RTP to the same octets, every output intact after later calls, and opens it back',
      () => {
        fc.assert(
          fc.property(keysArb, fc.array(rtpArb, { minLength: 1, maxLength: 4 }), ({ rtp, rtcp }, cases) => {
            const transform = suite.make(rtp, rtcp);
            const reference = suite.reference(rtp, rtcp);
            const outputs = cases.map((c) => transform.protectRtp(c.packet, c.headerOctets, c.ssrc, c.roc, c.sequence));
            const opened = cases.map((c, i) => transform.unprotectRtp(outputs[i] as Uint8Array, c.headerOctets, c.ssrc, c.roc, c.sequence));
            cases.forEach((c, i) => {
              expect(toHex(outputs[i] as Uint8Array)).toBe(toHex(reference.protectRtp(c.packet, c.headerOctets, c.ssrc, c.roc, c.sequence)));
              expect(toHex(opened[i] ?? new Uint8Array(0))).toBe(toHex(c.packet));
            });
          }),
          { numRuns: RUNS },
        );
      },
      TIMEOUT,
    );

    it(
      'opens RTP the reference protected',
      () => {
        fc.assert(
          fc.property(keysArb, rtpArb, ({ rtp, rtcp }, c) => {
            const sent = suite.reference(rtp, rtcp).protectRtp(c.packet, c.headerOctets, c.ssrc, c.roc, c.sequence);
            const opened = suite.make(rtp, rtcp).unprotectRtp(sent, c.headerOctets, c.ssrc, c.roc, c.sequence);
            expect(toHex(opened ?? new Uint8Array(0))).toBe(toHex(c.packet));
          }),
          { numRuns: RUNS },
        );
      },
      TIMEOUT,
    );

    it(
      'refuses SRTP with any single bit flipped, or under another ROC',
      () => {
        fc.assert(
          fc.property(
            keysArb,
            rtpArb.chain((c) => fc.tuple(fc.constant(c), bitOf(c.packet.length + (suite.name === 'AEAD_AES_128_GCM' ? 16 : 10)))),
            ({ rtp, rtcp }, [c, bit]) => {
              const transform = suite.make(rtp, rtcp);
              const sent = transform.protectRtp(c.packet, c.headerOctets, c.ssrc, c.roc, c.sequence);
              expect(transform.unprotectRtp(flipped(sent, bit), c.headerOctets, c.ssrc, c.roc, c.sequence)).toBeUndefined();
              expect(transform.unprotectRtp(sent, c.headerOctets, c.ssrc, (c.roc + 1) >>> 0, c.sequence)).toBeUndefined();
            },
          ),
          { numRuns: RUNS },
        );
      },
      TIMEOUT,
    );

    it(
      'protects RTCP to the same octets and opens it back with its index',
      () => {
        fc.assert(
          fc.property(keysArb, fc.array(rtcpArb, { minLength: 1, maxLength: 3 }), ({ rtp, rtcp }, cases) => {
            const transform = suite.make(rtp, rtcp);
            const reference = suite.reference(rtp, rtcp);
            const outputs = cases.map((c) => transform.protectRtcp(c.packet, c.ssrc, c.index));
            cases.forEach((c, i) => {
              const sent = outputs[i] as Uint8Array;
              expect(toHex(sent)).toBe(toHex(reference.protectRtcp(c.packet, c.ssrc, c.index)));
              const opened = transform.unprotectRtcp(sent, c.ssrc);
              expect(opened && { packet: toHex(opened.packet), index: opened.index }).toEqual({ packet: toHex(c.packet), index: c.index });
            });
          }),
          { numRuns: RUNS },
        );
      },
      TIMEOUT,
    );

    it(
      'opens SRTCP sent in clear (E flag unset), and refuses it with any single bit flipped',
      () => {
        fc.assert(
          fc.property(
            keysArb,
            rtcpArb.chain((c) => fc.tuple(fc.constant(c), bitOf(c.packet.length + 4 + (suite.name === 'AEAD_AES_128_GCM' ? 16 : 10)))),
            ({ rtp, rtcp }, [c, bit]) => {
              const transform = suite.make(rtp, rtcp);
              const sent = suite.reference(rtp, rtcp).protectRtcpInClear(c.packet, c.ssrc, c.index);
              const opened = transform.unprotectRtcp(sent, c.ssrc);
              expect(opened && { packet: toHex(opened.packet), index: opened.index }).toEqual({ packet: toHex(c.packet), index: c.index });
              expect(transform.unprotectRtcp(flipped(sent, bit), c.ssrc)).toBeUndefined();
            },
          ),
          { numRuns: RUNS },
        );
      },
      TIMEOUT,
    );

    it(
      'refuses encrypted SRTCP with any single bit flipped',
      () => {
        fc.assert(
          fc.property(
            keysArb,
            rtcpArb.chain((c) => fc.tuple(fc.constant(c), bitOf(c.packet.length + 4 + (suite.name === 'AEAD_AES_128_GCM' ? 16 : 10)))),
            ({ rtp, rtcp }, [c, bit]) => {
              const transform = suite.make(rtp, rtcp);
              const sent = transform.protectRtcp(c.packet, c.ssrc, c.index);
              expect(transform.unprotectRtcp(flipped(sent, bit), c.ssrc)).toBeUndefined();
            },
          ),
          { numRuns: RUNS },
        );
      },
      TIMEOUT,
    );

    it('handles a 9,000-octet packet (a jumbo frame), past the keystream buffer made for 1,500', () => {
      const keys = { encryption: new Uint8Array(16).fill(1), authentication: new Uint8Array(20).fill(2), salt: new Uint8Array(suite.saltOctets).fill(3) };
      const transform = suite.make(keys, keys);
      const reference = suite.reference(keys, keys);
      const packet = Uint8Array.from({ length: 9000 }, (_, i) => (i * 31) & 0xff);
      packet[0] = 0x80;
      const sent = transform.protectRtp(packet, 12, 0x01020304, 7, 0x0506);
      expect(toHex(sent)).toBe(toHex(reference.protectRtp(packet, 12, 0x01020304, 7, 0x0506)));
      expect(toHex(transform.unprotectRtp(sent, 12, 0x01020304, 7, 0x0506) ?? new Uint8Array(0))).toBe(toHex(packet));
      const small = packet.subarray(0, 172);
      expect(toHex(transform.protectRtp(small, 12, 0x01020304, 7, 0x0506))).toBe(toHex(reference.protectRtp(small, 12, 0x01020304, 7, 0x0506)));
    });
  });
}

describe('HMAC-SHA1 keyed once, against createHmac', () => {
  it('agrees on every message length from 0 to 200 octets, with and without the ROC, across the padding boundaries', () => {
    const key = Uint8Array.from({ length: 20 }, (_, i) => i * 13 + 1);
    const mac = new HmacSha1(key);
    const message = Uint8Array.from({ length: 200 }, (_, i) => (i * 7 + 3) & 0xff);
    const roc = 0xdeadbeef;
    const ours = new Uint8Array(20);
    for (let length = 0; length <= 200; length++) {
      mac.tag(message, length, undefined, ours, 0, 20);
      expect(toHex(ours), `length ${length}`).toBe(createHmac('sha1', key).update(message.subarray(0, length)).digest('hex'));
      mac.tag(message, length, roc, ours, 0, 20);
      const withRoc = createHmac('sha1', key).update(message.subarray(0, length)).update(Uint8Array.of(0xde, 0xad, 0xbe, 0xef)).digest('hex');
      expect(toHex(ours), `length ${length} + ROC`).toBe(withRoc);
    }
  });
});
