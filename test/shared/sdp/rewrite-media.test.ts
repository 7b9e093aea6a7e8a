import { describe, expect, it } from 'vitest';
import { connectionOf, mediaDirection, parseSdp, rejectMedia, rewriteMedia, SdpError, serializeSdp, updateMedia } from '../../../shared/sdp/index.ts';
import { fixture } from './fixtures/index.ts';

const mediaNode = { address: '203.0.113.200', port: 40000 };

describe('pointing media at the media node', () => {
  it('replaces the address and port of an Asterisk offer', () => {
    const text = serializeSdp(rewriteMedia(parseSdp(fixture('asterisk-20-offer')), mediaNode));
    expect(text).toContain('\r\nc=IN IP4 203.0.113.200\r\n');
    expect(text).toContain('\r\nm=audio 40000 RTP/AVP 0 8 101\r\n');
    expect(text).not.toContain('192.0.2.10\r\nt=');
    const session = parseSdp(text);
    const media = session.media[0];
    if (media === undefined) throw new Error('no media');
    expect(connectionOf(session, media)).toEqual({ version: 4, ip: '203.0.113.200' });
  });

  it('keeps the o= line, which belongs to the leg that sends the description', () => {
    const session = rewriteMedia(parseSdp(fixture('asterisk-20-offer')), mediaNode);
    expect(session.origin.address).toBe('192.0.2.10');
  });

  it('changes the transport protocol when asked, as toward a PBX', () => {
    const session = rewriteMedia(parseSdp(fixture('freeswitch-g722-srtp-offer')), { ...mediaNode, protocol: 'RTP/AVP' });
    expect(session.media[0]?.protocol).toBe('RTP/AVP');
  });

  it("drops an a=rtcp that names the old address, or writes the node's own", () => {
    const offer = parseSdp(fixture('freeswitch-g722-srtp-offer'));
    expect(rewriteMedia(offer, mediaNode).media[0]?.rtcp).toBeUndefined();
    expect(serializeSdp(rewriteMedia(offer, { ...mediaNode, rtcpPort: 40001 }))).toContain('\r\na=rtcp:40001 IN IP4 203.0.113.200\r\n');
  });

  it('writes IP6 for an IPv6 media node', () => {
    const text = serializeSdp(rewriteMedia(parseSdp(fixture('asterisk-20-offer')), { address: '2001:db8::200', port: 40000 }));
    expect(text).toContain('\r\nc=IN IP6 2001:db8::200\r\n');
  });

  it('turns an RFC 2543 c=0.0.0.0 hold into a sendonly attribute, so the hold survives the new address', () => {
    const session = rewriteMedia(parseSdp(fixture('legacy-hold-zero-address-reoffer')), mediaNode);
    const media = session.media[0];
    if (media === undefined) throw new Error('no media');
    expect(mediaDirection(session, media)).toMatchObject({ direction: 'sendonly', legacyHold: false });
  });

  it('leaves rejected sections at port zero, and unselected sections at their old address', () => {
    const offer = parseSdp(fixture('chrome-audio-video-offer'));
    const withRejectedVideo = updateMedia(offer, 1, rejectMedia);
    const rewritten = rewriteMedia(withRejectedVideo, mediaNode);
    expect(rewritten.media[1]?.port).toBe(0);
    const audioOnly = rewriteMedia(offer, { ...mediaNode, select: (media) => media.type === 'audio' });
    expect(audioOnly.media.map((media) => [media.port, media.connection?.ip])).toEqual([
      [40000, '203.0.113.200'],
      [57283, '198.51.100.77'],
    ]);
  });

  it('gives each section its own port when asked', () => {
    const offer = parseSdp(fixture('chrome-audio-video-offer'));
    const rewritten = rewriteMedia(offer, { address: mediaNode.address, port: (_media, index) => 40000 + 2 * index });
    expect(rewritten.media.map((media) => media.port)).toEqual([40000, 40002]);
  });

  it('refuses a port out of range', () => {
    expect(() => rewriteMedia(parseSdp(fixture('asterisk-20-offer')), { address: '203.0.113.200', port: 70000 })).toThrow(SdpError);
  });

  it('leaves the session it was given untouched', () => {
    const offer = parseSdp(fixture('asterisk-20-offer'));
    const before = structuredClone(offer);
    rewriteMedia(offer, mediaNode);
    expect(offer).toEqual(before);
  });
});
