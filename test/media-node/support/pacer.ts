/** Sends `count` packets at a steady `intervalMs`, as a microphone or a PBX would; `done` resolves when finished or stopped. */
export function pace(count: number, intervalMs: number, send: (index: number) => void): { done: Promise<void>; stop: () => void } {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finish = (): void => {};
  const started = performance.now();
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  let index = 0;
  const tick = (): void => {
    // Catch up after a late timer so the packet rate stays right on a busy machine.
    while (!stopped && index < count && performance.now() - started >= index * intervalMs) send(index++);
    if (stopped || index >= count) return finish();
    timer = setTimeout(tick, Math.max(0, started + index * intervalMs - performance.now()));
  };
  tick();
  return {
    done,
    stop: () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      finish();
    },
  };
}
