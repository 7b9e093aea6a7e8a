/**
 * SDES-SRTP on the PBX leg through the control API (RFC 4568, RFC 3711): a real media node, a
 * werift peer as the browser, and a UDP socket as the PBX whose SRTP is werift's own implementation
 * (independent of the node's), keyed from the SDP each side wrote.
 */
import { Buffer } from 'node:buffer';
import { RtpHeader, SrtpSession } from 'werift';
import { describe, expect, it } from 'vitest';
import type { SessionView } from '../../../media-node/control/index.ts';
import { chooseSdesKey, newMasterKey, sdesLine, type MasterKey } from '../../../media-node/srtp/index.ts';
import { buildRtpSdp, newOrigin, parseSdp, serializeSdp, type SdesCrypto } from '../../../shared/sdp/index.ts';
import { PBX_PCMU, opusTone, pcmuTone } from '../support/call-rig.ts';
import type { ProblemBody } from '../support/control-client.ts';
import { browserConnected } from '../support/media-node-rig.ts';
import { useMediaNode } from '../support/node-fixture.ts';
import { pace } from '../support/pacer.ts';
import { rtpAt } from '../support/rtp-at.ts';
import { udpPeer, waitFor, type UdpPeer } from '../support/udp.ts';
import { WeriftBrowser } from '../support/werift-browser.ts';

const { node, newId, track } = useMediaNode('srtp');

function savpSdp(pbx: UdpPeer, cryptos: readonly SdesCrypto[]): string {
  return serializeSdp(buildRtpSdp({ origin: newOrigin({ address: '127.0.0.1' }), address: '127.0.0.1', port: pbx.port, codecs: PBX_PCMU, ptime: 20, crypto: cryptos }));
}

/** The node's key and its RTP port, from the SDP it wrote for the PBX. */
function nodeSide(sdp: string): { key: MasterKey; tag: number; port: number; protocol: string } {
  const media = parseSdp(sdp).media[0];
  if (media === undefined) throw new Error('no media section');
  const chosen = chooseSdesKey(media);
  if (chosen === undefined) throw new Error(`no usable a=crypto in ${sdp}`);
  return { key: chosen.key, tag: chosen.tag, port: media.port, protocol: media.protocol };
}

function pbxSrtp(pbxKey: MasterKey, nodeKey: MasterKey): SrtpSession {
  return new SrtpSession({
    keys: { localMasterKey: Buffer.from(pbxKey.key), localMasterSalt: Buffer.from(pbxKey.salt), remoteMasterKey: Buffer.from(nodeKey.key), remoteMasterSalt: Buffer.from(nodeKey.salt) },
    profile: 1,
  });
}

/** The next `count` SRTP packets at `pbx`, decrypted with `srtp`: their payload types. */
async function decryptedAt(pbx: UdpPeer, srtp: SrtpSession, count: number): Promise<number[]> {
  const packets = await rtpAt(pbx, count, { decrypt: (data) => srtp.decrypt(Buffer.from(data)) });
  return packets.map((packet) => packet.header.payloadType);
}

describe('a PBX that offers RTP/SAVP', () => {
  it('is answered RTP/SAVP with the node’s own key, and audio flows both ways under SRTP', async () => {
    const id = newId();
    const pbx = await track(udpPeer());
    const pbxKey = newMasterKey();
    const offer = savpSdp(pbx, [{ tag: 3, suite: 'AES_256_CM_HMAC_SHA1_80', keys: [{ method: 'inline', keySalt: Buffer.alloc(46, 1).toString('base64') }], sessionParams: [] }, sdesLine(7, pbxKey)]);
    const created = await node.client.request<{ pbxAnswer: string; browserOffer: string }>('POST', '/v1/sessions', { id, pbxOffer: offer });
    expect(created.status).toBe(201);
    const answer = nodeSide(created.body.pbxAnswer);
    expect(answer.protocol).toBe('RTP/SAVP');
    // RFC 4568 §5.1.2: the answer takes the offer's tag, with a key of its own.
    expect(answer.tag).toBe(7);
    expect(Buffer.compare(answer.key.key, pbxKey.key)).not.toBe(0);

    const browser = await track(new WeriftBrowser());
    const answered = await node.client.request('POST', `/v1/sessions/${id}/answer`, { browserAnswer: await browser.answer(created.body.browserOffer) });
    expect(answered.status).toBe(200);
    await browserConnected(node.client, browser, id);

    const srtp = pbxSrtp(pbxKey, answer.key);
    const pcmu = pcmuTone(1000, -10, 150);
    const opus = opusTone(1000, -10, 150);
    const fromPbx = pace(pcmu.length, 20, (i) => {
      const header = new RtpHeader({ payloadType: 0, sequenceNumber: (65500 + i) & 0xffff, timestamp: i * 160, ssrc: 0x5eed });
      void pbx.send(srtp.encrypt(Buffer.from(pcmu[i] as Uint8Array), header), answer.port);
    });
    const fromBrowser = pace(opus.length, 20, (i) => browser.writeAudio(i, 960 * i, opus[i] as Uint8Array));
    try {
      // Across the PBX's sequence number wrap (65500 + 150), so the rollover counter is exercised.
      await waitFor(() => browser.received.length >= 60, 'Opus at the browser from SRTP PCMU', 15_000);
      expect(await decryptedAt(pbx, srtp, 20)).toEqual(new Array(20).fill(0));
      // Forged SRTP (right header, wrong tag) and garbage on the same port: counted, not relayed.
      const forged = srtp.encrypt(Buffer.from(pcmu[0] as Uint8Array), new RtpHeader({ payloadType: 0, sequenceNumber: 9, timestamp: 9, ssrc: 0x5eed }));
      forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 0xff;
      await pbx.send(forged, answer.port);
          let dropped = 0;
      const deadline = performance.now() + 5000;
      while (dropped < 1 && performance.now() < deadline) {
        const view = await node.client.request<SessionView>('GET', `/v1/sessions/${id}`);
        dropped = view.body.stats.pbxLeg.dropped['srtp-authentication'];
      }
      expect(dropped).toBe(1);
    } finally {
      fromPbx.stop();
      fromBrowser.stop();
    }
    const view = await node.client.request<SessionView>('GET', `/v1/sessions/${id}`);
    expect(view.body.stats.errors).toBe(0);
    expect(view.body.stats.pbxLeg.dropped['srtp-replayed']).toBe(0);
  });

  it('is refused 422 no-common-crypto when no a=crypto line is usable', async () => {
    const pbx = await track(udpPeer());
    const offer = savpSdp(pbx, [{ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_32', keys: [{ method: 'inline', keySalt: Buffer.alloc(30, 2).toString('base64') }], sessionParams: [] }]);
    const refused = await node.client.request<ProblemBody>('POST', '/v1/sessions', { id: newId(), pbxOffer: offer });
    expect(refused).toMatchObject({ status: 422, body: { reason: 'no-common-crypto' } });
  });
});

describe('a PBX re-offer on an RTP/SAVP leg', () => {
  it('takes the PBX’s new key, keeps the node’s, and goes on decrypting', async () => {
    const id = newId();
    const pbx = await track(udpPeer());
    const firstKey = newMasterKey();
    const created = await node.client.request<{ pbxAnswer: string; browserOffer: string }>('POST', '/v1/sessions', { id, pbxOffer: savpSdp(pbx, [sdesLine(1, firstKey)]) });
    const answer = nodeSide(created.body.pbxAnswer);
    const browser = await track(new WeriftBrowser());
    await node.client.request('POST', `/v1/sessions/${id}/answer`, { browserAnswer: await browser.answer(created.body.browserOffer) });
    await browserConnected(node.client, browser, id);

    const secondKey = newMasterKey();
    const reoffer = await node.client.request<{ pbxAnswer: string }>('PATCH', `/v1/sessions/${id}`, { pbxOffer: savpSdp(pbx, [sdesLine(2, secondKey)]) });
    expect(reoffer.status).toBe(200);
    const reanswer = nodeSide(reoffer.body.pbxAnswer);
    expect(reanswer.tag).toBe(2);
    expect(Buffer.compare(reanswer.key.key, answer.key.key)).toBe(0);

    // What the PBX sends under its old key is now refused; under the new one it reaches the browser.
    const stale = pbxSrtp(firstKey, answer.key);
    const current = pbxSrtp(secondKey, answer.key);
    const pcmu = pcmuTone(1000, -10, 100);
    await pbx.send(stale.encrypt(Buffer.from(pcmu[0] as Uint8Array), new RtpHeader({ payloadType: 0, sequenceNumber: 1, timestamp: 0, ssrc: 0x77 })), answer.port);
    const fromPbx = pace(pcmu.length, 20, (i) => {
      void pbx.send(current.encrypt(Buffer.from(pcmu[i] as Uint8Array), new RtpHeader({ payloadType: 0, sequenceNumber: 100 + i, timestamp: i * 160, ssrc: 0x77 })), answer.port);
    });
    try {
      await waitFor(() => browser.received.length >= 20, 'Opus at the browser after the rekey', 15_000);
    } finally {
      fromPbx.stop();
    }
    const view = await node.client.request<SessionView>('GET', `/v1/sessions/${id}`);
    expect(view.body.stats.pbxLeg.dropped['srtp-authentication']).toBe(1);
  });
});

describe('a session created with pbxSrtp: sdes', () => {
  it('offers the PBX RTP/SAVP, takes its SDES answer, and sends it SRTP', async () => {
    const id = newId();
    const browser = await track(new WeriftBrowser(['opus']));
    const created = await node.client.request<{ browserAnswer: string; pbxOffer: string }>('POST', '/v1/sessions', { id, browserOffer: await browser.offer(), pbxSrtp: 'sdes' });
    expect(created.status).toBe(201);
    const offered = nodeSide(created.body.pbxOffer);
    expect(offered.protocol).toBe('RTP/SAVP');
    const pbx = await track(udpPeer());
    const pbxKey = newMasterKey();
    const plain = await node.client.request<ProblemBody>('POST', `/v1/sessions/${id}/answer`, {
      pbxAnswer: serializeSdp(buildRtpSdp({ origin: newOrigin({ address: '127.0.0.1' }), address: '127.0.0.1', port: pbx.port, codecs: PBX_PCMU, ptime: 20 })),
    });
    expect(plain).toMatchObject({ status: 422, body: { reason: 'no-common-crypto' } });
    const answered = await node.client.request('POST', `/v1/sessions/${id}/answer`, { pbxAnswer: savpSdp(pbx, [sdesLine(offered.tag, pbxKey)]) });
    expect(answered.status).toBe(200);
    await browser.acceptAnswer(created.body.browserAnswer);
    await browserConnected(node.client, browser, id);
    const srtp = pbxSrtp(pbxKey, offered.key);
    const opus = opusTone(1000, -10, 150);
    const sender = pace(opus.length, 20, (i) => browser.writeAudio(i, 960 * i, opus[i] as Uint8Array));
    try {
      expect(await decryptedAt(pbx, srtp, 20)).toEqual(new Array(20).fill(0));
    } finally {
      sender.stop();
    }
  });
});
