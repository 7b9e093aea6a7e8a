export { decodePcmu, decodePcmuSample, encodePcmu, encodePcmuSample } from './pcmu.ts';
export { decodePcma, decodePcmaSample, encodePcma, encodePcmaSample } from './pcma.ts';
export type { G711Codec, G711Law } from './g711.ts';
export { G711_FRAME_SAMPLES, PCMA, PCMU, g711Codec } from './g711.ts';
export {
  OPUS_MAX_PACKET_MS,
  concealmentPacket,
  opusFrameCount,
  opusFrameSamples,
  opusPacketSamples,
  twentyMillisecondToc,
} from './opus-packet.ts';
export type { OpusOutputRate } from './opus-decoder.ts';
export { OpusDecodeError, OpusPcmDecoder } from './opus-decoder.ts';
export type { OpusComplexity, OpusEncoderOptions } from './opus-encoder.ts';
export { DEFAULT_OPUS_COMPLEXITY, OpusPcmEncoder } from './opus-encoder.ts';
export type { OpusToG711Counters } from './opus-to-g711-transcoder.ts';
export { OpusToG711Transcoder } from './opus-to-g711-transcoder.ts';
export type { G711ToOpusCounters, OpusPacketSink } from './g711-to-opus-transcoder.ts';
export { G711ToOpusTranscoder } from './g711-to-opus-transcoder.ts';
