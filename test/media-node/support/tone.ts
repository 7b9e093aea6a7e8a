/** Test signals: sine tones cut into frames, as a microphone or a PBX would deliver them. */

/** `count` samples of a sine starting at sample `start` (so consecutive frames join seamlessly). */
export function sine(frequency: number, sampleRate: number, amplitude: number, start: number, count: number): Int16Array {
  const out = new Int16Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * (start + i)) / sampleRate));
  return out;
}

/** `frames` consecutive frames of `frameSamples` each of one continuous sine. */
export function sineFrames(frequency: number, sampleRate: number, amplitude: number, frameSamples: number, frames: number): Int16Array[] {
  return Array.from({ length: frames }, (_, f) => sine(frequency, sampleRate, amplitude, f * frameSamples, frameSamples));
}

/** Joins frames of samples into one array. */
export function concatSamples(frames: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((sum, frame) => sum + frame.length, 0));
  let offset = 0;
  for (const frame of frames) {
    out.set(frame, offset);
    offset += frame.length;
  }
  return out;
}

/** Amplitude of a sine at `dbfs` relative to full scale. */
export function amplitudeAt(dbfs: number): number {
  return 32767 * 10 ** (dbfs / 20);
}
