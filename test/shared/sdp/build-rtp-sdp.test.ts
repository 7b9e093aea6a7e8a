import { describe, expect, it } from 'vitest';
import {
  buildRtpSdp,
  listCodecs,
  negotiateCodecs,
  newOrigin,
  parseSdp,
  SdpError,
  sdesCryptos,
  serializeSdp,
  type SdesCrypto,
} from '../../../shared/sdp/index.ts';
import { fixture } from './fixtures/index.ts';

const origin = newOrigin({ address: '203.0.113.200', sessionId: '3940204481', sessionVersion: '1' });
const g711 = [
  { payloadType: 0, name: 'PCMU', clockRate: 8000 },
  { payloadType: 8, name: 'PCMA', clockRate: 8000 },
  { payloadType: 101, name: 'telephone-event', clockRate: 8000, fmtp: '0-16' },
];

describe('building the plain RTP description for the PBX leg', () => {
  it('writes the offer an Asterisk or FreeSWITCH peer expects', () => {
    const text = serializeSdp(buildRtpSdp({ origin, address: '203.0.113.200', port: 40000, codecs: g711, ptime: 20 }));
    expect(text).toBe(
      [
        'v=0',
        'o=- 3940204481 1 IN IP4 203.0.113.200',
        's=-',
        'c=IN IP4 203.0.113.200',
        't=0 0',
        'm=audio 40000 RTP/AVP 0 8 101',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-16',
        'a=ptime:20',
        'a=sendrecv',
        '',
      ].join('\r\n'),
    );
  });

  it('reads back the codecs it was given', () => {
    const session = parseSdp(serializeSdp(buildRtpSdp({ origin, address: '203.0.113.200', port: 40000, codecs: g711 })));
    const media = session.media[0];
    if (media === undefined) throw new Error('no media');
    expect(listCodecs(media).map((codec) => [codec.payloadType, codec.name, codec.clockRate])).toEqual([
      [0, 'PCMU', 8000],
      [8, 'PCMA', 8000],
      [101, 'telephone-event', 8000],
    ]);
  });

  it('answers a FreeSWITCH offer with the codecs negotiated from it, on hold when asked', () => {
    const offer = parseSdp(fixture('freeswitch-g722-srtp-offer')).media[0];
    if (offer === undefined) throw new Error('no media');
    const codecs = negotiateCodecs(offer, [
      { name: 'G722', clockRate: 8000 },
      { name: 'telephone-event', clockRate: 8000, fmtp: '0-16' },
    ]);
    const text = serializeSdp(buildRtpSdp({ origin, address: '203.0.113.200', port: 40002, codecs, direction: 'recvonly' }));
    expect(text).toContain('\r\nm=audio 40002 RTP/AVP 9 101\r\na=rtpmap:9 G722/8000\r\n');
    expect(text).toContain('\r\na=recvonly\r\n');
  });

  it('offers RTP/SAVP with SDES keys when given them', () => {
    const crypto: SdesCrypto = { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keys: [{ method: 'inline', keySalt: '9xz+qPZFoMYzJx4CR8N4vTXuDOhCkggTUcm0LSqx' }], sessionParams: [] };
    const session = parseSdp(serializeSdp(buildRtpSdp({ origin, address: '203.0.113.200', port: 40000, codecs: g711, crypto: [crypto] })));
    const media = session.media[0];
    if (media === undefined) throw new Error('no media');
    expect(media.protocol).toBe('RTP/SAVP');
    expect(sdesCryptos(media)).toEqual([crypto]);
  });

  it('writes an explicit a=rtcp for a node whose RTCP is not on the next port', () => {
    const text = serializeSdp(buildRtpSdp({ origin, address: '203.0.113.200', port: 40000, codecs: g711, rtcpPort: 50001 }));
    expect(text).toContain('\r\na=rtcp:50001 IN IP4 203.0.113.200\r\n');
  });

  it('refuses to build a section without codecs or with an impossible port', () => {
    expect(() => buildRtpSdp({ origin, address: '203.0.113.200', port: 40000, codecs: [] })).toThrow(SdpError);
    expect(() => buildRtpSdp({ origin, address: '203.0.113.200', port: -1, codecs: g711 })).toThrow(SdpError);
  });
});
