/**
 * Tone measurement for audio tests: the Goertzel algorithm evaluates one DFT bin, which is all a
 * test needs to say "this is a 1 kHz tone at about this level". Choose a block length holding a
 * whole number of cycles (1 kHz: 160 samples at 8 kHz, 960 at 48 kHz) so the bin is exact.
 */

/** Peak amplitude (in sample units) of the component of `samples` at `frequency`. */
export function goertzelAmplitude(samples: ArrayLike<number>, sampleRate: number, frequency: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let previous = 0;
  let beforePrevious = 0;
  for (let i = 0; i < samples.length; i++) {
    const current = (samples[i] as number) + coefficient * previous - beforePrevious;
    beforePrevious = previous;
    previous = current;
  }
  const power = previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious;
  return (2 * Math.sqrt(Math.max(power, 0))) / samples.length;
}

export function rms(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += (samples[i] as number) ** 2;
  return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length);
}

/** Level of a sine's peak amplitude relative to a full-scale 16-bit sine, in dB. */
export function dbfs(amplitude: number): number {
  return 20 * Math.log10(amplitude / 32767);
}

/**
 * The share of the signal's power at `frequency`: 1 for a pure tone, near 0 for silence or noise.
 * (A sine of peak A has RMS A / sqrt(2).)
 */
export function tonePurity(samples: ArrayLike<number>, sampleRate: number, frequency: number): number {
  const total = rms(samples);
  if (total === 0) return 0;
  return (goertzelAmplitude(samples, sampleRate, frequency) / Math.SQRT2 / total) ** 2;
}

export interface ToneReport {
  readonly frequency: number;
  readonly amplitude: number;
  readonly levelDbfs: number;
  readonly purity: number;
}

export function measureTone(samples: ArrayLike<number>, sampleRate: number, frequency: number): ToneReport {
  const amplitude = goertzelAmplitude(samples, sampleRate, frequency);
  return { frequency, amplitude, levelDbfs: dbfs(amplitude), purity: tonePurity(samples, sampleRate, frequency) };
}
