import { describe, expect, it } from 'vitest';
import {
  invertPayloadTypes,
  listCodecs,
  mapPayloadTypes,
  parseSdp,
  translatePayloadType,
  type SdpMedia,
} from '../../../shared/sdp/index.ts';
import { fixture, type FixtureName } from './fixtures/index.ts';

function media(name: FixtureName, index = 0): SdpMedia {
  const section = parseSdp(fixture(name)).media[index];
  if (section === undefined) throw new Error(`${name} has no media section ${String(index)}`);
  return section;
}

describe('mapping payload types between the two legs of a call', () => {
  it('maps telephone-event 126 on the browser leg to 101 on the Asterisk leg, by name and clock rate', () => {
    const pairs = mapPayloadTypes(media('chrome-audio-offer'), media('asterisk-20-offer'));
    expect(pairs.map((pair) => [pair.name, pair.from, pair.to])).toEqual([
      ['PCMU', 0, 0],
      ['PCMA', 8, 8],
      ['telephone-event', 126, 101],
    ]);
  });

  it('does not map telephone-event/48000 onto telephone-event/8000', () => {
    const pairs = mapPayloadTypes(media('chrome-audio-offer'), media('asterisk-20-offer'));
    expect(translatePayloadType(pairs, 110)).toBeUndefined();
  });

  it('maps Opus 111 from Chrome to Opus 109 from Firefox and back', () => {
    const pairs = mapPayloadTypes(media('chrome-audio-offer'), media('firefox-audio-offer'));
    expect(translatePayloadType(pairs, 111)).toBe(109);
    expect(translatePayloadType(pairs, 126)).toBe(101);
    expect(translatePayloadType(pairs, 9)).toBe(9);
    expect(translatePayloadType(invertPayloadTypes(pairs), 109)).toBe(111);
  });

  it('maps Opus 111 to Opus 96 when another leg numbers it so', () => {
    const otherLeg = listCodecs(media('chrome-audio-offer')).map((codec) => (codec.name === 'opus' ? { ...codec, payloadType: 96 } : codec));
    expect(translatePayloadType(mapPayloadTypes(media('chrome-audio-offer'), otherLeg), 111)).toBe(96);
  });

  it('does not map Opus stereo onto a mono entry of the same name', () => {
    const mono = listCodecs(media('chrome-audio-offer')).map((codec) => (codec.name === 'opus' ? { ...codec, channels: 1 } : codec));
    expect(translatePayloadType(mapPayloadTypes(media('chrome-audio-offer'), mono), 111)).toBeUndefined();
  });

  it('pairs H.264 entries only with the same packetization mode, and RTX through its apt', () => {
    const chrome = listCodecs(media('chrome-audio-video-offer', 1));
    // A leg that numbers its video differently: packetization-mode=1 at 122 (RTX 123), mode 0 at 124.
    const renumbered = chrome.map((codec) => {
      if (codec.payloadType === 102) return { ...codec, payloadType: 122 };
      if (codec.payloadType === 103) return { ...codec, payloadType: 123, fmtp: 'apt=122', parameters: { apt: '122' } };
      if (codec.payloadType === 104) return { ...codec, payloadType: 124 };
      if (codec.payloadType === 105) return { ...codec, payloadType: 125, fmtp: 'apt=124', parameters: { apt: '124' } };
      return codec;
    });
    const pairs = mapPayloadTypes(chrome, renumbered);
    expect(translatePayloadType(pairs, 102)).toBe(122);
    expect(translatePayloadType(pairs, 103)).toBe(123);
    expect(translatePayloadType(pairs, 104)).toBe(124);
    expect(translatePayloadType(pairs, 105)).toBe(125);
    expect(translatePayloadType(pairs, 96)).toBe(96);
  });

  it('leaves out codecs the other leg lacks', () => {
    const pairs = mapPayloadTypes(media('freeswitch-g722-srtp-offer'), media('asterisk-20-offer'));
    expect(pairs.map((pair) => pair.name)).toEqual(['PCMU', 'PCMA', 'telephone-event']);
  });
});
