/**
 * Tones made with WebAudio, so the page downloads no sound file: the ring of an incoming call
 * (440 + 480 Hz, 2 s on and 4 s off, as North American ringing) and short DTMF key feedback
 * (the key's two ITU-T Q.23 frequencies for 120 ms). The AudioContext is created on the first
 * user gesture (sign-in), as browsers' autoplay rules want.
 */
const DTMF: Readonly<Record<string, readonly [number, number]>> = {
  '1': [697, 1209], '2': [697, 1336], '3': [697, 1477], A: [697, 1633],
  '4': [770, 1209], '5': [770, 1336], '6': [770, 1477], B: [770, 1633],
  '7': [852, 1209], '8': [852, 1336], '9': [852, 1477], C: [852, 1633],
  '*': [941, 1209], '0': [941, 1336], '#': [941, 1477], D: [941, 1633],
};

export class Tones {
  #context: AudioContext | undefined;
  #ringing: { readonly gain: GainNode; readonly oscillators: readonly OscillatorNode[]; readonly timer: ReturnType<typeof setInterval> } | undefined;

  /** The shared AudioContext (the level meters use it too). */
  context(): AudioContext {
    this.#context ??= new AudioContext();
    if (this.#context.state === 'suspended') void this.#context.resume();
    return this.#context;
  }

  startRinging(): void {
    if (this.#ringing !== undefined) return;
    const context = this.context();
    const gain = context.createGain();
    gain.gain.value = 0;
    gain.connect(context.destination);
    const oscillators = [440, 480].map((frequency) => {
      const oscillator = context.createOscillator();
      oscillator.frequency.value = frequency;
      oscillator.connect(gain);
      oscillator.start();
      return oscillator;
    });
    const cycle = (): void => {
      const now = context.currentTime;
      gain.gain.setValueAtTime(0.12, now);
      gain.gain.setValueAtTime(0, now + 2);
    };
    cycle();
    this.#ringing = { gain, oscillators, timer: setInterval(cycle, 6_000) };
  }

  stopRinging(): void {
    const ringing = this.#ringing;
    if (ringing === undefined) return;
    clearInterval(ringing.timer);
    for (const oscillator of ringing.oscillators) oscillator.stop();
    ringing.gain.disconnect();
    this.#ringing = undefined;
  }

  key(tone: string): void {
    const pair = DTMF[tone];
    if (pair === undefined) return;
    const context = this.context();
    const gain = context.createGain();
    gain.gain.value = 0.08;
    gain.connect(context.destination);
    const end = context.currentTime + 0.12;
    for (const frequency of pair) {
      const oscillator = context.createOscillator();
      oscillator.frequency.value = frequency;
      oscillator.connect(gain);
      oscillator.start();
      oscillator.stop(end);
    }
    setTimeout(() => gain.disconnect(), 300);
  }
}
