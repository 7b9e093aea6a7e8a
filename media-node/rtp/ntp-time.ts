/**
 * NTP timestamps as RTCP carries them (RFC 3550 §4): seconds since 1 January 1900 as a 32.32
 * fixed-point number, and the "compact" middle 32 bits (16.16) used by the LSR and DLSR fields of a
 * report block (RFC 3550 §6.4.1).
 */

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_SECONDS = 2_208_988_800;

/** The full 64-bit NTP timestamp for a Unix time in milliseconds. */
export function ntpFromUnixMs(unixMs: number): bigint {
  const seconds = Math.floor(unixMs / 1000);
  const fraction = Math.floor(((unixMs - seconds * 1000) / 1000) * 2 ** 32);
  return (BigInt(seconds + NTP_UNIX_OFFSET_SECONDS) << 32n) | BigInt(fraction);
}

/** The compact (middle 32 bits) form of a 64-bit NTP timestamp. */
export function compactNtp(ntp: bigint): number {
  return Number((ntp >> 16n) & 0xffff_ffffn);
}

/** The compact NTP time, in units of 1/65536 s, for a Unix time in milliseconds. */
export function compactNtpFromUnixMs(unixMs: number): number {
  return Math.floor(((unixMs / 1000 + NTP_UNIX_OFFSET_SECONDS) * 65536) % 2 ** 32) >>> 0;
}

/** Converts a compact NTP interval (1/65536 s) to milliseconds. */
export function compactIntervalToMs(interval: number): number {
  return (interval * 1000) / 65536;
}

/** Converts milliseconds to a compact NTP interval (1/65536 s), as DLSR needs. */
export function msToCompactInterval(ms: number): number {
  return Math.round((ms * 65536) / 1000) >>> 0;
}
