import { Buffer } from 'node:buffer';
import { RtpHeader, SrtcpSession, SrtpSession } from 'werift';
import { describe, expect, it } from 'vitest';
import { buildReceiverReport, readRtcpCompound, readRtpHeader, writeRtpHeader } from '../../../media-node/rtp/index.ts';
import { SrtpReceiver, SrtpSender, deriveSessionKeys, newMasterKey, type MasterKey } from '../../../media-node/srtp/index.ts';

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** werift's SRTP, an implementation of its own, as the PBX: `local` is the PBX's key, `remote` the node's. */
function weriftPeer(pbx: MasterKey, node: MasterKey): { srtp: SrtpSession; srtcp: SrtcpSession } {
  const config = {
    keys: { localMasterKey: Buffer.from(pbx.key), localMasterSalt: Buffer.from(pbx.salt), remoteMasterKey: Buffer.from(node.key), remoteMasterSalt: Buffer.from(node.salt) },
    profile: 1 as const,
  };
  return { srtp: new SrtpSession(config), srtcp: new SrtcpSession(config) };
}

function rtp(sequenceNumber: number, payload: Uint8Array, ssrc = 0x11223344): Uint8Array {
  const packet = new Uint8Array(12 + payload.length);
  writeRtpHeader(packet, { payloadType: 0, marker: false, sequenceNumber, timestamp: sequenceNumber * 160, ssrc });
  packet.set(payload, 12);
  return packet;
}

describe('SRTP key derivation', () => {
  it('derives the session keys of RFC 3711 Appendix B.3', () => {
    const keys = deriveSessionKeys(hex('E1F97A0D3E018BE0D64FA32C06DE4139'), hex('0EC675AD498AFEEBB6960B3AABE6'), 'rtp');
    expect(toHex(keys.encryption)).toBe('c61e7a93744f39ee10734afe3ff7a087');
    expect(toHex(keys.salt)).toBe('30cbbc08863d8c85d49db34a9ae1');
    expect(toHex(keys.authentication)).toBe('cebe321f6ff7716b6fd4ab49af256a156d38baa4');
  });
});

describe('SRTP with AES_CM_128_HMAC_SHA1_80, against werift’s implementation', () => {
  const node = newMasterKey();
  const pbx = newMasterKey();

  it('decrypts what werift protects, across a sequence number wrap', () => {
    const peer = weriftPeer(pbx, node);
    const receiver = new SrtpReceiver(pbx);
    for (const sequenceNumber of [65533, 65534, 65535, 0, 1, 2]) {
      const payload = Uint8Array.from({ length: 160 }, (_, i) => (i * 7 + sequenceNumber) & 0xff);
      const header = new RtpHeader({ payloadType: 0, sequenceNumber, timestamp: sequenceNumber * 160, ssrc: 0x11223344 });
      const protectedPacket = peer.srtp.encrypt(Buffer.from(payload), header);
      expect(protectedPacket.length).toBe(12 + 160 + 10);
      const result = receiver.unprotectRtp(protectedPacket);
      if (!result.ok) throw new Error(`refused: ${result.error}`);
      const parsed = readRtpHeader(result.packet);
      if (!parsed.ok) throw new Error(parsed.error);
      expect(parsed.value.sequenceNumber).toBe(sequenceNumber);
      expect(toHex(result.packet.subarray(12))).toBe(toHex(payload));
    }
  });

  it('protects what werift decrypts, across a sequence number wrap', () => {
    const peer = weriftPeer(pbx, node);
    const sender = new SrtpSender(node);
    for (const sequenceNumber of [65534, 65535, 0, 1]) {
      const packet = rtp(sequenceNumber, Uint8Array.from({ length: 160 }, (_, i) => i & 0xff));
      const decrypted = peer.srtp.decrypt(Buffer.from(sender.protectRtp(packet)));
      expect(toHex(decrypted)).toBe(toHex(packet));
    }
  });

  it('carries SRTCP both ways', () => {
    const peer = weriftPeer(pbx, node);
    const report = buildReceiverReport(0xabcdef01, [], 'test');
    const sent = new SrtpSender(node).protectRtcp(report);
    expect(toHex(peer.srtcp.decrypt(Buffer.from(sent)))).toBe(toHex(report));
    const fromPeer = peer.srtcp.encrypt(Buffer.from(report));
    const received = new SrtpReceiver(pbx).unprotectRtcp(fromPeer);
    if (!received.ok) throw new Error(`refused: ${received.error}`);
    expect(readRtcpCompound(received.packet).ok).toBe(true);
    expect(toHex(received.packet)).toBe(toHex(report));
  });

  it('refuses a tampered packet, a packet under another key, a replay, and a runt', () => {
    const sender = new SrtpSender(pbx);
    const receiver = new SrtpReceiver(pbx);
    const first = sender.protectRtp(rtp(10, new Uint8Array(160)));
    const tampered = Uint8Array.from(first);
    tampered[20] = (tampered[20] as number) ^ 1;
    expect(receiver.unprotectRtp(tampered)).toEqual({ ok: false, error: 'authentication' });
    expect(new SrtpReceiver(node).unprotectRtp(first)).toEqual({ ok: false, error: 'authentication' });
    expect(receiver.unprotectRtp(first).ok).toBe(true);
    expect(receiver.unprotectRtp(first)).toEqual({ ok: false, error: 'replayed' });
    // Late but within the window: accepted once.
    const second = sender.protectRtp(rtp(11, new Uint8Array(160)));
    const third = sender.protectRtp(rtp(12, new Uint8Array(160)));
    expect(receiver.unprotectRtp(third).ok).toBe(true);
    expect(receiver.unprotectRtp(second).ok).toBe(true);
    expect(receiver.unprotectRtp(second)).toEqual({ ok: false, error: 'replayed' });
    expect(receiver.unprotectRtp(new Uint8Array(15))).toEqual({ ok: false, error: 'too-short' });
    const rtcp = sender.protectRtcp(buildReceiverReport(1, [], 'test'));
    expect(receiver.unprotectRtcp(rtcp).ok).toBe(true);
    expect(receiver.unprotectRtcp(rtcp)).toEqual({ ok: false, error: 'replayed' });
  });
});
