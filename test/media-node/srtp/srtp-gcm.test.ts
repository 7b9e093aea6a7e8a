import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { RtpHeader, SrtcpSession, SrtpSession } from 'werift';
import { describe, expect, it } from 'vitest';
import { buildReceiverReport, readRtpHeader, writeRtpHeader } from '../../../media-node/rtp/index.ts';
import { AesGcmTransform, SrtpReceiver, SrtpSender, type MasterKey, type SessionKeys } from '../../../media-node/srtp/index.ts';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replaceAll(' ', ''), 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

// RFC 7714 §16-17 give session keys, not master keys: the transform is tested on them directly.
const SESSION: SessionKeys = { encryption: hex('000102030405060708090a0b0c0d0e0f'), authentication: new Uint8Array(0), salt: hex('517569642070726f2071756f') };
// §16: "Gallia est omnis divisa in partes tres" after a 12-octet header (SEQ 0xf17b, SSRC 0x5501a0b2).
const RTP = hex('8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070 61727465 73207472 6573');
// §16.1.1, the encrypted and tagged packet.
const SRTP = hex(
  '8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce',
);
// §17.1: a sender report with SRTCP index 0x5d4, and the packet encrypted and tagged.
const RTCP = hex('81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef');
const SRTCP = hex(
  '81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4',
);

describe('AEAD_AES_128_GCM, RFC 7714 §16-17 vectors', () => {
  const transform = new AesGcmTransform(SESSION, SESSION);

  it('encrypts and tags the RTP packet of §16.1.1, and decrypts it back (§16.1.2)', () => {
    expect(toHex(transform.protectRtp(RTP, 12, 0x5501a0b2, 0, 0xf17b))).toBe(toHex(SRTP));
    const opened = transform.unprotectRtp(SRTP, 12, 0x5501a0b2, 0, 0xf17b);
    expect(opened && toHex(opened)).toBe(toHex(RTP));
  });

  it('refuses the §16.1.1 packet with one bit of its payload, header or tag changed, or under another ROC', () => {
    for (const at of [3, 20, SRTP.length - 1]) {
      const tampered = Uint8Array.from(SRTP);
      tampered[at] = (tampered[at] as number) ^ 1;
      expect(transform.unprotectRtp(tampered, 12, 0x5501a0b2, 0, at === 3 ? 0xf17a : 0xf17b)).toBeUndefined();
    }
    expect(transform.unprotectRtp(SRTP, 12, 0x5501a0b2, 1, 0xf17b)).toBeUndefined();
  });

  it('encrypts and tags the RTCP packet of §17.1, and decrypts it back', () => {
    expect(toHex(transform.protectRtcp(RTCP, 0x4d617273, 0x5d4))).toBe(toHex(SRTCP));
    const opened = transform.unprotectRtcp(SRTCP, 0x4d617273);
    expect(opened && { packet: toHex(opened.packet), index: opened.index }).toEqual({ packet: toHex(RTCP), index: 0x5d4 });
    const tampered = Uint8Array.from(SRTCP);
    tampered[30] = (tampered[30] as number) ^ 8;
    expect(transform.unprotectRtcp(tampered, 0x4d617273)).toBeUndefined();
  });
});

/** werift's own GCM (profile 0x0007) as the browser: `local` is the browser's key, `remote` the node's. */
function weriftPeer(browser: MasterKey, node: MasterKey): { srtp: SrtpSession; srtcp: SrtcpSession } {
  const config = {
    keys: { localMasterKey: Buffer.from(browser.key), localMasterSalt: Buffer.from(browser.salt), remoteMasterKey: Buffer.from(node.key), remoteMasterSalt: Buffer.from(node.salt) },
    profile: 7 as const,
  };
  return { srtp: new SrtpSession(config), srtcp: new SrtcpSession(config) };
}

const gcmKey = (): MasterKey => ({ key: Uint8Array.from(randomBytes(16)), salt: Uint8Array.from(randomBytes(12)) });

function rtp(sequenceNumber: number, payload: Uint8Array, ssrc = 0x11223344): Uint8Array {
  const packet = new Uint8Array(12 + payload.length);
  writeRtpHeader(packet, { payloadType: 111, marker: false, sequenceNumber, timestamp: sequenceNumber * 960, ssrc });
  packet.set(payload, 12);
  return packet;
}

describe('SRTP with AEAD_AES_128_GCM from master keys, against werift’s implementation', () => {
  const node = gcmKey();
  const browser = gcmKey();

  it('decrypts what werift protects, across a sequence number wrap', () => {
    const peer = weriftPeer(browser, node);
    const receiver = new SrtpReceiver(browser, 'AEAD_AES_128_GCM');
    for (const sequenceNumber of [65533, 65534, 65535, 0, 1, 2]) {
      const payload = Uint8Array.from({ length: 80 }, (_, i) => (i * 7 + sequenceNumber) & 0xff);
      const header = new RtpHeader({ payloadType: 111, sequenceNumber, timestamp: sequenceNumber * 960, ssrc: 0x11223344 });
      const protectedPacket = peer.srtp.encrypt(Buffer.from(payload), header);
      expect(protectedPacket.length).toBe(12 + 80 + 16);
      const result = receiver.unprotectRtp(protectedPacket);
      if (!result.ok) throw new Error(`refused: ${result.error}`);
      const parsed = readRtpHeader(result.packet);
      if (!parsed.ok) throw new Error(parsed.error);
      expect(parsed.value.sequenceNumber).toBe(sequenceNumber);
      expect(toHex(result.packet.subarray(12))).toBe(toHex(payload));
    }
  });

  it('protects what werift decrypts, across a sequence number wrap', () => {
    const peer = weriftPeer(browser, node);
    const sender = new SrtpSender(node, 'AEAD_AES_128_GCM');
    for (const sequenceNumber of [65534, 65535, 0, 1]) {
      const packet = rtp(sequenceNumber, Uint8Array.from({ length: 80 }, (_, i) => i & 0xff));
      const decrypted = peer.srtp.decrypt(Buffer.from(sender.protectRtp(packet)));
      expect(toHex(decrypted)).toBe(toHex(packet));
    }
  });

  it('carries SRTCP both ways', () => {
    const peer = weriftPeer(browser, node);
    const report = buildReceiverReport(0xabcdef01, [], 'test');
    const sent = new SrtpSender(node, 'AEAD_AES_128_GCM').protectRtcp(report);
    expect(toHex(peer.srtcp.decrypt(Buffer.from(sent)))).toBe(toHex(report));
    const received = new SrtpReceiver(browser, 'AEAD_AES_128_GCM').unprotectRtcp(peer.srtcp.encrypt(Buffer.from(report)));
    if (!received.ok) throw new Error(`refused: ${received.error}`);
    expect(toHex(received.packet)).toBe(toHex(report));
  });

  it('refuses a tampered packet, a packet under another key, a replay, and a runt', () => {
    const sender = new SrtpSender(browser, 'AEAD_AES_128_GCM');
    const receiver = new SrtpReceiver(browser, 'AEAD_AES_128_GCM');
    const first = sender.protectRtp(rtp(10, new Uint8Array(80)));
    const tampered = Uint8Array.from(first);
    tampered[20] = (tampered[20] as number) ^ 1;
    expect(receiver.unprotectRtp(tampered)).toEqual({ ok: false, error: 'authentication' });
    expect(new SrtpReceiver(node, 'AEAD_AES_128_GCM').unprotectRtp(first)).toEqual({ ok: false, error: 'authentication' });
    expect(receiver.unprotectRtp(first).ok).toBe(true);
    expect(receiver.unprotectRtp(first)).toEqual({ ok: false, error: 'replayed' });
    expect(receiver.unprotectRtp(new Uint8Array(27))).toEqual({ ok: false, error: 'too-short' });
    const rtcp = sender.protectRtcp(buildReceiverReport(1, [], 'test'));
    expect(receiver.unprotectRtcp(rtcp).ok).toBe(true);
    expect(receiver.unprotectRtcp(rtcp)).toEqual({ ok: false, error: 'replayed' });
  });
});
