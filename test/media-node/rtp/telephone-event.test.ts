import { describe, expect, it } from 'vitest';
import { DTMF_KEYS, readTelephoneEvent, rescaleTelephoneEventDuration, writeTelephoneEvent } from '../../../media-node/rtp/index.ts';

describe('RFC 4733 telephone-event payloads', () => {
  it('reads the final packet of a DTMF 5 at -10 dBm0 lasting 100 ms at 8 kHz', () => {
    const result = readTelephoneEvent(Uint8Array.of(0x05, 0x8a, 0x03, 0x20));
    expect(result).toEqual({ ok: true, value: { event: 5, end: true, volume: 10, duration: 800 } });
    expect(DTMF_KEYS[5]).toBe('5');
  });

  it('writes what it reads, with the reserved bit zero', () => {
    const out = new Uint8Array(4);
    writeTelephoneEvent({ event: 11, end: false, volume: 63, duration: 65535 }, out);
    expect([...out]).toEqual([0x0b, 0x3f, 0xff, 0xff]);
    expect(readTelephoneEvent(out)).toEqual({ ok: true, value: { event: 11, end: false, volume: 63, duration: 65535 } });
    expect(DTMF_KEYS[11]).toBe('#');
  });

  it('refuses a payload shorter than one event block', () => {
    expect(readTelephoneEvent(Uint8Array.of(1, 2, 3))).toEqual({ ok: false, error: 'too-short' });
  });

  it('rescales the duration between the 8 kHz and 48 kHz clocks, holding at the 16-bit limit', () => {
    const payload = Uint8Array.of(0x05, 0x8a, 0x03, 0x20);
    rescaleTelephoneEventDuration(payload, 8000, 48000);
    expect(readTelephoneEvent(payload).ok && readTelephoneEvent(payload)).toMatchObject({ value: { duration: 4800, event: 5, end: true } });
    rescaleTelephoneEventDuration(payload, 48000, 8000);
    expect([...payload]).toEqual([0x05, 0x8a, 0x03, 0x20]);
    const long = Uint8Array.of(1, 0, 0x40, 0x00); // 16,384 ticks at 8 kHz: 2 s
    rescaleTelephoneEventDuration(long, 8000, 48000);
    expect([long[2], long[3]]).toEqual([0xff, 0xff]);
  });
});
