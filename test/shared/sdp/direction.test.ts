import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  answerDirection,
  isOnHold,
  mediaDirection,
  parseSdp,
  setDirection,
  type Direction,
  type SdpSession,
} from '../../../shared/sdp/index.ts';
import { fixture, type FixtureName } from './fixtures/index.ts';

function directionOf(session: SdpSession) {
  const media = session.media[0];
  if (media === undefined) throw new Error('no media');
  return { ...mediaDirection(session, media), onHold: isOnHold(session, media) };
}

function read(name: FixtureName) {
  return directionOf(parseSdp(fixture(name)));
}

const DIRECTIONS: readonly Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

describe('reading the direction of a media section', () => {
  it('reads an active call as sendrecv, not on hold', () => {
    expect(read('asterisk-20-offer')).toEqual({ direction: 'sendrecv', declared: 'sendrecv', source: 'media', legacyHold: false, onHold: false });
  });

  it('reads a sendonly re-offer from Asterisk or Chrome as a hold', () => {
    expect(read('asterisk-20-hold-sendonly-reoffer')).toMatchObject({ direction: 'sendonly', onHold: true, legacyHold: false });
    expect(read('chrome-hold-sendonly-reoffer')).toMatchObject({ direction: 'sendonly', onHold: true });
  });

  it('reads the RFC 2543 c=0.0.0.0 form as a hold, and says that is how it was signalled', () => {
    expect(read('legacy-hold-zero-address-reoffer')).toEqual({
      direction: 'sendonly',
      declared: 'sendrecv',
      source: 'media',
      legacyHold: true,
      onHold: true,
    });
  });

  it('does not read the 0.0.0.0 placeholder of a WebRTC offer whose candidates come later as a hold', () => {
    const chrome = fixture('chrome-audio-offer');
    const trickled = chrome.replace(/^c=IN IP4 .*$/m, 'c=IN IP4 0.0.0.0').replace(/^a=candidate:.*\r\n/gm, '');
    expect(trickled).toContain('a=ice-ufrag:');
    expect(directionOf(parseSdp(trickled))).toMatchObject({ direction: 'sendrecv', legacyHold: false, onHold: false });
  });

  it('reads c=0.0.0.0 with recvonly as inactive', () => {
    const text = fixture('legacy-hold-zero-address-reoffer').replace('a=sendrecv', 'a=recvonly');
    expect(directionOf(parseSdp(text)).direction).toBe('inactive');
  });

  it('takes a session-level direction when the section has none, and the media level over it', () => {
    const sessionLevel = fixture('asterisk-20-offer').replace('a=sendrecv\r\n', '').replace('t=0 0\r\n', 't=0 0\r\na=inactive\r\n');
    expect(directionOf(parseSdp(sessionLevel))).toMatchObject({ direction: 'inactive', source: 'session' });
    const both = fixture('asterisk-20-offer').replace('t=0 0\r\n', 't=0 0\r\na=inactive\r\n');
    expect(directionOf(parseSdp(both))).toMatchObject({ direction: 'sendrecv', source: 'media' });
  });

  it('defaults to sendrecv when no direction is written (RFC 8866 §6.7)', () => {
    const none = fixture('asterisk-20-offer').replace('a=sendrecv\r\n', '');
    expect(directionOf(parseSdp(none))).toMatchObject({ direction: 'sendrecv', source: 'default', onHold: false });
  });
});

describe('setting a direction', () => {
  it('writes an explicit attribute on a copy of the section', () => {
    const session = parseSdp(fixture('asterisk-20-offer'));
    const media = session.media[0];
    if (media === undefined) throw new Error('no media');
    const held = setDirection(media, 'sendonly');
    expect(held.direction).toBe('sendonly');
    expect(media.direction).toBe('sendrecv');
  });
});

describe('answering a direction (RFC 3264 §6.1)', () => {
  it.each([
    ['sendrecv', 'sendrecv'],
    ['sendonly', 'recvonly'],
    ['recvonly', 'sendonly'],
    ['inactive', 'inactive'],
  ] as const)('answers an offered %s with %s', (offered, answered) => {
    expect(answerDirection(offered)).toBe(answered);
  });

  it("narrows the answer to what the answerer is willing to do", () => {
    expect(answerDirection('sendrecv', 'recvonly')).toBe('recvonly');
    expect(answerDirection('sendonly', 'sendonly')).toBe('inactive');
    expect(answerDirection('recvonly', 'inactive')).toBe('inactive');
  });

  it('never answers with a send the offerer does not receive, nor a receive the offerer does not send', () => {
    const sends = (d: Direction) => d === 'sendrecv' || d === 'sendonly';
    const receives = (d: Direction) => d === 'sendrecv' || d === 'recvonly';
    fc.assert(
      fc.property(fc.constantFrom(...DIRECTIONS), fc.constantFrom(...DIRECTIONS), (offered, local) => {
        const answered = answerDirection(offered, local);
        if (sends(answered)) expect(receives(offered) && sends(local)).toBe(true);
        if (receives(answered)) expect(sends(offered) && receives(local)).toBe(true);
      }),
    );
  });
});
