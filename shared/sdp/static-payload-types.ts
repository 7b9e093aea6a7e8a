/**
 * The static RTP payload types of RFC 3551 §6 (Tables 4 and 5), which an `m=` line may list without
 * an `a=rtpmap` (RFC 8866 §6.6 makes rtpmap mandatory only for dynamic types, 96-127). PBXs and
 * carriers still send `m=audio ... RTP/AVP 0 8 18` with no rtpmap at all.
 */

export interface StaticPayloadType {
  readonly name: string;
  /** The RTP timestamp clock rate, which RFC 3551 fixes for each static type. */
  readonly clockRate: number;
  readonly channels: number;
}

const table: Readonly<Record<number, StaticPayloadType>> = {
  0: { name: 'PCMU', clockRate: 8000, channels: 1 },
  3: { name: 'GSM', clockRate: 8000, channels: 1 },
  4: { name: 'G723', clockRate: 8000, channels: 1 },
  5: { name: 'DVI4', clockRate: 8000, channels: 1 },
  6: { name: 'DVI4', clockRate: 16000, channels: 1 },
  7: { name: 'LPC', clockRate: 8000, channels: 1 },
  8: { name: 'PCMA', clockRate: 8000, channels: 1 },
  // RFC 3551 §4.5.2: G.722 samples at 16 kHz, but its RTP clock rate is 8000 "because that value was
  // erroneously assigned in RFC 1890 and must remain unchanged for backward compatibility".
  9: { name: 'G722', clockRate: 8000, channels: 1 },
  10: { name: 'L16', clockRate: 44100, channels: 2 },
  11: { name: 'L16', clockRate: 44100, channels: 1 },
  12: { name: 'QCELP', clockRate: 8000, channels: 1 },
  13: { name: 'CN', clockRate: 8000, channels: 1 },
  14: { name: 'MPA', clockRate: 90000, channels: 1 },
  15: { name: 'G728', clockRate: 8000, channels: 1 },
  16: { name: 'DVI4', clockRate: 11025, channels: 1 },
  17: { name: 'DVI4', clockRate: 22050, channels: 1 },
  18: { name: 'G729', clockRate: 8000, channels: 1 },
  25: { name: 'CelB', clockRate: 90000, channels: 1 },
  26: { name: 'JPEG', clockRate: 90000, channels: 1 },
  28: { name: 'nv', clockRate: 90000, channels: 1 },
  31: { name: 'H261', clockRate: 90000, channels: 1 },
  32: { name: 'MPV', clockRate: 90000, channels: 1 },
  33: { name: 'MP2T', clockRate: 90000, channels: 1 },
  34: { name: 'H263', clockRate: 90000, channels: 1 },
};

/** The codec a static payload type stands for, or undefined for dynamic and unassigned numbers. */
export function staticPayloadType(payloadType: number): StaticPayloadType | undefined {
  return table[payloadType];
}
