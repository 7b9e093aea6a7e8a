import { describe, expect, it } from 'vitest';
import {
  chooseCrypto,
  decodeKeySalt,
  encodeKeySalt,
  parseCrypto,
  parseSdp,
  SdpError,
  sdesCryptos,
  serializeCrypto,
  serializeSdp,
  setCryptos,
  type SdpMedia,
} from '../../../shared/sdp/index.ts';
import { fixture } from './fixtures/index.ts';

function freeswitchAudio(): SdpMedia {
  const media = parseSdp(fixture('freeswitch-g722-srtp-offer')).media[0];
  if (media === undefined) throw new Error('no media');
  return media;
}

describe('reading SDES crypto lines (RFC 4568)', () => {
  it("reads FreeSWITCH's four offered suites in its order of preference", () => {
    const cryptos = sdesCryptos(freeswitchAudio());
    expect(cryptos.map((crypto) => [crypto.tag, crypto.suite])).toEqual([
      [1, 'AES_CM_256_HMAC_SHA1_80'],
      [2, 'AES_CM_256_HMAC_SHA1_32'],
      [3, 'AES_CM_128_HMAC_SHA1_80'],
      [4, 'AES_CM_128_HMAC_SHA1_32'],
    ]);
  });

  it('reads the inline key, its lifetime and its MKI', () => {
    const crypto = sdesCryptos(freeswitchAudio())[2];
    expect(crypto?.keys).toEqual([{ method: 'inline', keySalt: '9xz+qPZFoMYzJx4CR8N4vTXuDOhCkggTUcm0LSqx', lifetime: '2^31', mki: { value: 1, length: 1 } }]);
  });

  it('decodes 30 octets of key and salt for AES_CM_128 and 46 for the 256-bit suites', () => {
    const [aes256, , aes128] = sdesCryptos(freeswitchAudio());
    const key128 = aes128?.keys[0];
    const key256 = aes256?.keys[0];
    if (key128 === undefined || key256 === undefined) throw new Error('missing keys');
    expect(decodeKeySalt(key128)).toHaveLength(30);
    expect(decodeKeySalt(key256)).toHaveLength(46);
    expect(encodeKeySalt(decodeKeySalt(key128))).toBe(key128.keySalt);
  });

  it('reads session parameters and writes the line back as received', () => {
    const line = 'crypto:7 AES_CM_128_HMAC_SHA1_80 inline:9xz+qPZFoMYzJx4CR8N4vTXuDOhCkggTUcm0LSqx|1048576 KDR=1 UNENCRYPTED_SRTCP';
    const crypto = parseCrypto(`a=${line}`);
    expect(crypto).toMatchObject({ tag: 7, sessionParams: ['KDR=1', 'UNENCRYPTED_SRTCP'], keys: [{ lifetime: '1048576' }] });
    expect(serializeCrypto(crypto)).toBe(line);
  });

  it('reads several keys in one line', () => {
    const crypto = parseCrypto('1 AES_CM_128_HMAC_SHA1_80 inline:9xz+qPZFoMYzJx4CR8N4vTXuDOhCkggTUcm0LSqx|2^20|1:4;inline:euj27oY7fxr0mr9VDJXoRzmi1jqNQXn7U8vCZade|2^20|2:4');
    expect(crypto.keys.map((key) => key.mki)).toEqual([
      { value: 1, length: 4 },
      { value: 2, length: 4 },
    ]);
  });

  it.each([
    ['no key', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80'],
    ['a key that is not base64', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:not*base64'],
    ['no key method', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 9xz+qPZFoMYzJx4CR8N4vTXuDOhCkggTUcm0LSqx'],
    ['a tag that is not a number', 'a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:9xz+qPZFoMYzJx4CR8N4vTXuDOhCkggTUcm0LSqx'],
    ['a lifetime after the MKI', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:9xz+qPZFoMYzJx4CR8N4vTXuDOhCkggTUcm0LSqx|1:4|2^20'],
  ])('refuses a line with %s', (_case, line) => {
    expect(() => parseCrypto(line)).toThrow(SdpError);
  });
});

describe('choosing and writing SDES keys', () => {
  it("takes the offerer's most preferred line among the suites the answerer supports", () => {
    const chosen = chooseCrypto(sdesCryptos(freeswitchAudio()), ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']);
    expect(chosen?.tag).toBe(3);
    expect(chooseCrypto(sdesCryptos(freeswitchAudio()), ['AEAD_AES_128_GCM'])).toBeUndefined();
  });

  it('writes the chosen line alone into an answer section', () => {
    const media = freeswitchAudio();
    const chosen = chooseCrypto(sdesCryptos(media), ['AES_CM_128_HMAC_SHA1_80']);
    if (chosen === undefined) throw new Error('nothing chosen');
    const session = parseSdp(fixture('freeswitch-g722-srtp-offer'));
    const text = serializeSdp({ ...session, media: [setCryptos(media, [chosen])] });
    expect(text.split('\r\n').filter((line) => line.startsWith('a=crypto:'))).toEqual([
      'a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:9xz+qPZFoMYzJx4CR8N4vTXuDOhCkggTUcm0LSqx|2^31|1:1',
    ]);
  });
});
