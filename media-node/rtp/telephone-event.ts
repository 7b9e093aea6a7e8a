/**
 * RFC 4733 telephone-event payloads (DTMF and other named events).
 *
 * RFC 4733 §2.3:
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     event     |E|R| volume    |          duration             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The duration counts timestamp units of the stream's clock (§2.3.5), and RFC 4733 has events
 * share the clock of the audio they accompany. So when the audio is transcoded between Opus (48 kHz, RFC 7587 §4.1) and G.711
 * (8 kHz), an event crossing over needs its duration rescaled as well as its payload type remapped.
 */
import { err, ok, type Result } from '../result.ts';

export const TELEPHONE_EVENT_SIZE = 4;

export interface TelephoneEvent {
  /** Event code, 0-255; DTMF digits are 0-15 (RFC 4733 §3.2). */
  readonly event: number;
  /** The E bit: this packet reports the end of the event. */
  readonly end: boolean;
  /** Power level in -dBm0, 0-63 (RFC 4733 §2.3.4). */
  readonly volume: number;
  /** Duration so far, in timestamp units, 0-65535. */
  readonly duration: number;
}

/** RFC 4733 §3.2: events 0-15 are these DTMF keys. */
export const DTMF_KEYS = '0123456789*#ABCD';

export function readTelephoneEvent(payload: Uint8Array): Result<TelephoneEvent, 'too-short'> {
  // RFC 4733 §2.5.1.5 lets one packet carry several event blocks; the first is returned here, and
  // a relay passes the payload through whole.
  if (payload.length < TELEPHONE_EVENT_SIZE) return err('too-short');
  const flags = payload[1] as number;
  return ok({
    event: payload[0] as number,
    end: (flags & 0x80) !== 0,
    volume: flags & 0x3f,
    duration: ((payload[2] as number) << 8) | (payload[3] as number),
  });
}

/** Writes one event block into `out` (R, the reserved bit, is sent as zero: RFC 4733 §2.3). */
export function writeTelephoneEvent(event: TelephoneEvent, out: Uint8Array): void {
  if (out.length < TELEPHONE_EVENT_SIZE) throw new RangeError('a telephone-event payload needs 4 octets');
  out[0] = event.event & 0xff;
  out[1] = (event.end ? 0x80 : 0) | (event.volume & 0x3f);
  out[2] = (event.duration >> 8) & 0xff;
  out[3] = event.duration & 0xff;
}

/**
 * Rescales the duration field of an event payload, in place, from one clock rate to another.
 * A duration that would exceed 16 bits is held at 65,535: RFC 4733 §2.5.1.3 has the sender split
 * such long events into segments, which a relay would have to redo with its own state.
 */
export function rescaleTelephoneEventDuration(payload: Uint8Array, fromClockRate: number, toClockRate: number): void {
  if (payload.length < TELEPHONE_EVENT_SIZE) throw new RangeError('a telephone-event payload needs 4 octets');
  const duration = ((payload[2] as number) << 8) | (payload[3] as number);
  const scaled = Math.min(0xffff, Math.round((duration * toClockRate) / fromClockRate));
  payload[2] = (scaled >> 8) & 0xff;
  payload[3] = scaled & 0xff;
}
