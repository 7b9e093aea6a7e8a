export type { BufferedPacket, JitterBufferCounters, JitterBufferOptions, Playout, PushOutcome } from './jitter-buffer.ts';
export { JitterBuffer } from './jitter-buffer.ts';
