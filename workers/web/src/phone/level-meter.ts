/**
 * In-call audio level meters: a WebAudio AnalyserNode on a MediaStream, its RMS level shown in a
 * <meter> (0..1, scaled so speech fills about half) with a fast rise and a slow fall, as a VU
 * meter does, so short sounds stay visible long enough to read.
 */
const FALL_PER_SECOND = 0.6;
/** About 16 readings a second: smooth enough for the eye, and it keeps running in a background tab. */
const TICK_MS = 60;

export class LevelMeter {
  readonly #element: HTMLMeterElement;
  #source: MediaStreamAudioSourceNode | undefined;
  #analyser: AnalyserNode | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #level = 0;
  #last = 0;

  constructor(element: HTMLMeterElement) {
    this.#element = element;
  }

  attach(context: AudioContext, stream: MediaStream): void {
    this.detach();
    if (stream.getAudioTracks().length === 0) return;
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    const source = context.createMediaStreamSource(stream);
    source.connect(analyser);
    this.#source = source;
    this.#analyser = analyser;
    const samples = new Float32Array(analyser.fftSize);
    this.#last = performance.now();
    const tick = (): void => {
      const now = performance.now();
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      const rms = Math.sqrt(sum / samples.length);
      const instant = Math.min(1, rms * 4);
      const fallen = this.#level - ((now - this.#last) / 1000) * FALL_PER_SECOND;
      this.#last = now;
      this.#level = Math.max(instant, fallen, 0);
      this.show(this.#level);
    };
    this.#timer = setInterval(tick, TICK_MS);
  }

  detach(): void {
    clearInterval(this.#timer);
    this.#source?.disconnect();
    this.#analyser?.disconnect();
    this.#source = undefined;
    this.#analyser = undefined;
    this.#level = 0;
    this.show(0);
  }

  private show(level: number): void {
    this.#element.value = level;
    this.#element.textContent = `${Math.round(level * 100)} %`;
  }
}
