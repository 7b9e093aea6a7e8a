/**
 * What the media node needs to know about an Opus packet without decoding it: its duration, and a
 * packet that makes libopus conceal one missing 20 ms frame.
 *
 * RFC 6716 §3.1: the first octet (TOC) holds the configuration (mode, bandwidth, frame size) in its
 * top five bits, a stereo flag, and a two-bit frame count code.
 */

/** Frame durations in units of 2.5 ms (so all are integers), indexed by configuration number. */
const FRAME_QUARTERS: readonly number[] = [
  // 0..11 SILK-only (NB, MB, WB): 10, 20, 40, 60 ms
  4, 8, 16, 24, 4, 8, 16, 24, 4, 8, 16, 24,
  // 12..15 hybrid (SWB, FB): 10, 20 ms
  4, 8, 4, 8,
  // 16..31 CELT-only (NB, WB, SWB, FB): 2.5, 5, 10, 20 ms
  1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8,
];

/** RFC 6716 §3.2.5: a packet carries at most 120 ms of audio. */
export const OPUS_MAX_PACKET_MS = 120;

/** Duration of one frame of this TOC's configuration, in samples at `sampleRate`. */
export function opusFrameSamples(toc: number, sampleRate: number): number {
  const quarters = FRAME_QUARTERS[(toc >> 3) & 0x1f] as number;
  return (quarters * sampleRate) / 400;
}

/**
 * Number of frames in a packet (RFC 6716 §3.2: code 0 = one, codes 1 and 2 = two, code 3 = the
 * count in the low six bits of the second octet), or 0 if the packet is too short to say.
 */
export function opusFrameCount(packet: Uint8Array): number {
  if (packet.length === 0) return 0;
  const code = (packet[0] as number) & 0x03;
  if (code === 0) return 1;
  if (code !== 3) return 2;
  return packet.length >= 2 ? (packet[1] as number) & 0x3f : 0;
}

/** Duration of the packet in samples at `sampleRate`, or 0 if it is malformed. */
export function opusPacketSamples(packet: Uint8Array, sampleRate: number): number {
  const frames = opusFrameCount(packet);
  if (frames === 0) return 0;
  const samples = frames * opusFrameSamples(packet[0] as number, sampleRate);
  return samples > (OPUS_MAX_PACKET_MS * sampleRate) / 1000 ? 0 : samples;
}

/**
 * The TOC of a 20 ms frame in the same mode and bandwidth as `toc`: SILK configurations step by
 * four (10/20/40/60 ms), hybrid by two (10/20), CELT by four ending at 20 ms (RFC 6716 §3.1, Table 2).
 */
export function twentyMillisecondToc(toc: number): number {
  const config = (toc >> 3) & 0x1f;
  let twenty: number;
  if (config < 12) twenty = (config & ~3) | 1;
  else if (config < 16) twenty = (config & ~1) | 1;
  else twenty = config | 3;
  return twenty << 3; // mono, code 0: one frame
}

/**
 * A one-octet packet whose only frame is empty. RFC 6716 §3.2.1 allows zero-length frames (that is
 * how DTX is signalled), and libopus conceals an empty frame exactly as it conceals a lost packet,
 * for the duration the TOC states. The bindings refuse an empty buffer, so this is how the media
 * node asks the decoder for packet-loss concealment.
 */
export function concealmentPacket(lastToc: number): Uint8Array {
  return Uint8Array.of(twentyMillisecondToc(lastToc));
}
